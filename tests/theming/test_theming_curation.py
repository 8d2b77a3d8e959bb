"""Theme-team operations: what they do, that a retheme never undoes them,
and that concurrent edits are caught."""

from __future__ import annotations

import random

import pytest

from tests.support.theming import synthetic_comments
from theming.embed import HashingEmbedder
from theming.engine import ThemeEngine
from theming.model import DISCARDED, UNASSIGNED, CurationError, VersionConflict


@pytest.fixture
def engine(fake: HashingEmbedder) -> ThemeEngine:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    assert len(engine.themes) >= 3
    return engine


def biggest(engine: ThemeEngine, n: int = 1) -> list[str]:
    return sorted(engine.themes, key=lambda t: -len(engine.members(t)))[:n]


def test_rename_survives_retheme_and_returns_before_after(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    old_label = engine.themes[tid].label
    summary = engine.rename(tid, "  Shade  for the playground ", expected_version=1)
    assert summary["before"]["label"] == old_label
    assert summary["after"]["label"] == "Shade for the playground"
    assert summary["after"]["version"] == 2
    engine.retheme()
    assert engine.themes[tid].label == "Shade for the playground"


def test_stale_version_raises_version_conflict(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    engine.rename(tid, "First", expected_version=1)
    with pytest.raises(VersionConflict) as caught:
        engine.rename(tid, "Second", expected_version=1)
    assert caught.value.actual == 2 and engine.themes[tid].label == "First"


def test_merge_folds_sources_into_target_and_stays_merged(engine: ThemeEngine) -> None:
    target, source = biggest(engine, 2)
    from_source = set(engine.members(source))
    expected = set(engine.members(target)) | from_source
    summary = engine.merge([source], target, label="Everything outdoors")
    assert source not in engine.themes
    assert set(engine.members(target)) == expected
    assert set(summary["moved"]) == from_source
    engine.retheme()
    assert expected <= set(engine.members(target))
    assert engine.themes[target].label == "Everything outdoors"


def test_merge_refuses_target_among_sources(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    with pytest.raises(CurationError):
        engine.merge([tid], tid)


def test_split_by_hand_moves_the_chosen_comments_and_survives_retheme(
    engine: ThemeEngine,
) -> None:
    (tid,) = biggest(engine)
    members = engine.members(tid)
    chosen = members[:2]
    summary = engine.split(tid, chosen, label="Picnics")
    new_id = summary["new_theme"]
    assert set(engine.members(new_id)) >= set(chosen)
    assert not set(chosen) & set(engine.members(tid))
    engine.retheme()
    assert set(engine.members(new_id)) >= set(chosen)
    assert engine.themes[new_id].label == "Picnics"


def test_automatic_split_gives_two_non_empty_themes(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    size = len(engine.members(tid))
    summary = engine.split(tid)
    new_id = summary["new_theme"]
    assert engine.members(tid) and engine.members(new_id)
    assert len(engine.members(tid)) + len(engine.members(new_id)) == size


def test_split_needs_both_sides(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    with pytest.raises(CurationError):
        engine.split(tid, engine.members(tid))


def test_moved_comment_stays_where_put_through_retheme(engine: ThemeEngine) -> None:
    a, b = biggest(engine, 2)
    cid = engine.members(a)[0]
    engine.move(cid, b)
    parked = engine.members(a)[0]
    engine.move(parked, None)
    engine.retheme()
    assert engine.where(cid) == b
    assert engine.where(parked) == UNASSIGNED
    assert engine.themes[b].locked


def test_discard_keeps_the_record_and_survives_retheme(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    cid = engine.members(tid)[0]
    summary = engine.discard(cid, "personal attack")
    assert summary["after"]["reason"] == "personal attack"
    engine.retheme()
    assert engine.where(cid) == DISCARDED
    assert engine.discarded()[cid] == "personal attack"
    engine.restore(cid)
    assert engine.where(cid) == UNASSIGNED


def test_pinned_quote_is_shown_first(engine: ThemeEngine) -> None:
    (tid,) = biggest(engine)
    cid = engine.members(tid)[-1]
    engine.pin_quote(tid, cid)
    engine.retheme()
    snap = engine.snapshot()
    theme = next(t for t in snap["themes"] if t["id"] == tid)
    assert theme["quotes"][0]["comment_id"] == cid


def test_pin_quote_from_another_theme_is_refused(engine: ThemeEngine) -> None:
    a, b = biggest(engine, 2)
    with pytest.raises(CurationError):
        engine.pin_quote(a, engine.members(b)[0])


def test_random_operations_keep_every_comment_exactly_once(fake: HashingEmbedder) -> None:
    rng = random.Random(7)
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments(seed=3))
    engine.retheme()
    for step in range(60):
        themes = list(engine.themes)
        comments = list(engine.comments)
        action = rng.choice(["move", "discard", "merge", "split", "retheme", "add", "rename"])
        try:
            if action == "move":
                engine.move(rng.choice(comments), rng.choice([*themes, None]))
            elif action == "discard":
                engine.discard(rng.choice(comments), "test")
            elif action == "merge" and len(themes) >= 2:
                a, b = rng.sample(themes, 2)
                engine.merge([a], b)
            elif action == "split" and themes:
                engine.split(rng.choice(themes))
            elif action == "retheme":
                engine.retheme()
            elif action == "add":
                engine.add(synthetic_comments(per_theme=2, seed=step, prefix=f"s{step}"))
            elif action == "rename" and themes:
                engine.rename(rng.choice(themes), f"name {step}")
        except CurationError:
            pass
        engine.check()
        snap = engine.snapshot()
        listed = [c for t in snap["themes"] for c in t["members"]]
        listed += snap["unassigned"] + [d["id"] for d in snap["discarded"]]
        assert sorted(listed) == sorted(engine.comments)
