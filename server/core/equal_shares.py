"""Which projects a projects ballot funds: greedy by votes, and the Method of
Equal Shares, side by side.

Method of Equal Shares (Peters & Skowron 2020; Peters, Pierczyński & Skowron,
"Proportional participatory budgeting with additive utilities", NeurIPS 2021),
with approval utilities:

1. Each of the n voters gets an equal part of the budget, B/n.
2. A project c costing cost(c) is *affordable* if its supporters together
   still hold at least cost(c). For an affordable project, rho(c) is the
   smallest per-voter payment such that sum over supporters of
   min(money left, rho) = cost(c): supporters share the cost equally, and one
   who cannot afford the full share pays everything they have left.
3. Fund the affordable project with the smallest rho (ties: more supporters,
   then cheaper, then option order); its supporters pay min(left, rho).
4. Repeat until no project is affordable.

No completion step (e.g. raising the per-voter budget until the money is
spent) is applied: the result can leave money unspent, which is reported.
Arithmetic uses exact fractions, so ties are ties and the hand-worked examples
in the tests come out exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any


def greedy(costs: Mapping[str, int], approvals: Mapping[str, int], budget: int) -> list[str]:
    """Most-approved first (ties: cheaper, then option order); skip what no longer fits."""
    order = sorted(costs, key=lambda k: (-approvals.get(k, 0), costs[k], list(costs).index(k)))
    funded, left = [], budget
    for key in order:
        if approvals.get(key, 0) > 0 and costs[key] <= left:
            funded.append(key)
            left -= costs[key]
    return funded


def _rho(cost: int, budgets: list[Fraction]) -> Fraction | None:
    """Smallest equal payment covering ``cost`` from these supporters, each
    paying at most what they hold; None if they cannot afford it together."""
    if sum(budgets, Fraction(0)) < cost:
        return None
    remaining = Fraction(cost)
    count = len(budgets)
    for held in sorted(budgets):
        # If the poorest remaining supporter can pay an equal share, everyone can.
        if held * count >= remaining:
            return remaining / count
        remaining -= held
        count -= 1
    return None  # unreachable: the sum check above guarantees a share


def equal_shares(
    costs: Mapping[str, int], ballots: Sequence[Sequence[str]], budget: int
) -> tuple[list[str], dict[str, Fraction]]:
    """Projects funded by the Method of Equal Shares, in selection order, and rho of each."""
    n = len(ballots)
    if n == 0:
        return [], {}
    share = Fraction(budget, n)
    left = [share] * n
    supporters = {k: [i for i, b in enumerate(ballots) if k in b] for k in costs}
    position = {k: i for i, k in enumerate(costs)}
    funded: list[str] = []
    rhos: dict[str, Fraction] = {}
    while True:
        best: tuple[Fraction, int, int, int, str] | None = None
        for key, voters in supporters.items():
            if key in rhos or not voters or costs[key] <= 0:
                continue
            rho = _rho(costs[key], [left[i] for i in voters])
            if rho is None:
                continue
            rank = (rho, -len(voters), costs[key], position[key], key)
            if best is None or rank < best:
                best = rank
        if best is None:
            return funded, rhos
        rho, key = best[0], best[4]
        for i in supporters[key]:
            left[i] -= min(left[i], rho)
        funded.append(key)
        rhos[key] = rho


def projects_result(
    options: Sequence[tuple[str, str, int]],
    ballots: Sequence[Sequence[str]],
    budget: int,
    unit: str,
) -> dict[str, Any]:
    """Both rules' funded sets; ``options`` is (key, label, cost) in option order."""
    costs = {k: c for k, _, c in options}
    approvals = {k: sum(1 for b in ballots if k in b) for k in costs}
    by_votes = greedy(costs, approvals, budget)
    mes, rhos = equal_shares(costs, ballots, budget)
    n = len(ballots)
    return {
        "kind": "projects",
        "budget": budget,
        "unit": unit,
        "ballots": n,
        "projects": [
            {
                "key": k,
                "label": label,
                "cost": cost,
                "approvals": approvals[k],
                "percent": 100.0 * approvals[k] / n if n else 0.0,
                "greedy": k in by_votes,
                "equal_shares": k in mes,
                # The equal share each supporter paid (a float, for display).
                "rho": float(rhos[k]) if k in rhos else None,
            }
            for k, label, cost in options
        ],
        "greedy": {"funded": by_votes, "spent": sum(costs[k] for k in by_votes)},
        "equal_shares": {"funded": mes, "spent": sum(costs[k] for k in mes)},
    }
