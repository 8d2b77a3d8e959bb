"""Comment load: T tables each send one comment within one second (the table
client issue's target: all acked, p99 <= 500 ms), and how long until each
comment sits in a theme on a theme-team connection (DESIGN: p95 <= 3 s).

    python bench/comment_load.py --tables 500 --window 1 [--embedder minilm|hashing]
        [--theming both|on|off]

With ``--theming both`` (the default) it runs twice on fresh servers, theming
off then on, and prints the ratio of the two ack p99s (target <= 1.5). The
server runs on CPU 0 and this generator on CPU 1 (``--server-cpus`` /
``--load-cpus``); the load average and the server's RSS are printed.

Latencies run from each comment's scheduled send time. Real comments from
../shared/data/polis-bowling-green.csv (or the shipped sample).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinning import add_pinning, load_average, pin  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from server.cli.loadtest import percentile  # noqa: E402
from tests.support.example import SHARED_DATA, load_example  # noqa: E402
from tests.support.server import free_port  # noqa: E402

EVENT = """title = "Comment load bench"
slug = "comment-bench"
code = "BENCH1"
[[sites]]
key = "hall"
name = "Hall"
tables = {tables}
[[rounds]]
key = "r1"
title = "Round one"
[[rounds.questions]]
key = "q1"
text = "What should change to make the town a better place to live?"
"""


def texts(n: int) -> list[str]:
    source = SHARED_DATA / "polis-bowling-green.csv"
    if not source.exists():
        source = ROOT / "server" / "examples" / "sample-comments.csv"
    with source.open(encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f)]
    return [rows[i % len(rows)] for i in range(n)]


def start_server(
    db_url: str, args: argparse.Namespace, theming: bool, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TOWNHALL_EMBEDDER": args.embedder,
        "TOWNHALL_LOG_LEVEL": "warning",
        "TOWNHALL_THEMING": "true" if theming else "false",
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    if args.server_cpus:
        cmd = ["taskset", "-c", args.server_cpus, *cmd]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc, f"ws://127.0.0.1:{port}"


def rss_mib(pid: int) -> float:
    """RSS of the server process and its children, in MiB."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def run(args: argparse.Namespace, theming: bool) -> float:
    """One run on a fresh server; returns the ack p99 in ms."""
    tmp = Path(tempfile.mkdtemp(prefix="townhall-bench-"))
    event = tmp / "event.toml"
    event.write_text(EVENT.format(tables=args.tables))
    db_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    tokens = await asyncio.to_thread(load_example, db_url, event)
    proc, base = await asyncio.to_thread(start_server, db_url, args, theming, tmp / "server.log")
    print(f"-- theming {'on' if theming else 'off'}; {load_average()}", flush=True)
    try:
        p99 = await measure(args, tokens, base, theming)
        print(f"server RSS after the run: {rss_mib(proc.pid):.0f} MiB; {load_average()}")
        return p99
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


async def measure(args: argparse.Namespace, tokens: object, base: str, theming: bool) -> float:
    tables = sorted(tokens.tables.items())  # type: ignore[attr-defined]
    team = await connect(f"{base}/ws/team?token={tokens.team}", max_size=2**26)  # type: ignore[attr-defined]
    await team.recv()
    if theming and args.embedder == "minilm":
        # Load the model before the clock starts, as a real meeting's warm-up would.
        warm = await connect(f"{base}/ws/table?token={tables[0][1]}")
        await warm.recv()
        await warm.send(
            json.dumps(
                {"type": "comment", "id": str(uuid.uuid4()), "seq": 1, "text": "warm-up comment"}
            )
        )
        while json.loads(await warm.recv())["type"] != "ack":
            pass
        while json.loads(await team.recv())["type"] != "themes":
            pass
        await warm.close()
    conns = await asyncio.gather(*(connect(f"{base}/ws/table?token={t}") for _, t in tables))
    hellos = await asyncio.gather(*(c.recv() for c in conns))
    seqs = [json.loads(h)["last_seq"] + 1 for h in hellos]
    bodies = texts(len(conns))
    start = time.perf_counter() + 0.5
    scheduled = [start + args.window * i / len(conns) for i in range(len(conns))]
    acked: dict[int, float] = {}
    cid_of: dict[int, int] = {}

    async def send(i: int) -> None:
        await asyncio.sleep(max(0.0, scheduled[i] - time.perf_counter()))
        mid = str(uuid.uuid4())
        await conns[i].send(
            json.dumps({"type": "comment", "id": mid, "seq": seqs[i], "text": bodies[i]})
        )
        while True:
            msg = json.loads(await conns[i].recv())
            if msg.get("id") == mid and msg["type"] == "ack":
                acked[i] = time.perf_counter()
                cid_of[msg["comment_id"]] = i
                return

    themed: dict[int, float] = {}

    async def watch() -> None:
        while len(themed) < len(conns):
            msg = json.loads(await team.recv())
            if msg["type"] != "themes":
                continue
            now = time.perf_counter()
            for cid in [m for t in msg["themes"] for m in t["members"]] + msg["unassigned"]:
                if cid in cid_of and cid_of[cid] not in themed:
                    themed[cid_of[cid]] = now

    watcher = asyncio.create_task(watch()) if theming else None
    await asyncio.gather(*(send(i) for i in range(len(conns))))
    try:
        if watcher is not None:
            async with asyncio.timeout(120):
                await watcher
    except TimeoutError:
        pass
    ack_ms = [(acked[i] - scheduled[i]) * 1000 for i in acked]
    theme_s = [themed[i] - scheduled[i] for i in themed]
    print(
        f"tables {len(conns)}, comments sent {len(conns)}, acked {len(acked)}, "
        f"lost {len(conns) - len(acked)}; embedder {args.embedder}"
    )
    print(
        f"comment->ack ms: p50 {percentile(ack_ms, 50):.0f}  p99 {percentile(ack_ms, 99):.0f}  "
        f"(target p99<=500: ratio {percentile(ack_ms, 99) / 500:.2f})"
    )
    if theming:
        print(
            f"comment->placed on the workbench s: p50 {percentile(theme_s, 50):.2f}  "
            f"p95 {percentile(theme_s, 95):.2f}  ({len(themed)} of {len(conns)} seen; "
            f"target p95<=3: ratio {percentile(theme_s, 95) / 3:.2f})"
        )
    for c in [*conns, team]:
        await c.close()
    return percentile(ack_ms, 99)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    ap.add_argument("--theming", choices=["both", "on", "off"], default="both")
    add_pinning(ap)
    args = ap.parse_args()
    pin(args)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.theming != "both":
        asyncio.run(run(args, args.theming == "on"))
        return
    off = asyncio.run(run(args, False))
    on = asyncio.run(run(args, True))
    print(
        f"ack p99 theming on / off: {on:.0f} / {off:.0f} ms = {on / off:.2f} "
        f"(target <= 1.5: ratio {on / off / 1.5:.2f})"
    )


if __name__ == "__main__":
    main()
