"""`townhall serve --demo` comes alive, keeps its terminal for the links, can be
joined from the LAN, resumes the same meeting after a restart, and its autopilot
steps aside once a person acts in the producer console."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

from server.cli.links import lan_address
from server.cli.simulation import SAMPLE
from server.web.pages import qr_svg
from tests.support.demo_process import count, polls, running_demo, scalar
from tests.support.example import ROOT, new_id
from tests.support.live import recv_until


def test_demo_prints_every_link_last_with_the_lan_address_and_the_room_comes_alive(
    tmp_path: Path,
) -> None:
    lan = lan_address()
    with running_demo(tmp_path) as demo:
        db = demo.db
        demo.wait_until(
            lambda: (
                count(db, "comment") >= 5 and count(db, "vote") >= 5 and count(db, "theme") >= 1
            ),
            90,
            "the demo did not come alive",
        )
        base = f"http://{lan}:{demo.port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/join-qr.svg") as r:
            qr = r.read().decode()
        terminal = demo.log.read_text()
    for page in ("/join", "/screen?token=", "/producer?token=", "/team?token=", "/t/"):
        assert f"{base}{page}" in terminal, page
    # The QR code on the screens and in the terminal sends phones to the LAN address.
    assert qr == qr_svg(f"{base}/j/RIVER26")
    assert f"scan to join {base}/j/RIVER26" in terminal
    # Nothing but the links after the links: requests and connections go to the log file.
    after_links = terminal[terminal.index("where to go") :]
    assert "WebSocket" not in terminal and "HTTP/1.1" not in terminal
    assert after_links.strip().splitlines()[-1].startswith("All links in")
    server_log = (demo.data / "server.log").read_text()
    assert "WebSocket /ws/table?token=[redacted]" in server_log and "POST /api/join" in server_log
    links = (demo.data / "links.txt").read_text()
    assert links.count("/t/") == 16  # every table's link is kept for the organiser


def test_tables_type_comments_that_answer_the_question_being_discussed(tmp_path: Path) -> None:
    with running_demo(tmp_path, "--no-autopilot") as demo:
        demo.wait_until(lambda: count(demo.db, "comment") >= 30, 90, "too few comments")
        with sqlite3.connect(demo.db, timeout=5) as conn:
            rows = list(
                conn.execute(
                    "SELECT q.key, c.text FROM comment c JOIN question q ON q.id = c.question_id"
                )
            )
        assert polls(demo.db) and all(status == "draft" for _, status in polls(demo.db))
    with SAMPLE.open(encoding="utf-8") as f:
        sample = {(r["question"], r["text"]) for r in csv.DictReader(f)}
    assert len(rows) >= 30 and all(row in sample for row in rows)


def test_a_restarted_demo_finds_the_same_meeting_and_links_and_fresh_starts_over(
    tmp_path: Path,
) -> None:
    with running_demo(tmp_path, "--no-autopilot") as demo:
        demo.wait_until(lambda: count(demo.db, "comment") >= 5, 90, "no comments")
        demo.wait_until(lambda: count(demo.db, "participant") >= 60, 90, "phones missing")
        first = demo.links()
    comments = count(demo.db, "comment")
    with running_demo(tmp_path, "--no-autopilot", port=demo.port) as again:
        again.wait_until(lambda: count(again.db, "comment") > comments + 5, 90, "no new comments")
        assert again.links() == first
        with urllib.request.urlopen(first["producer"].replace(lan_address(), "127.0.0.1")) as r:
            assert r.status == 200  # the old producer link still works
        assert "Resumed the demo meeting" in again.log.read_text()
        assert count(again.db, "event") == 1
        assert count(again.db, "participant") == 60  # the same phones came back
    with running_demo(tmp_path, "--no-autopilot", "--fresh") as fresh:
        fresh.wait_until(
            lambda: "Started a new demo meeting" in fresh.log.read_text(), 90, "no start"
        )
        assert fresh.links()["producer"] != first["producer"]
        assert count(fresh.db, "comment") < comments + 5


def test_after_the_agenda_moves_on_every_comment_answers_the_new_question(
    tmp_path: Path,
) -> None:
    # A table must not send a comment written for the question before as if it answered
    # the new one: the theme team would find it among the new question's themes. At this
    # pace 16 tables type every 0.2-1.2 s, so several comments are on their way each time
    # the producer moves on; each carries the question it answers (as the table page's
    # and the client's do), so none lands on the next. (Before it did, 5-16 per move did.)
    with running_demo(tmp_path, TOWNHALL_DEMO_PACE="0.1") as demo:
        second = "SELECT count(*) FROM comment WHERE question_id = 2"
        demo.wait_until(lambda: scalar(demo.db, second) >= 40, 90, "no comments on question 2")
        with sqlite3.connect(demo.db, timeout=5) as conn:
            rows = list(
                conn.execute(
                    "SELECT q.key, c.text FROM comment c JOIN question q ON q.id = c.question_id"
                )
            )
    with SAMPLE.open(encoding="utf-8") as f:
        sample = {(r["question"], r["text"]) for r in csv.DictReader(f)}
    wrong = [row for row in rows if row not in sample]
    assert {key for key, _ in rows} >= {"values-love", "priorities-change"}
    assert not wrong, f"{len(wrong)} of {len(rows)} answer another question: {wrong}"


async def act_in_console(producer_url: str) -> None:
    """What a person pressing one button in the producer console sends."""
    async with connect(
        producer_url.replace("http", "ws", 1).replace("/producer?", "/ws/producer?")
    ) as ws:
        await recv_until(ws, "hello")
        await ws.send(json.dumps({"type": "screen", "id": new_id(), "mode": "join"}))
        await recv_until(ws, "ack")


def test_the_autopilot_steps_aside_for_good_once_a_person_acts(tmp_path: Path) -> None:
    with running_demo(tmp_path, TOWNHALL_DEMO_PACE="0.1") as demo:
        db = demo.db
        demo.wait_until(lambda: any(s == "open" for _, s in polls(db)), 60, "no poll opened")
        url = demo.links()["producer"].replace(lan_address(), "127.0.0.1")
        asyncio.run(act_in_console(url))
        demo.wait_until(lambda: "autopilot stepped aside" in demo.log.read_text(), 30, "no word")
        settled = polls(db)
        # At this pace the autopilot acted every few seconds; now tables keep typing
        # and the agenda stays where the person left it.
        base = count(db, "comment")
        demo.wait_until(lambda: count(db, "comment") >= base + 40, 90, "tables stopped")
        assert polls(db) == settled
    state = json.loads((tmp_path / "demo-data" / "state.json").read_text())
    assert state["autopilot"] is False
    with running_demo(tmp_path) as again:  # it stays aside after a restart
        again.wait_until(lambda: "Autopilot: off" in again.log.read_text(), 60, "autopilot on")


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
        out = subprocess.run(  # as the demo prints it: no --db, from where the demo runs
            [sys.executable, "-m", "server.cli", "report", "riverton-budget", "--out", str(report)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
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
