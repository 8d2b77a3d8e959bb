"""Budgeting polls against the database: the tables' consensus allocations and
the results the screens and exports show.

The arithmetic lives in server/core/budget.py, server/core/equal_shares.py and
server/core/budget_groups.py; this module only reads rows and calls them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import budget
from server.core.ballots import budget_poll
from server.core.budget_groups import Row, budget_crosstab, kind_result
from server.storage.models import (
    EventTable,
    Participant,
    Poll,
    TableAllocation,
    Vote,
)
from server.storage.poll_store import (
    demographic_questions_with_options,
    poll_options,
    voter_demographics,
)


async def _rows(s: AsyncSession, poll_id: int, site_id: int | None = None) -> list[Row]:
    q = select(Vote.participant_id, Vote.choice, Vote.amounts).where(Vote.poll_id == poll_id)
    if site_id is not None:
        q = q.join(Participant, col(Participant.id) == Vote.participant_id).where(
            Participant.site_id == site_id
        )
    return [
        Row(str(pid), tuple(json.loads(c)), json.loads(a) if a else None, {})
        for pid, c, a in (await s.exec(q)).all()
    ]


async def table_amounts(
    s: AsyncSession, poll_id: int, site_id: int | None = None
) -> dict[str, dict[str, int]]:
    q = (
        select(EventTable.name, TableAllocation.amounts)
        .join(EventTable, col(EventTable.id) == TableAllocation.table_id)
        .where(TableAllocation.poll_id == poll_id)
    )
    if site_id is not None:
        q = q.where(EventTable.site_id == site_id)
    return {name: json.loads(a) for name, a in (await s.exec(q)).all()}


async def budget_result(
    s: AsyncSession, p: Poll, site_id: int | None = None
) -> dict[str, Any] | None:
    """The kind's full result (with the tables' comparison for allocations)."""
    if p.kind not in budget.BUDGET_KINDS or p.id is None:
        return None
    bp = budget_poll(p, await poll_options(s, p.id))
    rows = await _rows(s, p.id, site_id)
    out = kind_result(bp, rows, full=True)
    if p.kind == "allocation":
        individual = [r.amounts or {} for r in rows]
        out["tables"] = budget.compare_tables(bp, await table_amounts(s, p.id, site_id), individual)
    return out


async def budget_breakdown(s: AsyncSession, p: Poll, threshold: int) -> list[dict[str, Any]]:
    """One cross-tab per demographic question, small groups suppressed."""
    assert p.id is not None
    bp = budget_poll(p, await poll_options(s, p.id))
    rows = await _rows(s, p.id)
    demo = {str(pid): d for pid, d in (await voter_demographics(s, p.id)).items()}
    rows = [
        Row(r.participant_id, r.choice, r.amounts, demo.get(r.participant_id, {})) for r in rows
    ]
    out = []
    for q, options in await demographic_questions_with_options(s, p.event_id):
        labels = {o.key: o.label for o in options}
        out.append({"prompt": q.prompt, **budget_crosstab(bp, rows, q.key, labels, threshold)})
    return out
