"""Budgeting polls against the database: ballot intake checks, tables'
consensus allocations, and the results the screens, report and exports show.

The arithmetic lives in server/budget.py, server/equal_shares.py and
server/budget_groups.py; this module only reads rows and calls them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import budget
from server import tally as tallying
from server.budget_groups import Row, budget_crosstab, kind_result
from server.errors import InvalidMessage, NotFound
from server.models import (
    EventTable,
    Participant,
    Poll,
    PollOption,
    TableAllocation,
    Vote,
    utcnow,
)
from server.tokens import Principal
from server.views import (
    demographic_questions_with_options,
    poll_options,
    poll_spec,
    voter_demographics,
)


def budget_poll(p: Poll, options: Sequence[PollOption]) -> budget.BudgetPoll:
    return budget.BudgetPoll(
        kind=p.kind,
        options=tuple(budget.BudgetOption(o.key, o.label, o.cost, o.delta) for o in options),
        budget=p.budget,
        unit=p.unit or ("points" if p.kind == "allocation" else "£"),
        deficit=p.deficit,
    )


def poll_fields(p: Poll, options: Sequence[PollOption]) -> dict[str, Any]:
    """What a phone or screen needs beyond a plain poll (empty for other kinds)."""
    if p.kind not in budget.BUDGET_KINDS:
        return {}
    bp = budget_poll(p, options)
    return {
        "budget": bp.budget,
        "unit": bp.unit,
        "deficit": bp.deficit,
        "costs": {o.key: o.cost for o in options} if p.kind == "projects" else None,
        "deltas": {o.key: o.delta for o in options} if p.kind == "tradeoff" else None,
    }


def check_ballot(
    p: Poll, options: list[PollOption], choice: list[str], amounts: Any
) -> tuple[list[str], dict[str, int] | None]:
    """Every check a vote gets at intake; raises tally.BallotError.

    An allocation ballot's choice is derived from its amounts (the options
    given something), so the plain tallies still count who funded what.
    """
    if p.kind == "allocation":
        clean = budget.validate_amounts(budget_poll(p, options), amounts)
        return list(clean), clean
    if amounts is not None:
        raise tallying.BallotError("bad_format", "Amounts only apply to allocation polls")
    normal = tallying.validate_choice(poll_spec(p, options), choice)
    if p.kind in budget.BUDGET_KINDS:
        return budget.validate_budget_ballot(budget_poll(p, options), normal, None)
    return normal, None


async def store_table_allocation(
    s: AsyncSession, who: Principal, poll_id: int, amounts: Any, client_id: str
) -> tuple[dict[str, Any], int | None]:
    """Commit a table's consensus allocation (latest wins); returns (ack fields, dirty poll)."""
    assert who.table_id is not None
    p = await s.get(Poll, poll_id)
    if p is None or p.event_id != who.event_id:
        raise NotFound(f"poll {poll_id} does not exist")
    row = (
        await s.exec(
            select(TableAllocation).where(
                TableAllocation.poll_id == poll_id, TableAllocation.table_id == who.table_id
            )
        )
    ).first()
    if row is not None and row.client_id == client_id:
        return {"poll_id": poll_id, "amounts": json.loads(row.amounts)}, None
    if p.kind != "allocation":
        raise InvalidMessage("tables can only send allocations for an allocation poll")
    if p.status == "draft":
        raise InvalidMessage("this poll has not been opened yet")
    try:
        clean = budget.validate_amounts(budget_poll(p, await poll_options(s, poll_id)), amounts)
    except tallying.BallotError as exc:
        raise InvalidMessage(exc.msgid, **exc.values) from exc
    if row is None:
        row = TableAllocation(poll_id=poll_id, table_id=who.table_id, amounts="", client_id="")
    row.amounts, row.client_id, row.updated_at = json.dumps(clean), client_id, utcnow()
    s.add(row)
    try:
        await s.commit()
    except IntegrityError as exc:
        # The same table sent from two laptops at once; the other one's write stands.
        await s.rollback()
        raise InvalidMessage("another allocation from this table arrived at once; resend") from exc
    return {"poll_id": poll_id, "amounts": clean}, poll_id


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
