"""Room vs census, raking weights, ESS and weighted tallies, worked by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core.tally import Ballot, PollSpec
from server.core.weighting import (
    _trim,
    effective_sample_size,
    poststratify_weights,
    representativeness,
    weighted_tally,
)


def person(pid: str, choice: str = "a", **demo: str) -> Ballot:
    return Ballot(pid, [choice], demo)


def test_representativeness_excludes_prefer_not() -> None:
    rep = representativeness({"f": 30, "m": 60, "prefer_not": 10}, {"f": 0.5, "m": 0.5})
    # 90 answered: f 30/90 = 1/3, m 2/3. Differences ∓1/6; TVD = (1/6 + 1/6) / 2 = 1/6.
    assert (rep["respondents"], rep["not_given"]) == (90, 10)
    assert rep["room_shares"] == pytest.approx({"f": 1 / 3, "m": 2 / 3})
    assert rep["difference"] == pytest.approx({"f": -1 / 6, "m": 1 / 6})
    assert rep["representativeness"] == pytest.approx(5 / 6)


def test_representativeness_of_a_matching_room_is_one_and_percent_census_works() -> None:
    rep = representativeness({"a": 25, "b": 75}, {"a": 25.0, "b": 75.0})
    assert rep["census_shares"] == pytest.approx({"a": 0.25, "b": 0.75})
    assert rep["representativeness"] == pytest.approx(1.0)


def test_room_answer_missing_from_census_counts_against_the_room() -> None:
    rep = representativeness({"a": 1, "x": 1}, {"a": 1.0})
    # Room a 0.5, x 0.5 vs census a 1, x 0: TVD = (0.5 + 0.5) / 2 = 0.5.
    assert rep["census_shares"]["x"] == 0.0
    assert rep["representativeness"] == pytest.approx(0.5)
    assert representativeness({"prefer_not": 3}, {"a": 1.0})["representativeness"] is None


def test_one_margin_raking_by_hand() -> None:
    ballots = [
        person("f1", sex="f"),
        person("f2", sex="f"),
        person("f3", sex="f"),
        person("m1", sex="m"),
    ]
    w = poststratify_weights(ballots, {"sex": {"f": 0.5, "m": 0.5}})
    # Total 4 split 2 / 2: each f gets 2/3, the one m gets 2. Mean (3·2/3 + 2)/4 = 1.
    assert w == pytest.approx({"f1": 2 / 3, "f2": 2 / 3, "f3": 2 / 3, "m1": 2.0})


def test_non_answers_are_weight_neutral() -> None:
    ballots = [
        person("f1", sex="f"),
        person("f2", sex="f"),
        person("m1", sex="m"),
        person("x1"),
        person("x2", sex="prefer_not"),
    ]
    w = poststratify_weights(ballots, {"sex": {"f": 0.5, "m": 0.5}})
    # The 3 answerers keep total 3, split 1.5 / 1.5: f 0.75 each, m 1.5.
    # x1 and x2 stay 1; mean (0.75·2 + 1.5 + 1 + 1)/5 = 1, so no renormalisation shift.
    assert w == pytest.approx({"f1": 0.75, "f2": 0.75, "m1": 1.5, "x1": 1.0, "x2": 1.0})


def test_extreme_weights_are_trimmed_then_renormalised() -> None:
    ballots = [person(f"f{i}", sex="f") for i in range(99)] + [person("m", sex="m")]
    w = poststratify_weights(ballots, {"sex": {"f": 0.5, "m": 0.5}})
    # Untrimmed m would weigh 50. Capped at 5, the 99 f share the other 95: 95/99 each.
    assert w["m"] == pytest.approx(5.0)
    assert w["f0"] == pytest.approx(95 / 99)
    assert sum(w.values()) == pytest.approx(100.0)


def test_census_answer_nobody_gave_is_dropped_from_the_margin() -> None:
    ballots = [person("a1", age="a"), person("a2", age="a"), person("b1", age="b")]
    w = poststratify_weights(ballots, {"age": {"a": 0.25, "b": 0.25, "c": 0.5}})
    # c is absent, so a/b renormalise to 50/50: a 0.75 each, b 1.5.
    assert w == pytest.approx({"a1": 0.75, "a2": 0.75, "b1": 1.5})


AGE, REGION = ["young", "mid", "old"], ["north", "south"]


@settings(max_examples=60, deadline=None)
@given(
    extra=st.lists(st.tuples(st.sampled_from(AGE), st.sampled_from(REGION)), max_size=60),
    f=st.lists(st.floats(0.75, 1.33), min_size=3, max_size=3),
    g=st.lists(st.floats(0.75, 1.33), min_size=2, max_size=2),
)
def test_raking_reproduces_census_margins(
    extra: list[tuple[str, str]], f: list[float], g: list[float]
) -> None:
    # Every cell is present, and the census comes from product weights f·g whose
    # max/min ratio is below 1.33⁴ ≈ 3.1, so the [0.2, 5] trim cannot bind: feasible.
    cells = list(itertools.product(AGE, REGION)) + extra
    ballots = [person(f"p{i}", age=a, region=r) for i, (a, r) in enumerate(cells)]
    true = [f[AGE.index(a)] * g[REGION.index(r)] for a, r in cells]
    census = {
        "age": {a: sum(t for t, (ca, _) in zip(true, cells, strict=True) if ca == a) for a in AGE},
        "region": {
            r: sum(t for t, (_, cr) in zip(true, cells, strict=True) if cr == r) for r in REGION
        },
    }
    w = poststratify_weights(ballots, census, tolerance=1e-9, max_iterations=2000)
    total = sum(w.values())
    assert total == pytest.approx(len(cells))
    for q, idx, answers in (("age", 0, AGE), ("region", 1, REGION)):
        want = sum(census[q].values())
        for ans in answers:
            got = sum(w[f"p{i}"] for i, c in enumerate(cells) if c[idx] == ans) / total
            assert got == pytest.approx(census[q][ans] / want, abs=1e-6)
    assert all(0.2 <= x <= 5.0 for x in w.values())


def test_effective_sample_size_by_hand() -> None:
    # (1 + 1 + 2)² / (1 + 1 + 4) = 16 / 6.
    assert effective_sample_size([1.0, 1.0, 2.0]) == pytest.approx(16 / 6)
    assert effective_sample_size({"a": 3.0, "b": 3.0}) == pytest.approx(2.0)
    assert effective_sample_size([]) == 0.0
    with pytest.raises(ValueError):
        effective_sample_size([1.0, -1.0])


@given(st.lists(st.floats(0.0, 50.0), min_size=1, max_size=200))
def test_effective_sample_size_never_exceeds_n(weights: list[float]) -> None:
    ess = effective_sample_size(weights)
    assert ess <= len(weights) * (1 + 1e-9)
    if any(w > 0 for w in weights):
        assert ess >= 1 - 1e-9


def test_weighted_tally_beside_raw() -> None:
    poll = PollSpec("single", [("a", "A"), ("b", "B")])
    ballots = [person("f1", "a"), person("f2", "a"), person("f3", "b"), person("m1", "b")]
    weights = {"f1": 2 / 3, "f2": 2 / 3, "f3": 2 / 3, "m1": 2.0}
    result = weighted_tally(poll, ballots, weights)
    # Raw 2 : 2 = 50 / 50. Weighted a = 4/3, b = 2/3 + 2 = 8/3, of 4: 33.3 % / 66.7 %.
    # ESS = 4² / (3·4/9 + 4) = 16 / (16/3) = 3.
    assert [o.percent for o in result.raw.options] == [50.0, 50.0]
    assert result.weighted_percents == pytest.approx({"a": 100 / 3, "b": 200 / 3})
    assert result.effective_sample_size == pytest.approx(3.0)
    d = result.to_dict()
    assert d["options"][1]["weighted_percent"] == pytest.approx(200 / 3)
    assert d["options"][1]["percent"] == 50.0


def test_weighted_scale_mean_and_unweighted_latecomer() -> None:
    poll = PollSpec("scale", [(str(i), str(i)) for i in range(1, 6)])
    result = weighted_tally(poll, [person("p1", "1"), person("p2", "5")], {"p1": 3.0})
    # p2 has no weight, so 1: mean (1·3 + 5·1) / 4 = 2.
    assert result.weighted_mean == pytest.approx(2.0)
    assert result.raw.mean == pytest.approx(3.0)


@settings(max_examples=200, deadline=None)
@given(
    w=st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=80).filter(
        lambda v: sum(v) > 0
    ),
    bounds=st.sampled_from([(0.2, 5.0), (0.5, 2.0), (0.1, 10.0), (1.0, 1.0)]),
)
def test_a_trim_is_one_scale_then_the_bounds_and_keeps_the_mean(
    w: list[float], bounds: tuple[float, float]
) -> None:
    lo, hi = bounds
    raw = np.array(w) / np.mean(w)
    out = _trim(raw, lo, hi)
    assert out.mean() == pytest.approx(1.0)
    assert out.min() >= lo - 1e-9 and out.max() <= hi + 1e-9
    inside = (out > lo + 1e-9) & (out < hi - 1e-9)
    if inside.sum() >= 2:  # the unclipped weights share one scale
        ratios = out[inside] / raw[inside]
        assert ratios == pytest.approx(np.full(len(ratios), ratios[0]), rel=1e-7)
    assert np.all(np.diff(out[np.argsort(raw, kind="stable")]) >= -1e-9)  # order kept
