"""Paired before/after statistics on a worked example checked by hand."""

from __future__ import annotations

import pytest

from server.core.shift import paired_mean_change, paired_proportion_change, shift, shift_by_group
from server.core.tally import SCALE_KEYS, Ballot, PollSpec

SCALE = PollSpec("scale", [(k, k) for k in SCALE_KEYS])

# Five people answer both instances; "p6" only before and "p7" only after
# (they are left out of every paired figure).
BEFORE = {"p1": "2", "p2": "3", "p3": "3", "p4": "4", "p5": "1", "p6": "5"}
AFTER = {"p1": "4", "p2": "3", "p3": "4", "p4": "4", "p5": "2", "p7": "1"}


def ballots(answers: dict[str, str], groups: dict[str, str] | None = None) -> list[Ballot]:
    groups = groups or {}
    return [
        Ballot(pid, [v], {"age": groups[pid]} if pid in groups else {})
        for pid, v in answers.items()
    ]


def test_option_change_uses_the_paired_mcnemar_variance() -> None:
    result = shift(SCALE, ballots(BEFORE), ballots(AFTER))
    assert (result.paired, result.before_turnout, result.after_turnout) == (5, 6, 6)
    four = next(o for o in result.options if o.key == "4")
    # "4" before: p4 only; after: p1, p3, p4. b (before only) = 0, c (after only) = 2, n = 5.
    # change = (c - b)/n = 2/5 = 0.4
    # var = (b + c - (b - c)^2/n)/n^2 = (0 + 2 - 4/5)/25 = 1.2/25 = 0.048
    # half width = 1.959964 * sqrt(0.048) = 1.959964 * 0.219089 = 0.429406
    assert (four.before, four.after) == (pytest.approx(0.2), pytest.approx(0.6))
    assert (four.moved_out, four.moved_in) == (0, 2)
    assert four.change == pytest.approx(0.4)
    assert four.low == pytest.approx(0.4 - 0.429406, abs=1e-5)
    assert four.high == pytest.approx(0.4 + 0.429406, abs=1e-5)
    three = next(o for o in result.options if o.key == "3")
    # "3" before: p2, p3; after: p2. b = 1, c = 0: change = -1/5 = -0.2
    # var = (1 - 1/5)/25 = 0.032; half = 1.959964 * 0.178885 = 0.350607
    assert three.change == pytest.approx(-0.2)
    assert (three.low, three.high) == (
        pytest.approx(-0.550607, abs=1e-5),
        pytest.approx(0.150607, abs=1e-5),
    )


def test_scale_mean_change_gets_a_t_interval() -> None:
    result = shift(SCALE, ballots(BEFORE), ballots(AFTER))
    assert result.mean is not None
    # Paired differences after - before: p1 +2, p2 0, p3 +1, p4 0, p5 +1 -> mean 0.8
    # Deviations 1.2, -0.8, 0.2, -0.8, 0.2; squares sum 2.8; sd = sqrt(2.8/4) = 0.836660
    # se = 0.836660/sqrt(5) = 0.374166; t(0.975, df 4) = 2.776445; half = 1.038854
    assert (result.mean.before, result.mean.after) == (pytest.approx(2.6), pytest.approx(3.4))
    assert result.mean.change == pytest.approx(0.8)
    assert result.mean.low == pytest.approx(0.8 - 1.038854, abs=1e-5)
    assert result.mean.high == pytest.approx(0.8 + 1.038854, abs=1e-5)


def test_degenerate_and_invalid_inputs() -> None:
    # Nobody switched: the change and its (too optimistic) interval are exactly 0.
    assert paired_proportion_change(0, 0, 7) == (0.0, 0.0, 0.0)
    # Everyone switched one way: b = 0, c = n -> var = (n - n^2/n)/n^2 = 0.
    assert paired_proportion_change(0, 4, 4) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        paired_proportion_change(3, 3, 5)  # b + c > n
    assert paired_mean_change([1.0]) == (1.0, None, None)  # no interval from one person


def test_ranking_counts_first_preferences() -> None:
    spec = PollSpec("ranking", [("a", "A"), ("b", "B")])
    before = [Ballot("x", ["a", "b"]), Ballot("y", ["a"])]
    after = [Ballot("x", ["b", "a"]), Ballot("y", ["a", "b"])]
    a = shift(spec, before, after).options[0]
    # "a" first before: x, y; after: y. b = 1, c = 0, n = 2 -> change -0.5
    assert (a.before, a.after, a.change) == (1.0, 0.5, pytest.approx(-0.5))


def test_small_groups_are_suppressed_with_their_partner() -> None:
    # Paired people by age: 16-29: 4, 30-44: 1, 45-64: 5; p-only-before is in 65-plus
    # but answered once, so 65-plus has no paired people and shows as 0.
    before, after, ages = {}, {}, {}
    for i in range(10):
        pid = f"q{i}"
        before[pid], after[pid] = "2", "4" if i % 2 else "2"
        ages[pid] = "16-29" if i < 4 else "30-44" if i == 4 else "45-64"
    before["lonely"], ages["lonely"] = "5", "65-plus"
    labels = {"16-29": "16–29", "30-44": "30–44", "45-64": "45–64", "65-plus": "65+"}
    table = shift_by_group(
        SCALE, ballots(before, ages), ballots(after, ages), "age", labels, threshold=5
    )
    rows = {r.key: r for r in table.rows}
    # 30-44 (1 person) is under 5 and alone hidden, so the next smallest non-empty
    # group (16-29, 4 people, also under 5 anyway) is hidden with it.
    assert rows["30-44"].suppressed and rows["30-44"].paired is None
    assert rows["30-44"].shift is None
    assert rows["16-29"].suppressed
    assert not rows["45-64"].suppressed and rows["45-64"].paired == 5
    assert rows["65-plus"].paired == 0 and not rows["65-plus"].suppressed
    assert not table.total_withheld
    # 45-64 is q5..q9: q5, q7, q9 moved 2 -> 4. Mean change 3*2/5 = 1.2
    group = rows["45-64"].shift
    assert group is not None and group.mean is not None
    assert group.mean.change == pytest.approx(1.2)
    dumped = table.to_dict()
    assert dumped["rows"][1]["shift"] is None and dumped["rows"][1]["paired"] is None


def test_one_lone_small_group_withholds_the_total() -> None:
    table = shift_by_group(
        SCALE,
        ballots({"a": "1"}, {"a": "16-29"}),
        ballots({"a": "2"}, {"a": "16-29"}),
        "age",
        {"16-29": "16–29", "30-44": "30–44"},
        threshold=10,
    )
    assert table.total_withheld and table.rows[0].suppressed
