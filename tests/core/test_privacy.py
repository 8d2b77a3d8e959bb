"""The small-groups rule, on examples worked by hand and against an attacker who
knows the rule and tries every room that would show the same figures."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core.privacy import PREFER_NOT, hidden_groups, shown_distribution
from server.core.weighting import RoomFigures, representativeness, room_figures

OPTIONS = ["a", "b", "c"]
CENSUS = {"a": 0.2, "b": 0.3, "c": 0.5}


def test_a_lone_small_group_takes_the_next_smallest_with_it() -> None:
    assert hidden_groups({"a": 3, "b": 40, "c": 12, "d": 0}, 10) == ({"a", "c"}, True)


def test_two_small_groups_hide_each_other_and_empty_groups_show() -> None:
    assert hidden_groups({"a": 3, "b": 4, "c": 50, "d": 0}, 10) == ({"a", "b"}, True)


def test_a_lone_small_group_without_partner_withholds_the_total() -> None:
    assert hidden_groups({"a": 3, "b": 0}, 10) == ({"a"}, False)


def test_small_prefer_not_withholds_the_number_who_answered() -> None:
    """Shown counts and shares give the number who picked an option: the number
    who answered minus it would be the "prefer not to say" count."""
    shown = shown_distribution({"a": 3, "b": 20, "c": 30, PREFER_NOT: 5}, OPTIONS, 10)
    assert shown.hidden == {"a", "b", PREFER_NOT}
    assert not shown.total_ok


def test_nothing_small_shows_everything_as_before() -> None:
    counts = {"a": 12, "b": 30, "c": 40, PREFER_NOT: 0}
    room = room_figures(counts, OPTIONS, CENSUS, 10)
    assert room.counts == {"a": 12, "b": 30, "c": 40, PREFER_NOT: 0}
    assert room.answered == 82
    assert room.shares == pytest.approx({k: counts[k] / 82 for k in OPTIONS})
    assert room.representativeness == pytest.approx(
        representativeness(counts, CENSUS)["representativeness"]
    )


def consistent(room: dict[str, int], figures: RoomFigures) -> bool:
    """Whether a room agrees with every figure shown: the shown counts, each shown
    share (a count over the people who picked an option), the number who answered,
    and representativeness (the suppressed options merged, as shown)."""
    given = sum(room[k] for k in OPTIONS)
    if any(n is not None and room[k] != n for k, n in figures.counts.items()):
        return False
    if any(not given or room[k] / given != share for k, share in figures.shares.items()):
        return False
    if figures.answered is not None and sum(room.values()) != figures.answered:
        return False
    if figures.representativeness is not None:
        hidden = [k for k in OPTIONS if figures.counts[k] is None]
        merged = {k: room[k] for k in OPTIONS if k not in hidden}
        merged["*"] = sum(room[k] for k in hidden)
        census = {k: CENSUS[k] for k in OPTIONS if k not in hidden} | {
            "*": sum(CENSUS[k] for k in hidden)
        }
        rep = representativeness(merged, census)["representativeness"]
        if rep is None or abs(rep - figures.representativeness) > 1e-9:
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_no_suppressed_count_follows_from_what_is_shown(sizes: list[int]) -> None:
    """Through shares, the total and representativeness too: for every suppressed
    count, rooms that agree with every figure shown disagree on it."""
    threshold, top = 5, 12
    counts = dict(zip([*OPTIONS, PREFER_NOT], sizes, strict=True))
    figures = room_figures(counts, OPTIONS, CENSUS, threshold)
    unknown = [k for k, n in figures.counts.items() if n is None]
    rooms = [
        room
        for values in itertools.product(range(top + 1), repeat=len(unknown))
        if consistent(room := {**counts, **dict(zip(unknown, values, strict=True))}, figures)
    ]
    assert counts in rooms
    for key in unknown:
        assert len({room[key] for room in rooms}) > 1, (key, counts, figures)
