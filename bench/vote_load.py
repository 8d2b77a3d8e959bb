"""Vote load on real server processes: N phones connected, V votes spread
over a window, D displays watching (the keypad issue's targets).

    python bench/vote_load.py --phones 5000 --votes 5000 --window 10 --displays 10
    python bench/vote_load.py --workers 2 --db postgresql+asyncpg://postgres@127.0.0.1/test ...

Starts its own server on a fresh database (SQLite unless --db), joins the
phones as real ones do (POST /api/join at one of the event's sites, open the
socket, answer the demographic questions; timed: the hall filling), then runs
``server.cli.loadtest``: a poll opens (timed until every phone has heard), the
votes go out, the screens watch. ``--preloaded`` creates the participants in
the database instead, to measure the vote alone. Prints the join time,
sent/acked/duplicate/lost counts, percentiles, ratios to the targets and the
server processes' RSS. The server runs on CPU 0 and this generator on CPU 1
(``--server-cpus`` / ``--load-cpus``); the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meters import Meters, Snapshot, report  # noqa: E402
from phones import join_and_answer  # noqa: E402
from pinning import add_pinning, load_average, pin  # noqa: E402
from websockets.asyncio.client import ClientConnection  # noqa: E402

from server.cli.loadtest import run_load  # noqa: E402
from server.storage.db import Database  # noqa: E402
from server.storage.models import Participant  # noqa: E402
from server.storage.tokens import issue  # noqa: E402
from tests.support.database import postgres_database  # noqa: E402
from tests.support.example import load_example  # noqa: E402
from tests.support.server import free_port  # noqa: E402


def rss_mib(pid: int) -> float:
    """RSS of a process and its children (uvicorn workers), in MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int, which: str = "both") -> float:
    """CPU time (user + system, or ``which`` of them) the server processes have
    used: unlike latencies on a shared machine, it does not depend on what the
    neighbours are doing."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])
        ticks += {"user": user, "system": system}.get(which, user + system)
    return ticks / os.sysconf("SC_CLK_TCK")


def waited_seconds(pid: int) -> float:
    """Time the server's event loop (its main thread) spent runnable but waiting
    for a core (/proc/PID/schedstat): on a shared machine, what the neighbours took."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


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


def start(db_url: str, args: argparse.Namespace, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TOWNHALL_THEMING": "false", "TOWNHALL_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    if args.server_cpus:
        cmd = ["taskset", "-c", args.server_cpus, *cmd]
    if args.workers > 1:
        cmd += ["--workers", str(args.workers), "--hub", args.hub]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            time.sleep(2 if args.workers > 1 else 0)  # let every worker come up
            return proc, base
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(log.read_text())


async def join_phones(
    args: argparse.Namespace, proc: subprocess.Popen[bytes], base: str, tokens: Any, meters: Meters
) -> tuple[list[ClientConnection], Snapshot, Snapshot]:
    """The hall filling: every phone joins and answers; prints what it cost, and
    returns the open sockets with the meters' snapshots before and after."""
    cpu, system = cpu_seconds(proc.pid), cpu_seconds(proc.pid, "system")
    mine, waited = time.process_time(), waited_seconds(proc.pid)
    before = meters.snapshot()
    phones, joined = await join_and_answer(
        base, tokens.code, args.phones, list(tokens.site_displays)
    )
    after = meters.snapshot()
    for line in joined.summary():
        print(line, flush=True)
    used = cpu_seconds(proc.pid) - cpu
    per_phone = used / max(1, args.phones - joined.failures) * 1000
    print(
        f"server CPU for the joins: {used:.1f} s ({per_phone:.1f} ms per phone; "
        f"~{per_phone * 5000 / 1000 / 30:.2f} of a core for 5,000 in 30 s; "
        f"{cpu_seconds(proc.pid, 'system') - system:.1f} s of it in the kernel); "
        f"its event loop waited {waited_seconds(proc.pid) - waited:.1f} s for its "
        "core, taken by other processes",
        flush=True,
    )
    print(
        f"load generator CPU for the joins: {time.process_time() - mine:.1f} s; "
        f"server RSS with {len(phones)} phones joined: {rss_mib(proc.pid):.0f} MiB"
    )
    return phones, before, after


async def main_async(args: argparse.Namespace, db_url: str) -> None:
    tokens = await asyncio.to_thread(load_example, db_url)
    preloaded = []
    if args.preloaded:
        preloaded = await make_participants(db_url, tokens.event_id, args.phones)
    log = Path(tempfile.mkdtemp(prefix="townhall-bench-")) / "server.log"
    proc, base = start(db_url, args, log)
    print(
        f"server on {base} ({args.workers} process(es), {db_url.split(':')[0]}), "
        f"idle RSS {rss_mib(proc.pid):.0f} MiB",
        flush=True,
    )
    try:
        port, hub = int(base.rsplit(":", 1)[1]), args.hub if args.workers > 1 else None
        with Meters(proc.pid, port, db_url, hub) as meters:
            await measured_run(args, proc, base, tokens, preloaded, meters)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


async def measured_run(
    args: argparse.Namespace,
    proc: subprocess.Popen[bytes],
    base: str,
    tokens: Any,
    preloaded: list[str],
    meters: Meters,
) -> None:
    phones = None
    if not args.preloaded:
        phones, before, after = await join_phones(args, proc, base, tokens, meters)
        settled = None
        if args.settle:
            print(f"  waiting {args.settle:g} s (--settle)", flush=True)
            await asyncio.sleep(args.settle)
            settled = meters.snapshot() if meters.pg is not None else None
        for line in report("the joins", before, after, len(phones), "phone", settled):
            print(line, flush=True)
        if args.joins_only:
            print(f"after the joins: {load_average()}")
            return
    marks: dict[str, float] = {}
    snaps: dict[str, Snapshot] = {}

    def progress(message: str) -> None:
        print(f"  {message}", flush=True)
        if message.startswith(("voting:", "votes done")):
            marks[message[:6]] = cpu_seconds(proc.pid)
            snaps[message[:6]] = meters.snapshot()

    result = await run_load(
        base,
        producer_token=tokens.producer,
        display_token=tokens.display,
        phone_tokens=preloaded,
        phones=phones,
        votes=args.votes,
        window=args.window,
        displays=args.displays,
        progress=progress,
    )
    for line in result.summary():
        print(line)
    print(
        f"server CPU while voting: {marks['votes '] - marks['voting']:.1f} s "
        f"for {result.sent} votes"
    )
    # As the votes were done, before the phones' sockets closed.
    web = [p for p in snaps["votes "].procs.values() if p.label.startswith("web")]
    largest = max(p.rss_mib for p in web)
    print(
        f"server RSS with {result.phones} phones connected: {rss_mib(proc.pid):.0f} MiB "
        f"in all; the largest web process {largest:.0f} MiB with "
        f"{max(p.clients for p in web)} clients (target <= 400 per process with 5,000 "
        f"phones: ratio {largest / 400:.2f})"
    )
    settled = None
    if args.settle and meters.pg is not None:
        await asyncio.sleep(args.settle)  # pg_stat_database lags by up to 10 s
        settled = meters.snapshot()
    for line in report(
        "the vote burst", snaps["voting"], snaps["votes "], result.acked, "vote", settled
    ):
        print(line)
    print(f"after the run: {load_average()}")


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
    ap.add_argument(
        "--preloaded",
        action="store_true",
        help="create the participants in the database instead of joining them over HTTP "
        "with their demographic answers (measures the vote alone)",
    )
    ap.add_argument(
        "--joins-only",
        action="store_true",
        help="stop after the phones have joined (the hall filling), without the vote",
    )
    ap.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after the joins before the poll opens, and after the votes "
        "before PostgreSQL's counters are read (they lag by up to 10 s); 0: no wait",
    )
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--hub", default="redis://127.0.0.1:6379")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    add_pinning(ap)
    args = ap.parse_args()
    pin(args)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.db == "postgres":
        with postgres_database() as url:
            asyncio.run(main_async(args, url))
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='townhall-bench-')}/bench.db"
        asyncio.run(main_async(args, url))


if __name__ == "__main__":
    main()
