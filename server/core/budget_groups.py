"""Budgeting results for the whole room and per demographic group.

Groups are suppressed by the rule of ``tally.crosstab`` (the shared
``privacy.hidden_groups``): a group of 1..threshold-1 people is hidden,
and a second group too when hiding one alone could be undone from the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.core.budget import BudgetPoll, allocation_stats, tradeoff_stats
from server.core.equal_shares import projects_result
from server.core.privacy import NOT_GIVEN, NOT_GIVEN_LABEL, answer_group, hidden_groups


@dataclass(frozen=True)
class Row:
    """One stored ballot: already validated at intake, one per participant."""

    participant_id: str
    choice: tuple[str, ...]
    amounts: Mapping[str, int] | None
    demographics: Mapping[str, str] = field(default_factory=dict)


def kind_result(poll: BudgetPoll, rows: Sequence[Row], full: bool = True) -> dict[str, Any]:
    """The kind's result. ``full=False`` skips the funded sets for projects:
    a group's approvals are meaningful, a group's own budget split is not."""
    if poll.kind == "allocation":
        return allocation_stats(poll, [r.amounts or {} for r in rows])
    if poll.kind == "tradeoff":
        return tradeoff_stats(poll, [r.choice for r in rows])
    assert poll.budget is not None
    options = [(o.key, o.label, o.cost or 0) for o in poll.options]
    result = projects_result(options, [r.choice for r in rows], poll.budget, poll.unit)
    if not full:
        result.pop("greedy")
        result.pop("equal_shares")
        for p in result["projects"]:
            for k in ("greedy", "equal_shares", "rho"):
                p.pop(k)
    return result


def budget_crosstab(
    poll: BudgetPoll,
    rows: Sequence[Row],
    question_key: str,
    answer_labels: Mapping[str, str],
    threshold: int,
) -> dict[str, Any]:
    """Per answer to one demographic question: participants and the kind's result."""
    labels = {k: v for k, v in answer_labels.items() if k != "prefer_not"}
    labels[NOT_GIVEN] = NOT_GIVEN_LABEL
    members: dict[str, list[Row]] = {k: [] for k in labels}
    for r in rows:
        members[answer_group(r.demographics, question_key, labels)].append(r)
    hidden, total_ok = hidden_groups({k: len(v) for k, v in members.items()}, threshold)
    return {
        "question_key": question_key,
        "threshold": threshold,
        "rows": [
            {
                "key": k,
                "label": labels[k],
                "participants": None if k in hidden else len(members[k]),
                "suppressed": k in hidden,
                "result": None if k in hidden else kind_result(poll, members[k], full=False),
            }
            for k in labels
        ],
        "total": kind_result(poll, rows, full=False) if total_ok else None,
    }
