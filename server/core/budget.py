"""Participatory budgeting ballots: validation and results, as pure functions.

Three ballot kinds (see docs/budgeting.md):

- ``allocation``: spread up to ``budget`` whole units (points, pounds) across
  the options; the ballot is a mapping option key -> amount.
- ``projects``: approve projects whose total ``cost`` fits the ``budget``
  (a knapsack ballot); the ballot is a list of option keys.
- ``tradeoff``: pick measures, each with a ``delta`` (positive closes the gap,
  negative widens it); a package *balances* when its deltas reach ``deficit``.
  Unbalanced packages are accepted: how many people balanced is a result.

Refusals raise ``tally.BallotError`` with a message fit for the participant,
so intake maps every one of them to the ``invalid`` error like other ballots.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from server.core.errors import N_
from server.core.tally import BallotError

BUDGET_KINDS: frozenset[str] = frozenset({"allocation", "projects", "tradeoff"})
MAX_AMOUNT = 10**12  # far above any city budget; keeps sums exact and bounded


@dataclass(frozen=True)
class BudgetOption:
    key: str
    label: str
    cost: int | None = None  # projects
    delta: int | None = None  # tradeoff


@dataclass(frozen=True)
class BudgetPoll:
    kind: str
    options: tuple[BudgetOption, ...]
    budget: int | None = None  # allocation, projects
    unit: str = "points"
    deficit: int | None = None  # tradeoff

    def option(self, key: str) -> BudgetOption | None:
        return next((o for o in self.options if o.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.options)


def money(amount: float, unit: str) -> str:
    """'£1,200,000' for a currency symbol, '40 points' for a word."""
    text = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    if unit and not unit[0].isalpha() and len(unit) <= 3:
        return ("-" if amount < 0 else "") + unit + text.lstrip("-")
    return f"{text} {unit}".strip()


def check_budget_fields(
    kind: str, options: Sequence[Any], budget: int | None, unit: str | None, deficit: int | None
) -> None:
    """Event-file rules for budget fields (raises ValueError, shown with the line)."""
    costs = [o.cost for o in options]
    deltas = [o.delta for o in options]
    if kind not in BUDGET_KINDS:
        if budget is not None or unit is not None or deficit is not None:
            raise ValueError("budget, unit and deficit only apply to budgeting polls")
        if any(c is not None for c in costs) or any(d is not None for d in deltas):
            raise ValueError("cost and delta only apply to projects and tradeoff polls")
        return
    if kind in ("allocation", "projects") and budget is None:
        raise ValueError(f"a {kind} poll needs a budget")
    if kind == "tradeoff" and (deficit is None or budget is not None):
        raise ValueError("a tradeoff poll needs a deficit (and no budget)")
    if kind != "tradeoff" and deficit is not None:
        raise ValueError("deficit only applies to tradeoff polls")
    if kind == "projects" and any(c is None for c in costs):
        raise ValueError("every option of a projects poll needs a cost")
    if kind != "projects" and any(c is not None for c in costs):
        raise ValueError("cost only applies to options of a projects poll")
    if kind == "tradeoff" and any(d is None or d == 0 for d in deltas):
        raise ValueError("every option of a tradeoff poll needs a non-zero delta")
    if kind != "tradeoff" and any(d is not None for d in deltas):
        raise ValueError("delta only applies to options of a tradeoff poll")


def _short(key: str) -> str:
    return key if len(key) <= 40 else key[:40] + "…"


def validate_amounts(poll: BudgetPoll, amounts: Any) -> dict[str, int]:
    """An allocation ballot, normalised: whole amounts > 0 in option order."""
    if not isinstance(amounts, Mapping) or not amounts:
        raise BallotError(
            "empty", N_("Spread your {unit} across the options first"), unit=poll.unit
        )
    clean: dict[str, int] = {}
    for key, value in amounts.items():
        if not isinstance(key, str) or poll.option(key) is None:
            raise BallotError("unknown_option", N_("Unknown option '{key}'"), key=_short(str(key)))
        # bool is an int in Python; a JSON true is not an amount.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BallotError(
                "bad_amount", N_("The amount for '{key}' is not a number"), key=_short(key)
            )
        if isinstance(value, float) and not value.is_integer():
            raise BallotError(
                "not_whole", N_("Use whole {unit} only (got {value})"), unit=poll.unit,
                value=f"{value:g}",
            )
        if value < 0:
            raise BallotError("negative", N_("Amounts can't be negative"))
        if value > MAX_AMOUNT:
            raise BallotError("over_budget", N_("That amount is far too large"))
        clean[key] = int(value)
    total = sum(clean.values())
    assert poll.budget is not None
    if total > poll.budget:
        raise BallotError(
            "over_budget",
            N_("That adds up to {total}, over the budget of {budget}"),
            total=money(total, poll.unit),
            budget=money(poll.budget, poll.unit),
        )
    if total == 0:
        raise BallotError(
            "empty", N_("Spread your {unit} across the options first"), unit=poll.unit
        )
    return {k: clean[k] for k in poll.keys if clean.get(k, 0) > 0}


def check_projects(poll: BudgetPoll, choice: Sequence[str]) -> None:
    """Refuse a projects ballot whose total cost is over the budget (keys already checked)."""
    assert poll.budget is not None
    total = sum((poll.option(k) or BudgetOption(k, k, 0)).cost or 0 for k in set(choice))
    if total > poll.budget:
        raise BallotError(
            "over_budget",
            N_("Those projects cost {total}, over the budget of {budget}; drop one"),
            total=money(total, poll.unit),
            budget=money(poll.budget, poll.unit),
        )


def validate_budget_ballot(
    poll: BudgetPoll, choice: Sequence[str], amounts: Any
) -> tuple[list[str], dict[str, int] | None]:
    """The extra checks a budget ballot needs after the key checks of
    ``tally.validate_choice``; returns (choice to store, amounts to store)."""
    if poll.kind == "allocation":
        clean = validate_amounts(poll, amounts)
        return list(clean), clean
    if amounts is not None:
        raise BallotError("bad_format", N_("Amounts only apply to allocation polls"))
    if poll.kind == "projects":
        check_projects(poll, choice)
    return list(choice), None


# -- results ------------------------------------------------------------------


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def allocation_stats(poll: BudgetPoll, ballots: Iterable[Mapping[str, int]]) -> dict[str, Any]:
    """Mean, median and interquartile range per option; an option a ballot
    leaves out counts as 0 for that ballot (it chose to give it nothing)."""
    rows = list(ballots)
    options = []
    for o in poll.options:
        values = sorted(float(b.get(o.key, 0)) for b in rows)
        q1, q3 = _quartiles(values)
        options.append(
            {
                "key": o.key,
                "label": o.label,
                "mean": statistics.fmean(values) if values else 0.0,
                "median": float(statistics.median(values)) if values else 0.0,
                "q1": q1,
                "q3": q3,
                "givers": sum(1 for v in values if v > 0),
            }
        )
    spent = [float(sum(b.values())) for b in rows]
    return {
        "kind": "allocation",
        "budget": poll.budget,
        "unit": poll.unit,
        "ballots": len(rows),
        "mean_spent": statistics.fmean(spent) if spent else 0.0,
        "options": options,
    }


def balance(poll: BudgetPoll, choice: Iterable[str]) -> int:
    """What a tradeoff package leaves: >= 0 means the deficit is closed."""
    assert poll.deficit is not None
    return sum((poll.option(k) or BudgetOption(k, k)).delta or 0 for k in choice) - poll.deficit


def tradeoff_stats(poll: BudgetPoll, choices: Iterable[Sequence[str]]) -> dict[str, Any]:
    rows = [tuple(c) for c in choices]
    balances = [balance(poll, c) for c in rows]
    picks = Counter(k for c in rows for k in c)
    packages = Counter(rows)
    top = None
    if packages:
        # Ties: the package seen first, so the figure is stable between refreshes.
        choice, count = max(packages.items(), key=lambda kv: kv[1])
        top = {"choice": list(choice), "count": count, "balance": balance(poll, choice)}
    n = len(rows)
    return {
        "kind": "tradeoff",
        "deficit": poll.deficit,
        "unit": poll.unit,
        "ballots": n,
        "balanced": sum(1 for b in balances if b >= 0),
        "balanced_percent": 100.0 * sum(1 for b in balances if b >= 0) / n if n else 0.0,
        "mean_balance": statistics.fmean(balances) if balances else 0.0,
        "top_package": top,
        "options": [
            {
                "key": o.key,
                "label": o.label,
                "delta": o.delta,
                "count": picks[o.key],
                "percent": 100.0 * picks[o.key] / n if n else 0.0,
            }
            for o in poll.options
        ],
    }


def compare_tables(
    poll: BudgetPoll,
    tables: Mapping[str, Mapping[str, int]],
    individuals: Sequence[Mapping[str, int]],
) -> dict[str, Any]:
    """Tables' consensus allocations beside the individual ballots, mean per option."""
    t = allocation_stats(poll, tables.values())
    ind = allocation_stats(poll, individuals)
    return {
        "tables": len(tables),
        "ballots": len(individuals),
        "options": [
            {
                "key": a["key"],
                "label": a["label"],
                "table_mean": a["mean"],
                "ballot_mean": b["mean"],
            }
            for a, b in zip(t["options"], ind["options"], strict=True)
        ],
    }


def demo_ballot(rng: Any, poll: Mapping[str, Any], ordered: Sequence[str]) -> dict[str, Any]:
    """A valid simulated ballot for ``townhall serve --demo``, from a POLL view;
    ``ordered`` is the simulated voter's preference order."""
    if poll["kind"] == "allocation":
        picked = list(ordered[: rng.randint(1, len(ordered))])
        cuts = sorted(rng.randint(0, poll["budget"]) for _ in picked[1:])
        bounds = [0, *cuts, poll["budget"]]
        parts = [hi - lo for lo, hi in pairwise(bounds)]
        return {"amounts": {k: v for k, v in zip(picked, parts, strict=True) if v > 0}}
    if poll["kind"] == "projects":
        left, choice = poll["budget"], []
        for key in ordered[: rng.randint(1, len(ordered))]:
            if poll["costs"][key] <= left:
                choice.append(key)
                left -= poll["costs"][key]
        return {"choice": choice or [min(ordered, key=lambda k: poll["costs"][k])]}
    return {"choice": list(ordered[: rng.randint(1, len(ordered))])}
