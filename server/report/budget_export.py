"""Budgeting results for the exports: one JSON file, since each result is nested
(funded sets, quartiles, tables vs ballots, suppressed group cross-tabs)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from server.core.budget import BUDGET_KINDS
from server.storage.budget_store import budget_breakdown, budget_result, table_amounts
from server.storage.db import Database
from server.storage.models import Poll


async def budget_results(db: Database, event_id: int, small_cell: int) -> list[dict[str, Any]]:
    async with db.session() as s:
        polls = (
            await s.exec(
                select(Poll)
                .where(Poll.event_id == event_id, col(Poll.kind).in_(BUDGET_KINDS))
                .order_by(col(Poll.position))
            )
        ).all()
        out = []
        for p in polls:
            assert p.id is not None
            out.append(
                {
                    "poll_key": p.key,
                    "kind": p.kind,
                    "prompt": p.prompt,
                    "status": p.status,
                    "result": await budget_result(s, p),
                    # A table's consensus is the table's, not a person's: shown by name.
                    "table_allocations": await table_amounts(s, p.id)
                    if p.kind == "allocation"
                    else None,
                    "by_group": _people(await budget_breakdown(s, p, small_cell)),
                }
            )
        return out


def _people(tabs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group sizes as ``people``: the exports never say "participant" (no ids leak)."""
    for tab in tabs:
        for row in tab["rows"]:
            row["people"] = row.pop("participants")
    return tabs


async def write_budget_export(
    db: Database, event_id: int, out: Path, small_cell: int
) -> list[Path]:
    """``budget_results.json`` when the event has budgeting polls, else nothing."""
    results = await budget_results(db, event_id, small_cell)
    if not results:
        return []
    path = out / "budget_results.json"
    text = json.dumps(results, ensure_ascii=False, indent=1)
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    return [path]
