"""Comment load: T tables each send one comment within one second (the table
client issue's target: all acked, p99 <= 500 ms), and how long until each
comment shows on a theme-team connection: first on the workbench at all (in a
theme or among the unassigned; issue 19's "placed"), then in a theme (DESIGN:
p95 <= 3 s; a comment never put in a theme within 60 s counts as never). The
question is fresh, as when the room first answers it: its first themes come
from the burst itself.

    python bench/comment_load.py --tables 500 --window 1 [--embedder minilm|hashing]
        [--theming both|on|off] [--theming-cpus 1] [--theming-in-process]

With ``--theming both`` (the default) it runs twice on fresh servers, theming
off then on, and prints the ratio of the two ack p99s (target <= 1.5). The
server runs on CPU 0 and this generator on CPU 1 (``--server-cpus`` /
``--load-cpus``); ``serve``'s theming process runs where the server does unless
``--theming-cpus`` says otherwise. The load average is printed, and for each of
the server's processes (web, theming) its RSS and the CPU time it used from
the first comment until the question settled: unlike the latencies, CPU time
does not depend on what else the machine runs.

Latencies run from each comment's scheduled send time. Real comments from
../shared/data/polis-bowling-green.csv (or the shipped sample).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import math
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meters import rss_mib  # noqa: E402
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
        "TOWNHALL_THEMING_CPUS": args.theming_cpus,
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    if args.theming_in_process:
        cmd.append("--theming-in-process")
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


def processes(pid: int) -> dict[str, int]:
    """The server's processes by role: ``web`` (``pid``) and its children (any
    thread may have started them), named by their command line."""
    found = {"web": pid}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found["theming" if b"theming-worker" in cmdline else f"child {entry.name}"] = int(
                entry.name
            )
    return found


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_all(pid: int) -> dict[str, float]:
    return {role: cpu_s(p) for role, p in processes(pid).items()}


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
        p99 = await measure(args, tokens, base, theming, proc.pid)
        rss = "; ".join(f"{r} {rss_mib(p):.0f} MiB" for r, p in processes(proc.pid).items())
        print(f"RSS after the run: {rss}; {load_average()}")
        return p99
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


SETTLED = 5.0  # seconds without a themes message: the question has settled
SETTLE_CAP = 60.0


async def read_themes(
    team: Any, cid_of: dict[int, int], listed: dict[int, float], members: dict[int, float]
) -> None:
    """Read one message from the team's socket; note when each comment first
    shows on the workbench (``listed``) and first in a theme (``members``)."""
    msg = json.loads(await team.recv())
    if msg["type"] != "themes":
        return
    now = time.perf_counter()
    in_themes = [m for t in msg["themes"] for m in t["members"]]
    for cid in in_themes + msg["unassigned"]:
        if cid in cid_of:
            listed.setdefault(cid_of[cid], now)
    for cid in in_themes:
        if cid in cid_of:
            members.setdefault(cid_of[cid], now)


async def measure(
    args: argparse.Namespace, tokens: object, base: str, theming: bool, pid: int
) -> float:
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

    themed: dict[int, float] = {}  # on the workbench: in a theme or in its unassigned list
    in_theme: dict[int, float] = {}  # in a theme

    async def watch() -> None:
        while len(themed) < len(conns):
            await read_themes(team, cid_of, themed, in_theme)
        # Then until the question settles: the unassigned go into themes at re-clusters.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_CAP):
                while len(in_theme) < len(conns):
                    async with asyncio.timeout(SETTLED):
                        await read_themes(team, cid_of, themed, in_theme)

    watcher = asyncio.create_task(watch()) if theming else None
    cpu_before = cpu_all(pid)
    print(f"  {len(conns)} tables connected; sending", flush=True)
    await asyncio.gather(*(send(i) for i in range(len(conns))))
    cpu_acked = cpu_all(pid)
    try:
        if watcher is not None:
            async with asyncio.timeout(120):
                await watcher
    except TimeoutError:
        pass
    cpu_after = cpu_all(pid)
    ack_ms = [(acked[i] - scheduled[i]) * 1000 for i in acked]
    theme_s = [themed[i] - scheduled[i] for i in themed]
    # A comment never put in a theme counts as later than any: the p95 is over all.
    member_s = [in_theme[i] - scheduled[i] if i in in_theme else math.inf for i in acked]
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
        print(
            f"comment->in a theme s: p50 {percentile(member_s, 50):.2f}  "
            f"p95 {percentile(member_s, 95):.2f}  ({len(in_theme)} of {len(conns)} in a theme "
            f"within {SETTLED:.0f} s of quiet, the rest counted as never; DESIGN: p95<=3: ratio "
            f"{percentile(member_s, 95) / 3:.2f})"
        )
    print(
        "server CPU s, until the last ack / until the question settled: "
        + "; ".join(
            f"{role} {cpu_acked[role] - cpu_before[role]:.1f} / {cpu_after[role] - before:.1f}"
            for role, before in cpu_before.items()
        )
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
    ap.add_argument(
        "--theming-cpus",
        default="",
        help="CPUs for serve's theming process (TOWNHALL_THEMING_CPUS; '': the server's)",
    )
    ap.add_argument(
        "--theming-in-process",
        action="store_true",
        help="theme in the web process (serve --theming-in-process)",
    )
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
