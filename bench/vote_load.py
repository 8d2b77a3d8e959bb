"""Vote load on one real server process: N phones connected, V votes spread
over a window, D displays watching.

Latency is measured from each vote's *scheduled* send time (so a stalled
client cannot hide queueing), to its ack and to the first tally on every
display whose turnout includes it. Prints sent/acked/duplicate/lost counts,
percentiles and the server's RSS.

    python bench/vote_load.py --phones 5000 --votes 5000 --window 10 --displays 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect  # noqa: E402

from server.db import Database  # noqa: E402
from server.models import Participant  # noqa: E402
from server.tokens import issue  # noqa: E402
from tests.conftest import load_example, start_server  # noqa: E402


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def make_participants(db_url: str, event_id: int, n: int) -> list[str]:
    db = Database(db_url)
    tokens = []
    async with db.session() as s:
        for _ in range(n):
            p = Participant(event_id=event_id)
            s.add(p)
            await s.flush()
            tokens.append(await issue(s, event_id, "participant", participant_id=p.id))
        await s.commit()
    await db.dispose()
    return tokens


async def run(args: argparse.Namespace) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = Path(tempfile.mkdtemp(prefix="townhall-bench-"))
    db_url = args.db or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    tokens = await asyncio.to_thread(load_example, db_url)
    phones = await make_participants(db_url, tokens.event_id, args.phones)
    proc, base = start_server(db_url, tmp / "server.log", {"TOWNHALL_LOG_LEVEL": "warning"})
    ws_base = base.replace("http", "ws", 1)
    print(f"server pid {proc.pid}, idle RSS {rss_mib(proc.pid):.0f} MiB", flush=True)
    try:
        await measure(args, tokens, phones, ws_base, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


async def measure(
    args: argparse.Namespace, tokens: Any, phones: list[str], ws_base: str, pid: int
) -> None:
    conns = []
    t0 = time.perf_counter()
    for i in range(0, len(phones), 200):
        batch = phones[i : i + 200]
        conns += await asyncio.gather(
            *(
                connect(f"{ws_base}/ws/phone?token={t}", max_size=2**20, open_timeout=60)
                for t in batch
            )
        )
    await asyncio.gather(*(c.recv() for c in conns))
    print(
        f"{len(conns)} phones connected in {time.perf_counter() - t0:.1f} s; "
        f"server RSS {rss_mib(pid):.0f} MiB",
        flush=True,
    )
    displays = [
        await connect(f"{ws_base}/ws/display?token={tokens.display}", max_size=2**24)
        for _ in range(args.displays)
    ]
    for d in displays:
        await d.recv()
    producer = await connect(f"{ws_base}/ws/producer?token={tokens.producer}", max_size=2**24)
    event = json.loads(await producer.recv())["event"]
    poll = next(p for p in event["polls"] if p["kind"] == "single")
    await producer.send(
        json.dumps({"type": "open_poll", "id": str(uuid.uuid4()), "poll_id": poll["id"]})
    )
    keys = [o["key"] for o in poll["options"]]

    n = min(args.votes, len(conns))
    start = time.perf_counter() + 1.0
    scheduled = [start + args.window * i / n for i in range(n)]
    acks: dict[str, float] = {}
    dup = 0
    sent_at: dict[str, float] = {}
    ids = [str(uuid.uuid4()) for _ in range(n)]
    order = {vid: i for i, vid in enumerate(ids)}

    async def phone(i: int) -> None:
        nonlocal dup
        c = conns[i]
        await asyncio.sleep(max(0.0, scheduled[i] - time.perf_counter()))
        sent_at[ids[i]] = scheduled[i]
        await c.send(
            json.dumps(
                {
                    "type": "vote",
                    "id": ids[i],
                    "poll_id": poll["id"],
                    "seq": 1,
                    "choice": [keys[i % len(keys)]],
                }
            )
        )
        async with asyncio.timeout(60):
            while True:
                msg = json.loads(await c.recv())
                if msg["type"] == "ack" and msg["id"] == ids[i]:
                    if ids[i] in acks:
                        dup += 1
                    acks[ids[i]] = time.perf_counter()
                    return

    seen_turnout: list[list[tuple[int, float]]] = [[] for _ in displays]

    async def display(k: int) -> None:
        d = displays[k]
        while True:
            msg = json.loads(await d.recv())
            if msg["type"] == "tally" and msg["poll"]["id"] == poll["id"]:
                seen_turnout[k].append((msg["result"]["turnout"], time.perf_counter()))
                if msg["result"]["turnout"] >= n:
                    return

    watchers = [asyncio.create_task(display(k)) for k in range(len(displays))]
    results = await asyncio.gather(*(phone(i) for i in range(n)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*watchers)
    except TimeoutError:
        print("some displays never saw the full turnout", flush=True)
    ack_lat = [(acks[v] - sent_at[v]) * 1000 for v in acks]
    # Display latency of vote i: first tally on that display with turnout > i,
    # taking votes in ack order (the order their commits became visible).
    by_ack = sorted(acks, key=lambda v: acks[v])
    disp_lat = []
    for series in seen_turnout:
        j = 0
        for rank, v in enumerate(by_ack):
            while j < len(series) and series[j][0] <= rank:
                j += 1
            if j < len(series):
                disp_lat.append((series[j][1] - sent_at[v]) * 1000)
    print(
        f"votes sent {n}, acked {len(acks)}, duplicate acks {dup}, lost {n - len(acks)}, "
        f"client errors {len(failures)}"
    )
    print(
        f"vote->ack ms: p50 {pct(ack_lat, 50):.1f}  p99 {pct(ack_lat, 99):.1f}  "
        f"max {max(ack_lat, default=0):.1f}"
        f"   (targets p50<=25, p99<=250; ratio p99/target {pct(ack_lat, 99) / 250:.2f})"
    )
    print(
        f"vote->every display ms: p50 {pct(disp_lat, 50):.0f}  p99 {pct(disp_lat, 99):.0f}"
        f"   (target p99<=1000; ratio {pct(disp_lat, 99) / 1000:.2f})"
    )
    print(f"server RSS after load {rss_mib(pid):.0f} MiB (target <= 400 with 5,000 phones)")
    _ = order, statistics


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--phones", type=int, default=5000)
    ap.add_argument("--votes", type=int, default=5000)
    ap.add_argument(
        "--window", type=float, default=10.0, help="seconds over which votes are spread"
    )
    ap.add_argument("--displays", type=int, default=10)
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
