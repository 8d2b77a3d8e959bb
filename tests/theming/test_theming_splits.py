"""Split offers for themes the machine may no longer reshape (theming.splits)."""

from __future__ import annotations

import random

import pytest

from tests.support.theming import VOCABULARIES
from theming.embed import HashingEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment

WORDS = VOCABULARIES | {
    "library": "library books reading hours librarians story children shelves study quiet".split(),
    "safety": "police fire firefighters ambulance dispatch response safety station crews".split(),
}
SIZES = {"parks": 12, "transit": 12, "housing": 12, "library": 12, "safety": 6}


@pytest.fixture
def engine(fake: HashingEmbedder) -> ThemeEngine:
    rng = random.Random(0)
    comments = [
        Comment(f"{topic}-{n}", " ".join(rng.sample(WORDS[topic], 5)))
        for topic, count in SIZES.items()
        for n in range(count)
    ]
    rng.shuffle(comments)
    engine = ThemeEngine(fake)
    engine.add(comments)
    engine.retheme()
    assert len(engine.themes) == 5
    return engine


def theme_of(engine: ThemeEngine, topic: str) -> str:
    return engine.where(f"{topic}-0")


def by_size(engine: ThemeEngine) -> list[str]:
    return sorted(engine.themes, key=lambda t: -len(engine.members(t)))


@pytest.mark.parametrize(
    ("into", "topic"),
    [("parks", "transit"), ("library", "safety")],  # twice the others' size; distinct only
)
def test_a_merged_theme_is_offered_the_split_that_undoes_it(
    engine: ThemeEngine, into: str, topic: str
) -> None:
    target, source = theme_of(engine, into), theme_of(engine, topic)
    came, had = set(engine.members(source)), set(engine.members(target))
    for cid in sorted(came):  # moved by hand: locked, no re-cluster will part them
        engine.move(cid, target)
    engine.refresh_labels()
    offer = engine.themes[target].split_offer
    assert offer is not None
    assert set(offer) in (came, had)  # either half: the split parts them again

    view = next(t for t in engine.snapshot()["themes"] if t["id"] == target)
    assert set(view["split_offer"]["comments"]) == set(offer)
    assert view["split_offer"]["example"] in {engine.comments[c].text for c in offer}

    engine.split(target, offer)  # the team takes it: one logged step
    assert engine.themes[target].split_offer is None
    engine.refresh_labels()
    assert all(t.split_offer is None for t in engine.themes.values())


def test_coherent_locked_themes_get_no_offer(engine: ThemeEngine) -> None:
    for tid in by_size(engine):
        engine.rename(tid, f"Named by the team {tid}")  # locked, members unchanged
    engine.refresh_labels()
    assert {tid: t.split_offer for tid, t in engine.themes.items() if t.split_offer} == {}


def test_unlocked_themes_are_left_to_the_re_cluster(engine: ThemeEngine) -> None:
    engine.refresh_labels()
    assert all(t.split_offer is None for t in engine.themes.values())


def test_a_merge_is_not_offered_back_until_the_theme_grows(engine: ThemeEngine) -> None:
    target, source = theme_of(engine, "parks"), theme_of(engine, "transit")
    engine.merge([source], target)  # the team put them together on purpose
    engine.refresh_labels()
    assert engine.themes[target].split_offer is None
    rng = random.Random(1)
    more = [
        Comment(f"more-{topic}-{n}", " ".join(rng.sample(WORDS[topic], 5)))
        for topic in ("parks", "transit")
        for n in range(4)
    ]
    engine.add(more)  # arrivals that join it: grown by more than a tenth
    assert sum(engine.where(c.id) == target for c in more) >= 3
    engine.refresh_labels()
    assert engine.themes[target].split_offer


def test_the_offer_survives_a_restart(engine: ThemeEngine, fake: HashingEmbedder) -> None:
    target, source = theme_of(engine, "parks"), theme_of(engine, "transit")
    for cid in engine.members(source):
        engine.move(cid, target)
    engine.refresh_labels()
    offer = engine.themes[target].split_offer
    assert offer
    again = ThemeEngine.from_dict(engine.to_dict(), fake)
    assert again.themes[target].split_offer == offer
