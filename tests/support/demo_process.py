"""``townhall serve --demo`` as a person starts it: its own process in a temporary
folder (where it writes demo-data/), on a free port, stopped with Ctrl+C. Used by
the demo's CLI tests (tests/cli/test_demo.py, with the fast hashing embedder) and its
browser test (tests/browser/test_demo_themes.py, with the real model)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.example import ROOT
from tests.support.server import free_port


def scalar(db: Path, sql: str) -> int:
    """One number from the demo's database, 0 while it does not exist yet."""
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def count(db: Path, table: str) -> int:
    return scalar(db, f"SELECT count(*) FROM {table}")


def polls(db: Path) -> list[tuple[int, str]]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return list(conn.execute("SELECT id, status FROM poll ORDER BY id"))
    except sqlite3.OperationalError:  # not created yet
        return []


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    db: Path
    data: Path
    started: float  # time.monotonic() when the process was started

    def wait_until(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if condition():
                return
            time.sleep(0.5)
        raise AssertionError(f"{what} in {seconds:.0f} s:\n{self.log.read_text()[-3000:]}")

    def links(self) -> dict[str, str]:
        """links.txt as role -> URL (the first URL on each line)."""
        out = {}
        for line in (self.data / "links.txt").read_text().splitlines():
            role, _, rest = line.partition(": ")
            out[role] = rest.split()[0]
        return out


@contextlib.contextmanager
def running_demo(
    tmp_path: Path,
    *args: str,
    port: int | None = None,
    embedder: str = "hashing",
    **env_extra: str,
) -> Iterator[Demo]:
    """`townhall serve --demo` in tmp_path (where it writes demo-data/), stopped with Ctrl+C.
    ``embedder``: "hashing" (fast, for tests about something else) or "minilm" (the real
    model, as ``make demo`` runs it)."""
    port = port or free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOWNHALL_TALLY_INTERVAL": "0.2", **env_extra}
    cmd = [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)]
    cmd += ["--embedder", embedder, *args]
    log = tmp_path / f"demo-{port}.log"
    with log.open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    data = tmp_path / "demo-data"
    try:
        yield Demo(proc, port, log, data / "demo.db", data, started)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
