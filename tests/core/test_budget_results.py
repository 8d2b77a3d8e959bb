"""Allocation statistics, tradeoff balance, tables vs individuals, group suppression."""

from __future__ import annotations

import random

import pytest

from server.core.budget import (
    BudgetOption,
    BudgetPoll,
    allocation_stats,
    compare_tables,
    demo_ballot,
    tradeoff_stats,
    validate_budget_ballot,
)
from server.core.budget_groups import Row, budget_crosstab

ALLOC = BudgetPoll(
    "allocation", (BudgetOption("a", "A"), BudgetOption("b", "B")), budget=100, unit="points"
)
TRADEOFF = BudgetPoll(
    "tradeoff",
    (
        BudgetOption("tax", "Tax", delta=900),
        BudgetOption("parking", "Parking", delta=500),
        BudgetOption("potholes", "Potholes", delta=-300),
    ),
    deficit=1000,
    unit="£",
)


def test_allocation_mean_median_and_iqr_count_missing_options_as_zero() -> None:
    ballots = [{"a": 10, "b": 90}, {"a": 20, "b": 80}, {"a": 30}, {"a": 100}]
    stats = allocation_stats(ALLOC, ballots)
    a, b = stats["options"]
    # a: 10, 20, 30, 100 -> mean 40, median (20+30)/2 = 25.
    # Inclusive quartiles: positions 1 + 3*0.25 = 1.75 -> 10 + 0.75*10 = 17.5,
    # and 1 + 3*0.75 = 3.25 -> 30 + 0.25*70 = 47.5.
    assert (a["mean"], a["median"], a["q1"], a["q3"]) == (40.0, 25.0, 17.5, 47.5)
    # b: 0, 0, 80, 90 -> mean 42.5, median 40; given by 2 of 4.
    assert (b["mean"], b["median"], b["givers"]) == (42.5, 40.0, 2)
    assert stats["ballots"] == 4 and stats["mean_spent"] == pytest.approx(82.5)


def test_tradeoff_counts_balanced_packages_and_the_most_chosen_one() -> None:
    choices = [
        ["tax", "parking"],  # 900 + 500 - 1000 = +400: balanced
        ["tax", "parking"],  # balanced
        ["tax", "parking", "potholes"],  # 1400 - 300 - 1000 = +100: balanced
        ["tax"],  # 900 - 1000 = -100: not balanced
    ]
    stats = tradeoff_stats(TRADEOFF, choices)
    assert stats["balanced"] == 3 and stats["balanced_percent"] == 75.0
    assert stats["top_package"] == {"choice": ["tax", "parking"], "count": 2, "balance": 400}
    assert stats["mean_balance"] == pytest.approx((400 + 400 + 100 - 100) / 4)
    assert [o["count"] for o in stats["options"]] == [4, 3, 1]


def test_tables_are_compared_with_individual_ballots_per_option() -> None:
    tables = {"Table 1": {"a": 60, "b": 40}, "Table 2": {"a": 80, "b": 20}}
    cmp = compare_tables(ALLOC, tables, [{"a": 10, "b": 90}, {"a": 30, "b": 70}])
    assert cmp["tables"] == 2 and cmp["ballots"] == 2
    assert cmp["options"][0] == {"key": "a", "label": "A", "table_mean": 70.0, "ballot_mean": 20.0}


def test_small_groups_are_suppressed_with_a_partner_so_the_total_cannot_reveal_them() -> None:
    rows = [Row(str(i), ("a",), {"a": 50}, {"age": "young"}) for i in range(12)]
    rows += [Row("x1", ("b",), {"b": 100}, {"age": "old"})]
    rows += [Row(f"n{i}", ("a",), {"a": 10}, {}) for i in range(11)]
    ct = budget_crosstab(ALLOC, rows, "age", {"young": "Young", "old": "Old"}, threshold=10)
    by = {r["key"]: r for r in ct["rows"]}
    assert by["old"]["suppressed"] and by["old"]["result"] is None
    # "old" alone hidden would be total minus the rest: the next smallest (11 not given) goes too.
    assert by["not_given"]["suppressed"]
    assert not by["young"]["suppressed"] and by["young"]["participants"] == 12
    assert by["young"]["result"]["options"][0]["mean"] == 50.0
    assert ct["total"]["ballots"] == 24


@pytest.mark.parametrize("seed", range(20))
def test_demo_ballots_are_always_valid(seed: int) -> None:
    rng = random.Random(seed)
    projects = BudgetPoll(
        "projects",
        tuple(BudgetOption(k, k, cost=c) for k, c in [("p", 500), ("q", 700), ("r", 300)]),
        budget=1000,
        unit="£",
    )
    for poll in (ALLOC, projects, TRADEOFF):
        view = {
            "kind": poll.kind,
            "budget": poll.budget,
            "costs": {o.key: o.cost for o in poll.options},
        }
        keys = list(poll.keys)
        rng.shuffle(keys)
        ballot = demo_ballot(rng, view, keys)
        validate_budget_ballot(poll, ballot.get("choice", []), ballot.get("amounts"))
