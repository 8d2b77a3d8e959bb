"""Validation, tallies and suppressed cross-tabs, on examples worked by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.core.tally import (
    NOT_GIVEN,
    Ballot,
    BallotError,
    CrossTab,
    Kind,
    PollSpec,
    crosstab,
    tally,
    validate_choice,
)

ABC = [("a", "Apples"), ("b", "Bananas"), ("c", "Cherries")]
SCALE = PollSpec("scale", [(str(i), f"level {i}") for i in range(1, 6)])


def b(pid: str, *choice: str, **demo: str) -> Ballot:
    return Ballot(pid, list(choice), demo)


def test_single_counts_and_percent_of_voters() -> None:
    poll = PollSpec("single", ABC)
    result = tally(poll, [b("p1", "a"), b("p2", "b"), b("p3", "a"), b("p4", "c")])
    # a: p1, p3 -> 2 of 4 voters = 50 %; b and c: 1 of 4 = 25 %.
    assert result.turnout == 4
    assert [(o.key, o.count, o.percent) for o in result.options] == [
        ("a", 2, 50.0),
        ("b", 1, 25.0),
        ("c", 1, 25.0),
    ]


def test_same_participant_twice_last_ballot_wins() -> None:
    poll = PollSpec("single", ABC)
    result = tally(poll, [b("p1", "a"), b("p2", "a"), b("p1", "b")])
    # p1 changed a -> b: a has only p2, b has p1, turnout 2 people.
    assert (result.turnout, result.option("a").count, result.option("b").count) == (2, 1, 1)


def test_invalid_ballot_is_rejected_and_does_not_erase_earlier_vote() -> None:
    poll = PollSpec("single", ABC)
    result = tally(poll, [b("p1", "a"), b("p1", "zz")])
    assert (result.turnout, result.rejected, result.option("a").count) == (1, 1, 1)


def test_multi_collapses_repeats_and_reports_percent_of_voters() -> None:
    poll = PollSpec("multi", ABC, max_choices=2)
    ballots = [b("p1", "a", "b"), b("p2", "b"), b("p3", "c", "b"), b("p4", "b", "a", "b", "a")]
    result = tally(poll, ballots)
    # p4's repeated taps collapse to {a, b}. a: p1, p4 = 2; b: all 4; c: p3 = 1.
    # Percent of 4 voters: 50, 100, 25 (sums to 175: voters may pick several).
    assert [(o.count, o.percent) for o in result.options] == [(2, 50.0), (4, 100.0), (1, 25.0)]
    assert validate_choice(poll, ["b", "a", "b"]) == ["a", "b"]  # poll order, once each


def test_ranking_borda_with_partial_rankings() -> None:
    poll = PollSpec("ranking", [*ABC, ("d", "Dates")])
    ballots = [b("p1", "a", "b", "c", "d"), b("p2", "b", "a"), b("p3", "c")]
    result = tally(poll, ballots)
    # 4 options: 1st = 3 points, 2nd = 2, 3rd = 1, 4th and unranked = 0.
    # a: 3 (p1) + 2 (p2) = 5;  b: 2 + 3 = 5;  c: 1 + 3 (p3 alone) = 4;  d: 0.
    assert [o.borda for o in result.options] == [5, 5, 4, 0]
    assert [o.first_preferences for o in result.options] == [1, 1, 1, 0]
    # Ranked anywhere: a by p1, p2; b by p1, p2; c by p1, p3; d by p1.
    assert [o.count for o in result.options] == [2, 2, 2, 1]


def test_scale_distribution_mean_and_median() -> None:
    result = tally(SCALE, [b(f"p{i}", v) for i, v in enumerate("12245")])
    # Values 1,2,2,4,5: mean 14/5 = 2.8, median the middle value 2.
    assert [o.count for o in result.options] == [1, 2, 0, 1, 1]
    assert result.mean == pytest.approx(2.8)
    assert result.median == 2.0
    even = tally(SCALE, [b(f"p{i}", v) for i, v in enumerate("1245")])
    assert even.median == 3.0  # (2 + 4) / 2


def test_result_round_trips_through_strict_json() -> None:
    poll = PollSpec("ranking", ABC)
    for ballots in ([], [b("p1", "c", "a")]):
        d = tally(poll, ballots).to_dict()
        assert json.loads(json.dumps(d, allow_nan=False)) == d
    empty = tally(SCALE, []).to_dict()
    assert (empty["turnout"], empty["mean"], empty["options"][0]["percent"]) == (0, None, 0.0)


@pytest.mark.parametrize(
    ("kind", "choice", "code", "message"),
    [
        ("multi", ["a", "b", "c", "d"], "too_many", "Pick at most 3 options"),
        ("multi", ["a", "x"], "unknown_option", "Unknown option 'x'"),
        ("ranking", ["a", "b", "a"], "duplicate_rank", "Each option can be ranked once"),
        ("ranking", [], "empty", "Rank at least one option"),
        ("single", ["a", "b"], "too_many", "Pick exactly one option"),
        ("single", "a", "bad_format", "A choice must be a list of option keys"),
    ],
)
def test_bad_choices_get_a_clear_message(
    kind: Kind, choice: list[str], code: str, message: str
) -> None:
    poll = PollSpec(kind, [*ABC, ("d", "Dates")], max_choices=3 if kind == "multi" else None)
    with pytest.raises(BallotError) as err:
        validate_choice(poll, choice)
    assert (err.value.code, err.value.message) == (code, message)


def test_scale_accepts_only_one_point() -> None:
    assert validate_choice(SCALE, ["4"]) == ["4"]
    with pytest.raises(BallotError):
        validate_choice(SCALE, ["6"])
    with pytest.raises(BallotError):
        validate_choice(SCALE, ["2", "3"])


KEYS = ["a", "b", "c", "d", "e"]


@given(
    n_options=st.integers(1, 5),
    max_choices=st.integers(1, 5),
    raw=st.lists(
        st.tuples(
            st.sampled_from([f"p{i}" for i in range(8)]),
            st.lists(st.sampled_from([*KEYS, "zz"]), max_size=12),
        ),
        max_size=40,
    ),
)
def test_no_option_is_ever_counted_twice_for_one_person(
    n_options: int, max_choices: int, raw: list[tuple[str, list[str]]]
) -> None:
    poll = PollSpec("multi", [(k, k.upper()) for k in KEYS[:n_options]], max_choices=max_choices)
    result = tally(poll, [Ballot(pid, choice) for pid, choice in raw])
    participants = len({pid for pid, _ in raw})
    counts = [o.count for o in result.options]
    assert all(c <= participants for c in counts)
    assert sum(counts) <= participants * max_choices
    assert all(c <= result.turnout for c in counts)
    assert result.turnout + result.rejected <= len(raw)


def _people(sizes: dict[str, int]) -> list[Ballot]:
    """sizes[group] participants answering `group` to "age"; odd ones vote a, even ones b."""
    out, i = [], 0
    for group, n in sizes.items():
        for _ in range(n):
            demo = {} if group == "missing" else {"age": group}
            out.append(b(f"p{i}", "a" if i % 2 else "b", **demo))
            i += 1
    return out


AGES = {"young": "18-29", "mid": "30-59", "old": "60+"}


def _row(table: CrossTab, key: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in table.to_dict()["rows"] if r["key"] == key)
    return row


def test_group_of_nine_is_suppressed_with_its_complement() -> None:
    table = crosstab(
        PollSpec("single", ABC),
        _people({"young": 9, "mid": 12, "old": 15}),
        "age",
        AGES,
        threshold=10,
    )
    young, mid, old = (_row(table, k) for k in ("young", "mid", "old"))
    assert young == {
        "key": "young",
        "label": "18-29",
        "participants": None,
        "suppressed": True,
        "result": None,
    }
    # Total (36) minus old (15) would reveal young if only young were hidden, so
    # the next-smallest group, mid (12), is hidden too.
    assert mid["suppressed"] is True and mid["result"] is None
    assert old["suppressed"] is False and old["participants"] == 15
    assert table.total is not None and table.total.turnout == 36


def test_two_small_groups_need_no_extra_suppression() -> None:
    table = crosstab(
        PollSpec("single", ABC),
        _people({"young": 9, "mid": 12, "old": 3}),
        "age",
        AGES,
        threshold=10,
    )
    assert [r.suppressed for r in table.rows] == [True, False, True, False]  # + not given (0)
    assert _row(table, "mid")["participants"] == 12


def test_group_at_threshold_is_shown_and_empty_groups_do_not_force_suppression() -> None:
    table = crosstab(
        PollSpec("single", ABC), _people({"young": 10, "old": 11}), "age", AGES, threshold=10
    )
    assert not any(r.suppressed for r in table.rows)
    assert _row(table, "mid")["participants"] == 0


def test_lone_small_group_withholds_the_total() -> None:
    table = crosstab(PollSpec("single", ABC), _people({"young": 4}), "age", AGES)
    assert table.total is None and _row(table, "young")["suppressed"] is True


def test_not_given_is_its_own_group() -> None:
    ballots = [
        b("p1", "a", age="young"),
        b("p2", "a"),
        b("p3", "b", age="prefer_not"),
        b("p4", "c", age="martian"),
    ]
    table = crosstab(PollSpec("single", ABC), ballots, "age", AGES, threshold=1)
    row = _row(table, NOT_GIVEN)
    # p2 (missing), p3 (prefer not), p4 (answer not offered): 3 people, votes a, b, c.
    assert row["label"] == "Not given" and row["participants"] == 3
    assert [o["count"] for o in row["result"]["options"]] == [1, 1, 1]
    assert json.loads(json.dumps(table.to_dict())) == table.to_dict()


@given(
    sizes=st.fixed_dictionaries({k: st.integers(0, 25) for k in [*AGES, "missing"]}),
    threshold=st.integers(1, 12),
)
def test_a_suppressed_group_is_never_derivable(sizes: dict[str, int], threshold: int) -> None:
    table = crosstab(PollSpec("single", ABC), _people(sizes), "age", AGES, threshold=threshold)
    size = {**sizes, NOT_GIVEN: sizes["missing"]}
    hidden = [r for r in table.rows if r.suppressed]
    for r in table.rows:
        if 0 < size[r.key] < threshold:
            assert r.suppressed and r.result is None and r.participants is None
    # With the total shown, a single hidden group would be total minus the rest.
    if table.total is not None:
        assert len(hidden) != 1
