"""`townhall serve --demo` comes alive: links printed, tables typing, phones voting."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, free_port


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_demo_prints_every_link_and_the_room_comes_alive(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOWNHALL_TALLY_INTERVAL": "0.2"}
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
    db = tmp_path / "demo-data" / "demo.db"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            if count(db, "comment") >= 5 and count(db, "vote") >= 5 and count(db, "theme") >= 1:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the demo did not come alive in 90 s:\n{log.read_text()}")
        text = log.read_text()
        for page in ("/join", "/screen?token=", "/producer?token=", "/team?token=", "/t/"):
            assert f"http://127.0.0.1:{port}{page}" in text, page
        assert "Demo running" in text
        links = (tmp_path / "demo-data" / "links.txt").read_text()
        assert links.count("/t/") == 16  # every table's link is kept for the organiser
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_demo_runs_the_whole_agenda_and_one_command_reports_it(tmp_path: Path) -> None:
    """The whole example agenda at 10x speed: every poll (budgets and the poll
    asked twice included) gets votes, the evaluation opens, and the report made
    mid-meeting shows the shift, the budgets and the per-table synthesis check."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TOWNHALL_DEMO_PACE": "0.1",
        "TOWNHALL_TALLY_INTERVAL": "0.2",
    }
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
    db = tmp_path / "demo-data" / "demo.db"

    def voted_polls() -> int:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return int(conn.execute("SELECT count(DISTINCT poll_id) FROM vote").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            polls = count(db, "poll")
            if polls and voted_polls() == polls and count(db, "evaluationanswer") >= 10:
                break
            time.sleep(1)
        else:
            raise AssertionError(
                f"the agenda did not complete in 240 s:\n{log.read_text()[-3000:]}"
            )
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
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
