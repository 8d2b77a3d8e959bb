"""A venue's wifi comes back: every table laptop reconnects at once and asks for
its hello, which carries the table's stored comments (up to 300) so a laptop
that was off, or a second laptop at the table, shows the whole list.

    python bench/table_reconnect.py --tables 500 --comments 60 [--window 1]

First each of the T tables sends C comments through its websocket (50 in
flight, as the table client does) to a real ``townhall serve`` pinned apart
from this generator, with theming off (it runs in a process of its own and
is not on the hello's path; ``--theming on`` keeps it). Then every socket
closes, and all T reconnect within ``--window`` seconds. For each table: the
time from its connect to its hello (checked: ``last_seq`` is C and the list
holds min(C, 300) comments), and to the ack of one comment it had waiting,
sent as soon as the hello came (as the client resends its outbox). There is
no DESIGN target for the storm itself; the bound it eats into is "table
laptop offline 30 min, 200 comments: all delivered within 10 s of
reconnect", so the figures are printed as ratios to 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from comment_load import EVENT, cpu_all, processes, start_server, texts
from meters import rss_mib
from pinning import add_pinning, load_average, pin
from websockets.asyncio.client import connect

from server.cli.loadtest import percentile
from tests.support.example import load_example

BOUND_S = 10.0
IN_FLIGHT = 50
HELLO_LIST = 300  # the most comments a table's hello carries (docs/protocol.md)


async def fill(url: str, table: int, count: int, bodies: list[str]) -> None:
    """Send ``count`` comments for one table, ``IN_FLIGHT`` unacked at a time."""
    async with connect(url) as ws:
        first = json.loads(await ws.recv())["last_seq"] + 1
        room = asyncio.Semaphore(IN_FLIGHT)
        done = asyncio.Event()
        acked = 0

        async def read() -> None:
            nonlocal acked
            async for raw in ws:
                if json.loads(raw)["type"] == "ack":
                    acked += 1
                    room.release()
                    if acked == count:
                        done.set()
                        return

        reader = asyncio.create_task(read())
        for k in range(count):
            await room.acquire()
            text = f"{bodies[(table * count + k) % len(bodies)]} (table {table}, #{k + 1})"
            msg = {"type": "comment", "id": str(uuid.uuid4()), "seq": first + k, "text": text}
            await ws.send(json.dumps(msg))
        await done.wait()
        await reader


async def reconnect(url: str, at: float, count: int) -> dict[str, Any]:
    """One laptop back on the wifi at ``at``: its hello, then its waiting comment."""
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    async with connect(url, max_size=2**24) as ws:
        raw = await ws.recv()
        hello_s = time.perf_counter() - at
        hello = json.loads(raw)
        mid = str(uuid.uuid4())
        text = "The comment typed while the wifi was down"
        await ws.send(
            json.dumps({"type": "comment", "id": mid, "seq": hello["last_seq"] + 1, "text": text})
        )
        async for reply in ws:
            msg = json.loads(reply)
            if msg.get("id") == mid:
                break
        return {
            "hello_s": hello_s,
            "ack_s": time.perf_counter() - at,
            "acked": msg["type"] == "ack",
            "bytes": len(raw),
            "complete": hello["last_seq"] == count
            and len(hello["comments"]) == min(count, HELLO_LIST),
        }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    hello = [r["hello_s"] for r in results]
    ack = [r["ack_s"] for r in results]
    complete = sum(r["complete"] for r in results)
    print(
        f"tables {len(results)}, each with {args.comments} stored comments; hellos complete "
        f"(last_seq and list) {complete} of {len(results)}; waiting comments acked "
        f"{sum(r['acked'] for r in results)}; hello size mean "
        f"{sum(r['bytes'] for r in results) / len(results) / 1024:.0f} KiB"
    )
    for name, values in (("connect->hello", hello), ("connect->waiting comment acked", ack)):
        p50, p95, top = percentile(values, 50), percentile(values, 95), max(values)
        print(
            f"{name} s: p50 {p50:.2f}  p95 {p95:.2f}  max {top:.2f}  "
            f"(bound {BOUND_S:.0f} s: ratio p95 {p95 / BOUND_S:.2f}, max {top / BOUND_S:.2f})"
        )


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="townhall-reconnect-"))
    event = tmp / "event.toml"
    event.write_text(EVENT.format(tables=args.tables))
    db_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    tokens = await asyncio.to_thread(load_example, db_url, event)
    theming = args.theming == "on"
    proc, base = await asyncio.to_thread(start_server, db_url, args, theming, tmp / "server.log")
    urls = [f"{base}/ws/table?token={t}" for _, t in sorted(tokens.tables.items())]
    try:
        bodies = texts(2000)
        started = time.perf_counter()
        filling = asyncio.Semaphore(100)  # tables filling at once

        async def one(i: int, url: str) -> None:
            async with filling:
                await fill(url, i, args.comments, bodies)

        await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))
        stored = len(urls) * args.comments
        print(
            f"stored {stored} comments in {time.perf_counter() - started:.0f} s; "
            f"{load_average()}",
            flush=True,
        )
        await asyncio.sleep(2.0)  # every socket closed; the server idle
        cpu_before = cpu_all(proc.pid)
        start = time.perf_counter() + 0.5
        ats = [start + args.window * i / len(urls) for i in range(len(urls))]
        results = await asyncio.gather(
            *(reconnect(u, at, args.comments) for u, at in zip(urls, ats, strict=True))
        )
        cpu_after = cpu_all(proc.pid)
        report(list(results), args)
        rss = "; ".join(f"{r} {rss_mib(p):.0f} MiB" for r, p in processes(proc.pid).items())
        cpu = "; ".join(f"{r} {cpu_after[r] - b:.1f}" for r, b in cpu_before.items())
        print(f"server CPU s in the storm: {cpu}; RSS after: {rss}; {load_average()}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--comments", type=int, default=60, help="stored per table before the storm")
    ap.add_argument("--window", type=float, default=1.0, help="seconds over which all reconnect")
    ap.add_argument("--theming", choices=["on", "off"], default="off")
    ap.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    add_pinning(ap)
    args = ap.parse_args()
    args.theming_cpus, args.theming_in_process = "", False  # as comment_load's server takes them
    pin(args)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
