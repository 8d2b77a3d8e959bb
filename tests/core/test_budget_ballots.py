"""Budget ballots are refused with a reason a participant can act on."""

from __future__ import annotations

from typing import Any

import pytest

from server.core.budget import (
    BudgetOption,
    BudgetPoll,
    balance,
    check_budget_fields,
    money,
    validate_budget_ballot,
)
from server.core.tally import BallotError

ALLOC = BudgetPoll(
    "allocation",
    (
        BudgetOption("housing", "Housing"),
        BudgetOption("parks", "Parks"),
        BudgetOption("bus", "Bus"),
    ),
    budget=100,
    unit="points",
)
PROJECTS = BudgetPoll(
    "projects",
    (
        BudgetOption("roof", "Roof", cost=300_000),
        BudgetOption("lanes", "Bike lanes", cost=400_000),
        BudgetOption("centre", "Youth centre", cost=600_000),
    ),
    budget=1_000_000,
    unit="£",
)
TRADEOFF = BudgetPoll(
    "tradeoff",
    (BudgetOption("tax", "Tax", delta=900), BudgetOption("potholes", "Potholes", delta=-300)),
    deficit=500,
    unit="£",
)


def refusal(poll: BudgetPoll, choice: list[str], amounts: Any) -> str:
    with pytest.raises(BallotError) as exc:
        validate_budget_ballot(poll, choice, amounts)
    return exc.value.message


def test_allocation_within_budget_is_normalised_to_option_order_without_zeros() -> None:
    choice, amounts = validate_budget_ballot(ALLOC, [], {"parks": 60, "bus": 0, "housing": 40.0})
    assert choice == ["housing", "parks"]
    assert amounts == {"housing": 40, "parks": 60}
    assert isinstance(amounts["housing"], int)


def test_allocation_over_budget_says_by_how_much() -> None:
    msg = refusal(ALLOC, [], {"housing": 70, "parks": 50})
    assert msg == "That adds up to 120 points, over the budget of 100 points"


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ({"housing": -10, "parks": 50}, "Amounts can't be negative"),
        ({"housing": 12.5}, "Use whole points only (got 12.5)"),
        ({"zoo": 10}, "Unknown option 'zoo'"),
        ({"housing": "10"}, "The amount for 'housing' is not a number"),
        ({"housing": True}, "The amount for 'housing' is not a number"),
        ({"housing": 0}, "Spread your points across the options first"),
        ({}, "Spread your points across the options first"),
        (None, "Spread your points across the options first"),
    ],
)
def test_bad_allocations_are_refused_clearly(amounts: Any, expected: str) -> None:
    assert refusal(ALLOC, [], amounts) == expected


def test_projects_over_budget_are_refused_with_the_total_in_pounds() -> None:
    assert validate_budget_ballot(PROJECTS, ["roof", "centre"], None) == (["roof", "centre"], None)
    msg = refusal(PROJECTS, ["roof", "lanes", "centre"], None)
    assert msg == "Those projects cost £1,300,000, over the budget of £1,000,000; drop one"


def test_amounts_on_a_non_allocation_ballot_are_refused() -> None:
    assert refusal(PROJECTS, ["roof"], {"roof": 1}) == "Amounts only apply to allocation polls"


def test_an_unbalanced_tradeoff_package_is_accepted_and_its_balance_known() -> None:
    assert validate_budget_ballot(TRADEOFF, ["potholes"], None) == (["potholes"], None)
    assert balance(TRADEOFF, ["potholes"]) == -800  # -300 - 500: the gap got wider
    assert balance(TRADEOFF, ["tax", "potholes"]) == 100  # 900 - 300 - 500


def test_money_formats_symbols_before_and_words_after() -> None:
    assert money(1_200_000, "£") == "£1,200,000"
    assert money(-300_000, "£") == "-£300,000"
    assert money(40, "points") == "40 points"


class _Opt:
    def __init__(self, cost: int | None = None, delta: int | None = None) -> None:
        self.cost, self.delta = cost, delta


@pytest.mark.parametrize(
    ("kind", "options", "budget", "deficit", "expected"),
    [
        ("allocation", [_Opt(), _Opt()], None, None, "a allocation poll needs a budget"),
        ("projects", [_Opt(5), _Opt()], 10, None, "every option of a projects poll needs a cost"),
        ("tradeoff", [_Opt(delta=1)], None, None, "a tradeoff poll needs a deficit"),
        ("single", [_Opt(), _Opt()], 10, None, "budget, unit and deficit only apply"),
        ("allocation", [_Opt(3), _Opt()], 10, None, "cost only applies"),
    ],
)
def test_event_file_budget_rules(
    kind: str, options: list[_Opt], budget: int | None, deficit: int | None, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        check_budget_fields(kind, options, budget, None, deficit)
