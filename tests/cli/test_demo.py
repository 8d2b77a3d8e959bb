"""`townhall serve --demo` comes alive: links printed, tables typing, phones voting."""

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


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    db: Path

    def wait_until(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if condition():
                return
            time.sleep(0.5)
        raise AssertionError(f"{what} in {seconds:.0f} s:\n{self.log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_demo(tmp_path: Path, **env_extra: str) -> Iterator[Demo]:
    """`townhall serve --demo` in tmp_path (where it writes demo-data/), stopped with Ctrl+C."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOWNHALL_TALLY_INTERVAL": "0.2", **env_extra}
    cmd = [
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--demo",
        "--port",
        str(port),
        "--embedder",
        "hashing",
    ]
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Demo(proc, port, log, tmp_path / "demo-data" / "demo.db")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_demo_prints_every_link_and_the_room_comes_alive(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        db = demo.db
        demo.wait_until(
            lambda: (
                count(db, "comment") >= 5 and count(db, "vote") >= 5 and count(db, "theme") >= 1
            ),
            90,
            "the demo did not come alive",
        )
        text = demo.log.read_text()
        for page in ("/join", "/screen?token=", "/producer?token=", "/team?token=", "/t/"):
            assert f"http://127.0.0.1:{demo.port}{page}" in text, page
        assert "Demo running" in text
        links = (tmp_path / "demo-data" / "links.txt").read_text()
        assert links.count("/t/") == 16  # every table's link is kept for the organiser


def test_demo_runs_the_whole_agenda_and_one_command_reports_it(tmp_path: Path) -> None:
    """The whole example agenda at 10x speed: every poll (budgets and the poll
    asked twice included) gets votes, the evaluation opens, and the report made
    mid-meeting shows the shift, the budgets and the per-table synthesis check."""
    with running_demo(tmp_path, TOWNHALL_DEMO_PACE="0.1") as demo:
        db = demo.db

        def agenda_done() -> bool:
            polls = count(db, "poll")
            voted = scalar(db, "SELECT count(DISTINCT poll_id) FROM vote")
            return bool(polls) and voted == polls and count(db, "evaluationanswer") >= 10

        demo.wait_until(agenda_done, 240, "the agenda did not complete")
        report = tmp_path / "report.html"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "server.cli",
                "report",
                "riverton-budget",
                "--db",
                f"sqlite+aiosqlite:///{db}",
                "--out",
                str(report),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        html = report.read_text()
        for section in (
            "Did minds change?",
            "Budgets",
            "synthesis-check",
            "Methods",
            "What the tables said",
        ):
            assert section in html, section
