"""The engine's own behaviour, with the hashing fake: placement, stability,
bookkeeping and serialisation."""

from __future__ import annotations

import json

import pytest

from tests.support.theming import synthetic_comments
from theming import naming
from theming.cluster import ClusterParams, neighbours_for
from theming.embed import HashingEmbedder
from theming.engine import ThemeEngine
from theming.model import DISCARDED, UNASSIGNED, Comment, ThemingError


def theme_of_prefix(engine: ThemeEngine) -> dict[str, set[str]]:
    """Synthetic theme name -> set of engine theme ids its comments landed in."""
    out: dict[str, set[str]] = {}
    for cid in engine.comments:
        out.setdefault(cid.split("-")[1], set()).add(engine.where(cid))
    return out


def accounted_once(engine: ThemeEngine) -> None:
    snap = engine.snapshot()
    listed = [c for t in snap["themes"] for c in t["members"]]
    listed += snap["unassigned"] + [d["id"] for d in snap["discarded"]]
    assert sorted(listed) == sorted(engine.comments)
    engine.check()


def test_retheme_finds_the_synthetic_themes(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    summary = engine.retheme()
    assert summary["themes_after"] >= 3
    for places in theme_of_prefix(engine).values():
        assert UNASSIGNED not in places
    # no engine theme mixes two synthetic themes
    owner: dict[str, str] = {}
    for cid in engine.comments:
        owner.setdefault(engine.where(cid), cid.split("-")[1])
        assert owner[engine.where(cid)] == cid.split("-")[1]
    accounted_once(engine)


def test_add_never_moves_existing_comments(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments(seed=1))
    engine.retheme()
    before = {cid: engine.where(cid) for cid in engine.comments}
    versions = {tid: t.version for tid, t in engine.themes.items()}
    summary = engine.add(synthetic_comments(per_theme=5, seed=2, prefix="new"))
    assert summary["added"] == 15
    assert {cid: engine.where(cid) for cid in before} == before
    assert {tid: t.version for tid, t in engine.themes.items()} == versions
    # new comments join the theme their vocabulary belongs to
    for cid, place in summary["placed"].items():
        theme_name = cid.split("-")[1]
        old_places = {before[c] for c in before if c.split("-")[1] == theme_name}
        assert place in old_places
    accounted_once(engine)


def test_new_comment_unlike_every_theme_waits_unassigned(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    engine.add([Comment("odd", "quantum chromodynamics lecture saxophone")])
    assert engine.where("odd") == UNASSIGNED


def test_resent_ids_are_ignored(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    batch = synthetic_comments(per_theme=3)
    engine.add(batch)
    summary = engine.add([*batch, batch[0]])
    assert summary["added"] == 0 and summary["ignored_known_ids"] == len(batch) + 1
    assert len(engine.comments) == len(batch)


def test_duplicates_collapse_into_one_item_and_keep_every_id(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    comments = synthetic_comments()
    copies = [
        Comment("dup-1", comments[0].text.upper() + "!", table="9"),
        Comment("dup-2", "  " + comments[0].text + " ", table="8"),
    ]
    engine.add(comments)
    engine.retheme()
    engine.add(copies)
    theme = engine.where(comments[0].id)
    assert engine.where("dup-1") == engine.where("dup-2") == theme
    snap = engine.snapshot()
    items = next(t["items"] for t in snap["themes"] if t["id"] == theme)
    item = next(i for i in items if comments[0].id in i["ids"])
    assert item["count"] == 3 and set(item["ids"]) == {comments[0].id, "dup-1", "dup-2"}
    assert sum(i["count"] for i in items) == len(engine.members(theme))
    accounted_once(engine)


def test_retheme_keeps_ids_when_nothing_changed(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    before = {tid: set(engine.members(tid)) for tid in engine.themes}
    labels = {tid: t.label for tid, t in engine.themes.items()}
    engine.add(synthetic_comments(per_theme=4, seed=5, prefix="late"))
    summary = engine.retheme()
    assert summary["retired"] == [] and summary["new"] == []
    for tid, members in before.items():
        assert members <= set(engine.members(tid))
        assert engine.themes[tid].label == labels[tid]


def test_state_round_trips_through_json(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    some_theme = next(iter(engine.themes))
    engine.rename(some_theme, "Shade and benches")
    engine.discard(engine.members(some_theme)[0], "off topic")
    data = json.loads(json.dumps(engine.to_dict()))
    again = ThemeEngine.from_dict(data, fake)
    assert again.to_dict() == engine.to_dict()
    assert again.snapshot() == engine.snapshot()
    assert DISCARDED in {again.where(c) for c in again.comments}


def test_unknown_state_format_is_refused(fake: HashingEmbedder) -> None:
    data = ThemeEngine(fake).to_dict()
    data["format"] = 999
    with pytest.raises(ThemingError, match="format"):
        ThemeEngine.from_dict(data, fake)


def test_empty_engine_rethemes_to_nothing(fake: HashingEmbedder) -> None:
    engine = ThemeEngine(fake)
    assert engine.retheme()["themes_after"] == 0
    assert engine.snapshot()["themes"] == []


def test_few_comments_get_a_sparser_graph_many_the_tuned_one() -> None:
    """k of the kNN graph: 5 neighbours below 72 comments (half of a typical
    question streamed live), the tuned 6 from there on, never more."""
    params = ClusterParams()
    assert [neighbours_for(n, params) for n in (3, 40, 71, 72, 500, 5000)] == [5, 5, 5, 6, 6, 6]
    fixed = ClusterParams(neighbours=8, min_neighbours=8)
    assert neighbours_for(20, fixed) == neighbours_for(5000, fixed) == 8


def test_settled_labels_are_the_best_now_team_labels_stay(fake: HashingEmbedder) -> None:
    """While comments stream a theme keeps a label that is nearly the best;
    once the question is quiet (``settled``) every machine-named theme gets
    its best label, whether its members changed or not. Team labels stay."""
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    engine.refresh_labels(settled=True)
    best = {tid: t.label for tid, t in engine.themes.items()}
    machine, team = sorted(engine.themes)[:2]
    engine.themes[machine].label = "An older label kept while it was close"
    engine.themes[team].label, engine.themes[team].label_by_team = "Typed by the team", True
    assert engine.refresh_labels() == []  # members unchanged: nothing relabelled
    seen = {tid: t.version for tid, t in engine.themes.items()}
    assert engine.refresh_labels(settled=True) == [machine]
    assert engine.themes[machine].label == best[machine]
    # A new label is a new version: a publish of the version that showed the old one
    # is refused rather than putting a label nobody saw on the screens.
    assert {
        tid: t.version - seen[tid] for tid, t in engine.themes.items() if t.version != seen[tid]
    } == {machine: 1}
    assert engine.themes[team].label == "Typed by the team"


def largest_theme_with_an_older_label(
    fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> tuple[ThemeEngine, str, str]:
    """An engine whose largest theme shows another of its candidate labels than
    the best, with any label still offered counted as "nearly the best"."""
    monkeypatch.setattr(naming, "KEEP_MARGIN", 10.0)
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    engine.refresh_labels(settled=True)
    tid = max(engine.themes, key=lambda t: len(engine.members(t)))
    texts = engine._central_texts(engine.members(tid))
    best = engine.themes[tid].label
    older = next(p for p in naming.candidates(texts[:8], engine.subject()) if p != best)
    engine.themes[tid].label = older
    return engine, tid, older


def test_a_theme_that_doubled_has_its_label_chosen_afresh(
    fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While comments stream a label is kept while it is nearly the best, but
    not past the theme doubling: its first members may no longer say what
    most of it says (the demo's river theme kept a label about algae)."""
    engine, tid, older = largest_theme_with_an_older_label(fake, monkeypatch)
    members = engine.members(tid)

    def grow(count: int, start: int) -> None:  # resends of members' words join the theme
        words = [engine.comments[members[i % len(members)]].text for i in range(count)]
        engine.add([Comment(f"more-{start + i}", w) for i, w in enumerate(words)])

    grow(len(members) - 1, 0)
    assert engine.where("more-0") == tid
    assert engine.refresh_labels() == [] and engine.themes[tid].label == older  # kept
    grow(1, len(members))  # now twice the members the label was chosen for
    assert engine.refresh_labels() == [tid]
    assert engine.themes[tid].label == engine.choose_labels({tid}, fresh={tid})[tid] != older


def test_labels_draw_on_distinct_comments_not_copies(fake: HashingEmbedder) -> None:
    """Tables that type the same point: the most central texts a label is
    drawn from list each comment once, however often it was typed."""
    engine = ThemeEngine(fake)
    words = "parks trees playground green benches"
    copies = [Comment(f"copy-{i}", words) for i in range(10)]
    others = [Comment(f"other-{i}", f"{words} picnic {i}") for i in range(3)]
    engine.add(copies + others)
    texts = engine._central_texts(list(engine.comments))
    assert sorted(texts) == sorted({c.text for c in copies + others})


def test_a_published_theme_is_offered_the_label_its_members_give_now(
    fake: HashingEmbedder,
) -> None:
    """A published theme's label changes only by a team step; when new
    members make another label the best, it is offered beside it, and a
    rename by the team clears the offer."""
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    engine.refresh_labels(settled=True)
    tid = max(engine.themes, key=lambda t: len(engine.members(t)))
    shown = "An early label nobody would pick now"
    engine.themes[tid].label = shown
    assert engine.refresh_labels(frozen={tid}) == []  # members unchanged: no offer yet
    text = engine.comments[engine.members(tid)[0]].text
    engine.add([Comment("one-more", text)])  # joins the theme it copies
    assert engine.refresh_labels(frozen={tid}) == [tid]
    theme = engine.themes[tid]
    assert theme.label == shown
    assert theme.suggested_label == engine.choose_labels({tid}, fresh={tid})[tid] != shown
    snapped = {t["id"]: t for t in engine.snapshot()["themes"]}
    assert snapped[tid]["suggested_label"] == theme.suggested_label
    again = ThemeEngine.from_dict(json.loads(json.dumps(engine.to_dict())), fake)
    assert again.themes[tid].suggested_label == theme.suggested_label
    engine.rename(tid, "Typed by the team")
    assert engine.themes[tid].suggested_label is None


def test_a_label_taken_from_the_offer_is_offered_anew_a_typed_one_never(
    fake: HashingEmbedder,
) -> None:
    """ "Use this label" takes the machine's label: when the theme changes
    again (a split took half of it), its members' label is offered again. A
    label the team typed is theirs for good."""
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    engine.retheme()
    engine.refresh_labels(settled=True)
    tid, other = sorted(engine.themes, key=lambda t: -len(engine.members(t)))[:2]
    engine.themes[tid].label = "An early label nobody would pick now"
    for cid in engine.members(other):  # a person moves another theme's comments in
        engine.move(cid, tid)
    engine.refresh_labels(frozen={tid})
    offered = engine.themes[tid].suggested_label
    assert offered
    engine.rename(tid, offered)
    assert not engine.themes[tid].label_by_team
    engine.split(tid)  # half of it leaves: its members say something else now
    assert tid in engine.refresh_labels(frozen={tid})
    assert engine.themes[tid].suggested_label not in (None, offered)
    engine.rename(tid, "Typed by the team")
    assert engine.themes[tid].label_by_team
    engine.split(tid)
    engine.refresh_labels(frozen={tid})
    assert engine.themes[tid].suggested_label is None


def test_a_restarted_engine_keeps_labels_that_are_nearly_the_best(
    fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How many members a label was chosen for survives a restart, so arrivals
    after it do not make every label be chosen afresh (labels on the team's
    laptops would change because the server restarted)."""
    engine, tid, older = largest_theme_with_an_older_label(fake, monkeypatch)
    members = engine.members(tid)
    again = ThemeEngine.from_dict(json.loads(json.dumps(engine.to_dict())), fake)
    again.add([Comment("after-restart", engine.comments[members[0]].text)])
    assert again.where("after-restart") == tid
    again.refresh_labels()
    assert again.themes[tid].label == older
