"""Exports: they round-trip to the same tallies and identify nobody."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli.main import app
from server.core.tally import tally
from server.report import export as export_module
from server.report.export import export_event, import_export
from server.storage.db import Database
from server.storage.event_store import load_event_data
from server.storage.migrate import upgrade
from tests.support.eventgen import HOSTILE_COMMENT, RARE, StoredMeeting


def export(meeting: StoredMeeting, out: Path, fmt: str) -> None:
    async def go() -> None:
        db = Database(meeting.url)
        try:
            await export_event(db, meeting.gen.slug, out, fmt)  # type: ignore[arg-type]
        finally:
            await db.dispose()

    asyncio.run(go())


def rows(out: Path, name: str, fmt: str) -> list[dict[str, str]]:
    if fmt == "json":
        return [
            {k: "" if v is None else str(v) for k, v in r.items()}
            for r in json.loads((out / f"{name}.json").read_text())
        ]
    with (out / f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_round_trips_every_poll_tally(
    meeting: StoredMeeting, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "export"
    export(meeting, out, fmt)
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(fresh)

    async def go() -> None:
        db, db2 = Database(meeting.url), Database(fresh)
        try:
            before = await load_event_data(db, meeting.gen.slug)
            eid = await import_export(db2, out)
            after = await load_event_data(db2, eid)
        finally:
            await db.dispose()
            await db2.dispose()
        assert [p.poll.key for p in after.polls] == [p.poll.key for p in before.polls]
        for a, b in zip(before.polls, after.polls, strict=True):
            assert tally(a.spec, a.ballots({})) == tally(b.spec, b.ballots({}))
            assert tally(b.spec, b.ballots({})).turnout > 200
        assert len(after.comments) == len(before.comments)
        assert sorted(t.key for t in after.themes) == sorted(t.key for t in before.themes)

    asyncio.run(go())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_identifies_no_participant(meeting: StoredMeeting, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "export"
    export(meeting, out, fmt)
    ballots = rows(out, "ballots", fmt)
    with sqlite3.connect(meeting.path) as con:
        pids = {str(r[0]) for r in con.execute("select id from participant")}
        (votes,) = con.execute("select count(*) from vote").fetchone()
    assert len(ballots) == votes
    assert set(ballots[0]) == {"poll_key", "ballot", "choice", "age", "tenure", "area", "site"}
    numbers = [b["ballot"] for b in ballots]
    assert len(set(numbers)) == len(numbers) and not set(numbers) & pids
    text = "".join(p.read_text() for p in out.iterdir())
    assert "participant" not in text.lower() and "token" not in text.lower()
    # The three people with the rare answer are blanked; bigger groups are kept.
    tenure = {b["tenure"] for b in ballots}
    assert RARE[1] not in tenure and "suppressed" in tenure and {"rent", "own"} <= tenure
    # A second export draws new ballot numbers: exports cannot be joined on them.
    out2 = tmp_path / "again"
    export(meeting, out2, fmt)
    assert {b["ballot"] for b in rows(out2, "ballots", fmt)} != set(numbers)


def test_ballot_numbers_are_unique_across_the_polls_of_an_export(
    meeting: StoredMeeting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export promises numbers unique within it, not only within a poll: drawn
    per poll, two polls' ballots could meet on one number (a CI run saw it). With
    exactly as many numbers as ballots, every one must be used once."""
    with sqlite3.connect(meeting.path) as con:
        (votes,) = con.execute("select count(*) from vote").fetchone()
        (polls,) = con.execute("select count(distinct poll_id) from vote").fetchone()
    assert polls > 1
    monkeypatch.setattr(export_module, "BALLOT_NUMBERS", range(100_000_000, 100_000_000 + votes))
    export(meeting, tmp_path / "export", "json")
    numbers = [int(b["ballot"]) for b in rows(tmp_path / "export", "ballots", "json")]
    assert sorted(numbers) == list(range(100_000_000, 100_000_000 + votes))


def test_comments_are_traceable_to_table_site_and_theme(
    meeting: StoredMeeting, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export(meeting, out, "csv")
    comments = {c["comment_id"]: c for c in rows(out, "comments", "csv")}
    assert comments["6"]["text"] == HOSTILE_COMMENT
    themes = rows(out, "themes", "csv")
    for t in themes:
        for cid in t["member_comment_ids"].split(";"):
            assert t["theme_key"] in comments[cid]["theme_keys"].split(";")
    assert {c["status"] for c in comments.values()} == {"themed", "unthemed", "discarded"}
    assert all(c["table"] and c["site"] and c["question"] for c in comments.values())
    assert len(rows(out, "curation_log", "csv")) == 2


def test_cli_unknown_event_lists_events(meeting: StoredMeeting, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["export", "nope", "--out", str(tmp_path), "--db", meeting.url])
    assert res.exit_code == 2 and "riverton-budget" in res.output
    res = runner.invoke(
        app, ["report", "nope", "--out", str(tmp_path / "r.html"), "--db", meeting.url]
    )
    assert res.exit_code == 2 and "riverton-budget" in res.output
    res = runner.invoke(
        app, ["report", meeting.gen.slug, "--out", str(tmp_path / "r.html"), "--db", meeting.url]
    )
    assert res.exit_code == 0, res.output
    assert "&lt;script&gt;" in (tmp_path / "r.html").read_text()
