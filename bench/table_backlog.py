"""A table's backlog: how fast one table's outbox of waiting comments drains into a
real server (``townhall serve`` in its own process, pinned apart from this client),
as after a server restart or a wifi outage. The table client keeps 50 comments in
flight; the server's connection passes up to 8 at a time to the group commit.

    .venv/bin/python bench/table_backlog.py --db sqlite
    .venv/bin/python bench/table_backlog.py --db postgres   # 127.0.0.1:5432, trust

Target: 200 waiting comments acked within 10 s (the bound of the table client's
kill -9 test, tests/table_client/test_table_live.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pinning import add_pinning, load_average, pin  # noqa: E402
from table_client.outbox import State  # noqa: E402
from tests.support.database import postgres_database  # noqa: E402
from tests.support.example import load_example  # noqa: E402
from tests.support.server import LiveServer, start_server  # noqa: E402
from tests.support.table import sender_for, settled, until_sender  # noqa: E402

TARGET_S = 10.0


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp / 'backlog.db'}"


async def drain(server: LiveServer, token: str, tmp: Path, n: int) -> float:
    sender = sender_for(server, token, tmp / "outbox.sqlite3")
    sender.outbox.add_many([(f"waiting comment {i}", None, False, None) for i in range(n)])
    start = time.perf_counter()
    task = asyncio.create_task(sender.run())
    try:
        await until_sender(sender, settled(sender), within=600)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    took = time.perf_counter() - start
    acked = sum(c.state is State.ACKED for c in sender.outbox.all())
    sender.outbox.close()
    assert acked == n, f"{acked} of {n} acked"
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--comments", type=int, default=200)
    add_pinning(ap)
    args = ap.parse_args()
    pin(args)
    with tempfile.TemporaryDirectory() as d, database(args.db, Path(d)) as url:
        tmp = Path(d)
        tokens = load_example(url)
        env = {"TOWNHALL_LOG_LEVEL": "warning"}
        proc, base = start_server(url, tmp / "server.log", env)
        try:
            if args.server_cpus:
                subprocess.run(["taskset", "-a", "-p", "-c", args.server_cpus, str(proc.pid)],
                               check=True, capture_output=True)
            server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc,
                                tmp / "server.log", url, env)
            took = asyncio.run(drain(server, tokens.tables[4], tmp, args.comments))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"{args.db}: {args.comments} comments from one table acked in {took:.2f} s "
          f"({args.comments / took:.0f}/s); target ≤ {TARGET_S:.0f} s for 200: "
          f"ratio {took * 200 / args.comments / TARGET_S:.2f}; {load_average()}")


if __name__ == "__main__":
    main()
