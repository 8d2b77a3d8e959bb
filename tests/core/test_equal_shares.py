"""Greedy-by-votes and the Method of Equal Shares on examples worked by hand."""

from __future__ import annotations

from fractions import Fraction

from server.core.equal_shares import equal_shares, greedy, projects_result


def test_equal_shares_funds_the_minority_where_greedy_does_not() -> None:
    # Budget 100, 10 voters: v1..v6 approve A and B, v7..v10 approve C.
    # Costs: A 50, B 50, C 40.
    costs = {"A": 50, "B": 50, "C": 40}
    ballots = [["A", "B"]] * 6 + [["C"]] * 4
    # Greedy: A (6 votes, 50, left 50), B (6 votes, 50, left 0), C (4) no longer fits.
    assert greedy(costs, {"A": 6, "B": 6, "C": 4}, 100) == ["A", "B"]
    # Equal shares: each voter holds 100/10 = 10.
    # Round 1: A: 6 supporters hold 60 >= 50, rho = 50/6 = 8.33; B the same;
    #          C: 4 hold 40 >= 40, rho = 40/4 = 10. Smallest rho: A (tie with B
    #          broken by option order). v1..v6 pay 25/3 each, keep 10 - 25/3 = 5/3.
    # Round 2: B: 6 x 5/3 = 10 < 50, not affordable. C: rho = 10, affordable: fund C.
    # Round 3: nothing affordable. Spent 50 + 40 = 90 of 100.
    funded, rhos = equal_shares(costs, ballots, 100)
    assert funded == ["A", "C"]
    assert rhos == {"A": Fraction(25, 3), "C": Fraction(10)}


def test_equal_shares_caps_a_poor_supporter_at_what_they_have_left() -> None:
    # Budget 40, 4 voters with 10 each.
    # P1 cost 18 by {v1,v2}; P2 cost 16 by everyone; P3 cost 14 by {v2,v3,v4};
    # P4 cost 7 by {v1,v2}.
    costs = {"P1": 18, "P2": 16, "P3": 14, "P4": 7}
    ballots = [["P1", "P2", "P4"], ["P1", "P2", "P3", "P4"], ["P2", "P3"], ["P2", "P3"]]
    # Round 1 rhos: P1 18/2 = 9; P2 16/4 = 4; P3 14/3 = 4.67; P4 7/2 = 3.5 -> fund P4.
    #   Left: v1 6.5, v2 6.5, v3 10, v4 10.
    # Round 2: P1: 6.5 + 6.5 = 13 < 18, no. P2: 16/4 = 4 <= 6.5, rho 4.
    #   P3: 14/3 = 4.67 <= 6.5, rho 4.67. Fund P2. Left: v1 2.5, v2 2.5, v3 6, v4 6.
    # Round 3: P3 with budgets 2.5, 6, 6 (sum 14.5 >= 14): an equal 14/3 = 4.67 is
    #   more than v2's 2.5, so v2 pays 2.5 and v3, v4 share 11.5: rho = 5.75 <= 6.
    #   P1: 2.5 + 2.5 = 5 < 18, no. Fund P3. Left: v1 2.5, v2 0, v3 0.25, v4 0.25.
    # Round 4: P1: 2.5 < 18. Stop.
    funded, rhos = equal_shares(costs, ballots, 40)
    assert funded == ["P4", "P2", "P3"]
    assert rhos == {"P4": Fraction(7, 2), "P2": Fraction(4), "P3": Fraction(23, 4)}
    # Greedy: P2 (4 votes, 16), P3 (3, 14: 30), then the two-vote tie goes to the
    # cheaper P4 (7: 37); P1 (18) no longer fits.
    assert greedy(costs, {"P1": 2, "P2": 4, "P3": 3, "P4": 2}, 40) == ["P2", "P3", "P4"]


def test_equal_shares_may_leave_money_unspent_without_a_completion_step() -> None:
    # Budget 30, 3 voters with 10 each. X cost 12 by all; Y cost 15 by {v1,v2};
    # Z cost 9 by {v3}. Round 1: X rho 4, Y 7.5, Z 9 -> fund X, each keeps 6.
    # Round 2: Y: 6 + 6 = 12 < 15; Z: 6 < 9. Stop with 18 unspent.
    # Greedy: X (3 votes, 12), Y (2 votes, 15: 27), Z (9) does not fit.
    result = projects_result(
        [("X", "X", 12), ("Y", "Y", 15), ("Z", "Z", 9)],
        [["X", "Y"], ["X", "Y"], ["X", "Z"]],
        30,
        "£",
    )
    assert result["equal_shares"] == {"funded": ["X"], "spent": 12}
    assert result["greedy"] == {"funded": ["X", "Y"], "spent": 27}
    rows = {p["key"]: p for p in result["projects"]}
    assert rows["Y"]["greedy"] and not rows["Y"]["equal_shares"]
    assert rows["X"]["rho"] == 4.0 and rows["X"]["approvals"] == 3


def test_no_ballots_fund_nothing() -> None:
    assert equal_shares({"A": 5}, [], 10) == ([], {})
    assert greedy({"A": 5}, {"A": 0}, 10) == []
