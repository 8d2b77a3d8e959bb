"""What a ballot must be to count, for every poll kind: the checks a vote gets at
intake, and the fields a phone or screen needs beyond a plain poll.

Polls and options arrive as any objects with the right attributes (the stored
rows, in practice), so these rules need nothing of the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from server.core import budget
from server.core import tally as tallying


class PollLike(Protocol):
    kind: str
    max_choices: int | None
    budget: int | None
    unit: str | None
    deficit: int | None


class OptionLike(Protocol):
    key: str
    label: str
    cost: int | None
    delta: int | None


def poll_spec(p: PollLike, options: Sequence[OptionLike]) -> tallying.PollSpec:
    return tallying.PollSpec(
        kind=p.kind,  # type: ignore[arg-type]
        options=[(o.key, o.label) for o in options],
        max_choices=p.max_choices,
    )


def budget_poll(p: PollLike, options: Sequence[OptionLike]) -> budget.BudgetPoll:
    return budget.BudgetPoll(
        kind=p.kind,
        options=tuple(budget.BudgetOption(o.key, o.label, o.cost, o.delta) for o in options),
        budget=p.budget,
        unit=p.unit or ("points" if p.kind == "allocation" else "£"),
        deficit=p.deficit,
    )


def poll_fields(p: PollLike, options: Sequence[OptionLike]) -> dict[str, Any]:
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
    p: PollLike, options: Sequence[OptionLike], choice: list[str], amounts: Any
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
