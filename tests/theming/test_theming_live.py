"""A question streamed live ends themed as well as the same comments at once:
the re-cluster policy, the machine's logged steps, and labels that name themes."""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from server.themes.recluster import MACHINE, live_step, machine_rows
from tests.support.theming import ARGKP, synthetic_comments
from theming.cache import CachedEmbedder
from theming.embed import HashingEmbedder
from theming.engine import ThemeEngine
from theming.live import LiveClock, LivePolicy
from theming.model import Comment
from theming.naming import (
    LABEL_WEIGHTS,
    MAX_WORDS,
    MIN_WORDS,
    LabelRequest,
    choose_labels,
    label_phrases,
    restates,
    support,
)
from theming.suggest import suggest

POLICY = LivePolicy(first_at=6, growth=0.15, interval=8.0, settle=3.0, cost_factor=5.0)


def test_first_themes_come_at_first_at_comments() -> None:
    clock = LiveClock()
    assert not clock.due(POLICY, 5, now=0.0)
    assert clock.due(POLICY, 6, now=0.0)


def test_a_growing_question_is_reclustered_at_each_step_of_growth() -> None:
    clock = LiveClock()
    clock.reclustered(100, started=10.0, finished=10.1)
    clock.arrived(10.2)
    assert not clock.due(POLICY, 114, now=10.7)  # +14 %: wait
    assert clock.due(POLICY, 115, now=10.7)  # +15 %


def test_arrivals_below_the_growth_step_are_reclustered_on_time_or_when_quiet() -> None:
    clock = LiveClock()
    clock.reclustered(100, started=0.0, finished=0.1)
    clock.arrived(5.0)
    assert not clock.due(POLICY, 101, now=6.0)
    assert clock.due(POLICY, 101, now=8.2)  # interval since the last re-cluster
    quiet = LiveClock()
    quiet.reclustered(100, started=0.0, finished=0.1)
    quiet.arrived(1.0)
    assert quiet.due(POLICY, 101, now=4.1)  # settle after the last arrival


def test_a_question_is_quiet_settle_seconds_after_its_last_arrival() -> None:
    clock = LiveClock()
    clock.arrived(10.0)
    assert not clock.quiet(POLICY, now=12.9)
    assert clock.quiet(POLICY, now=13.0)


def test_a_quiet_question_gets_its_settled_labels_once(fake: HashingEmbedder) -> None:
    """The re-cluster after the stream pauses chooses every label afresh (no
    keeping a nearly-best one) and marks the question's size as settled."""
    engine = ThemeEngine(fake)
    engine.add(synthetic_comments())
    clock = LiveClock()
    live_step(engine, clock, POLICY, set(), arrived=True)
    assert clock.labels_settled == -1  # arriving: not settled
    tid = sorted(engine.themes)[0]
    engine.themes[tid].label = "A label kept while comments arrived"
    engine.add([Comment("late", synthetic_comments(per_theme=1, seed=9)[0].text)])
    clock.arrived(time.monotonic() - POLICY.settle - 1)
    live_step(engine, clock, POLICY, set(), arrived=False)
    assert clock.labels_settled == len(engine.comments)
    assert engine.themes[tid].label != "A label kept while comments arrived"


def test_nothing_new_means_no_recluster_and_cost_spaces_them_out() -> None:
    clock = LiveClock()
    clock.reclustered(500, started=0.0, finished=2.0)  # a 2 s re-cluster
    assert not clock.due(POLICY, 500, now=100.0)  # nothing arrived since
    clock.arrived(2.5)
    assert not clock.due(POLICY, 1000, now=9.0)  # doubled, but 5 x 2 s not yet passed
    assert clock.due(POLICY, 1000, now=12.1)


def argkp_groups(count: int) -> list[list[dict[str, str]]]:
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with ARGKP.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            groups[(row["topic"], row["stance"])].append(row)
    return [groups[k] for k in sorted(groups)[:count]]


def stream(rows: list[dict[str, str]], embedder: CachedEmbedder, policy: LivePolicy) -> tuple:
    """Comments one by one, 3 a second, the policy applied as the worker does."""
    order = list(rows)
    random.Random(7).shuffle(order)
    engine = ThemeEngine(embedder)
    engine.question = rows[0]["topic"]
    vectors = embedder.encode([row["text"] for row in order])  # one batch, as the worker's
    clock, retired, now = LiveClock(), [], 0.0
    for i, row in enumerate(order):
        engine.add([Comment(row["id"], row["text"], f"table {i % 20}")], vectors[i : i + 1])
        clock.last_arrival = now
        retired += _step(engine, clock, policy, now)
        now += 1 / 3
    return engine, retired


def _step(engine: ThemeEngine, clock: LiveClock, policy: LivePolicy, now: float) -> list:
    # live_step reads the monotonic clock; the stream's own clock is simulated
    # here by shifting the clock's record into the past.
    import time

    shift = time.monotonic() - now
    for name in ("last_recluster", "last_arrival"):
        setattr(clock, name, getattr(clock, name) + shift)
    out = live_step(engine, clock, policy, set(), arrived=False)
    for name in ("last_recluster", "last_arrival"):
        setattr(clock, name, getattr(clock, name) - shift)
    return out


def ami(engine: ThemeEngine, rows: list[dict[str, str]]) -> float:
    place = {c: f"t:{t}" for t in engine.themes for c in engine.members(t)}
    return float(
        adjusted_mutual_info_score(
            [r["theme_id"] for r in rows], [place.get(r["id"], "single:" + r["id"]) for r in rows]
        )
    )


@pytest.mark.model
@pytest.mark.timeout(600)  # two questions streamed with the real model on a shared machine
def test_streamed_questions_end_as_well_themed_as_offline(minilm: CachedEmbedder) -> None:
    """Before the live policy, a streamed question collapsed into one theme."""
    live, offline, counts = [], [], []
    for rows in argkp_groups(2):
        engine, retired = stream(rows, minilm, POLICY)
        engine.check()
        live.append(ami(engine, rows))
        out = suggest([Comment(r["id"], r["text"]) for r in rows], minilm)
        place = {m: t["id"] for t in out["themes"] for m in t["members"]}
        offline.append(
            float(
                adjusted_mutual_info_score(
                    [r["theme_id"] for r in rows],
                    [place.get(r["id"], "single:" + r["id"]) for r in rows],
                )
            )
        )
        counts.append(len(engine.themes) / len({r["theme_id"] for r in rows}))
        for r in retired:  # every retired theme says where its comments went
            assert r["theme"] not in engine.themes
            assert (
                r["into"] is None
                or r["into"] in engine.themes
                or any(x["theme"] == r["into"] for x in retired)
            )
    assert sum(live) / len(live) >= sum(offline) / len(offline) - 0.03, (live, offline)
    assert 0.6 <= sum(counts) / len(counts) <= 1.6, counts


def test_a_retired_theme_is_logged_as_the_machine_step() -> None:
    rows = machine_rows(
        1, 2, [{"theme": "t3", "label": "Parking", "size": 4, "into": "t1", "into_label": "Cars"}]
    )
    assert [(r.actor, r.action, r.theme_key) for r in rows] == [(MACHINE, "recluster", "t3")]
    assert '"into": "t1"' in rows[0].after and '"Parking"' in rows[0].before


def _published_then_joined(fake: HashingEmbedder) -> tuple[ThemeEngine, LiveClock, str, list[str]]:
    """Two themes; the team publishes the parking one; then 8 comments on a
    concern of their own arrive and, nearest to it, join it."""
    engine = ThemeEngine(fake)
    texts = [f"parking downtown is too expensive {i}" for i in range(6)]
    texts += [f"more bike lanes on main street {i}" for i in range(6)]
    engine.add([Comment(str(i), t) for i, t in enumerate(texts)])
    clock = LiveClock()
    live_step(engine, clock, POLICY, set(), arrived=True)
    published = engine.where("0")
    live_step(engine, clock, POLICY, {published}, arrived=False, recluster=False)  # held now
    new = [str(100 + i) for i in range(8)]
    engine.add(
        [Comment(c, f"parking downtown for night shift nurses at the hospital {c}") for c in new]
    )
    assert {engine.where(c) for c in new} == {published}
    clock.last_recluster = -1e9
    return engine, clock, published, new


def test_a_held_theme_gives_back_at_the_re_cluster_what_the_machine_added(
    fake: HashingEmbedder,
) -> None:
    engine, clock, published, new = _published_then_joined(fake)
    core, label = set(engine.members(published)) - set(new), engine.themes[published].label
    # A restarted worker reads the same state back.
    engine = ThemeEngine.from_dict(engine.to_dict(), fake)
    rows = live_step(engine, clock, POLICY, {published}, arrived=True)
    assert set(engine.members(published)) == core  # what the team published stays
    assert engine.themes[published].label == label
    went = {engine.where(c) for c in new}
    assert len(went) == 1 and published not in went and went <= set(engine.themes)
    assert rows == [
        {"theme": published, "label": label, "size": len(core) + len(new), "released": len(new)}
        | {"into": went.pop(), "into_label": engine.themes[engine.where(new[0])].label}
    ]
    assert '"released": 8' in machine_rows(1, 2, rows)[0].after


def test_a_person_acting_on_a_held_theme_keeps_what_the_machine_added(
    fake: HashingEmbedder,
) -> None:
    engine, clock, published, new = _published_then_joined(fake)
    engine.rename(published, "Parking and night shifts")  # the team has looked at it
    assert live_step(engine, clock, POLICY, {published}, arrived=True) == []
    assert set(new) <= set(engine.members(published))


def test_label_phrases_are_whole_phrases_of_three_to_eight_words() -> None:
    phrases = label_phrases(
        "Cannabis should be legalized because it is not as harmful as alcohol, "
        "and it helps people with chronic pain."
    )
    assert "Cannabis is not as harmful as alcohol" in phrases  # "it" -> its subject
    assert "Cannabis helps people with chronic pain" in phrases
    for phrase in phrases:
        words = phrase.split()
        assert MIN_WORDS <= len(words) <= MAX_WORDS
        assert words[-1].lower() not in {"the", "a", "is", "of", "to", "and", "not", "as"}


def test_labels_are_distinct_and_never_the_question(fake: HashingEmbedder) -> None:
    question = "How should the city spend its parks budget"
    texts = [
        "How should the city spend its parks budget, more trees please",
        "More trees in every park please",
        "More trees in every park please",
    ]
    centre = fake.encode(["more trees in every park"])[0]
    requests = [LabelRequest(t, centre, texts) for t in ("t1", "t2", "t3")]
    labels = choose_labels(requests, fake.encode, question=question, reserved=["More trees"])
    assert len({v.casefold() for v in labels.values()} | {"more trees"}) == 4
    for label in labels.values():
        assert "spend its parks budget" not in label.lower()


def test_a_label_that_only_takes_a_side_on_the_question_is_passed_over(
    fake: HashingEmbedder,
) -> None:
    """ "We shouldn't adopt atheism" names no theme of "We should adopt atheism":
    a label must say why. The phrase nearest the centre is the restatement (its
    comment is the theme's first), so only the rule keeps it out."""
    question = "We should adopt atheism"
    texts = [
        "We shouldn't adopt atheism",
        "We shouldn’t adopt atheism, faith gives people hope",
        "Religion gives people hope in hard times",
    ]
    centre = fake.encode(["we shouldn't adopt atheism"])[0]
    labels = choose_labels([LabelRequest("t1", centre, texts)], fake.encode, question=question)
    assert labels["t1"] in {"Faith gives people hope", "Religion gives people hope in hard times"}
    assert restates("Atheism: we should not adopt", frozenset({"atheism", "adopt"}))


def test_a_theme_whose_central_members_offer_no_phrase_is_named_by_the_next(
    fake: HashingEmbedder,
) -> None:
    """Seen on the labels bench: "People should have the right to choose the
    sex …", a hard cut, when the 8 most central comments had no whole phrase."""
    no_phrase = "People should have the right to choose the sex of their own future children freely"
    texts = [no_phrase] * 8 + ["Parents should be free to choose"]
    centre = fake.encode(texts)[0]
    fallback = "People should have the right to choose the sex …"
    labels = choose_labels([LabelRequest("t1", centre, texts, fallback=fallback)], fake.encode)
    assert labels["t1"] == "Parents should be free to choose"


def test_no_label_is_the_start_of_another(fake: HashingEmbedder) -> None:
    """The demo's team page showed "Downtown businesses owned" beside "Downtown
    businesses owned by people who live here" (a theme split off the other)."""
    texts = [
        "Downtown businesses owned by people who live here",
        "The old brick buildings in the Old Mill district should stay",
    ]
    centre = fake.encode(["downtown businesses owned"])[0]
    taken = "Downtown businesses owned by people who live here"
    labels = choose_labels([LabelRequest("t1", centre, texts)], fake.encode, reserved=[taken])
    label = labels["t1"].casefold()
    assert not (taken.casefold().startswith(label + " ") or label.startswith(taken.casefold()))
    assert labels["t1"] != "Downtown businesses owned"


def test_among_phrases_rated_alike_the_label_is_in_the_words_most_members_use() -> None:
    """All candidates embed alike here (one vector), so only the count decides:
    "outdated" is in three of the four comments, "harm" in one; the question's
    own words count for nothing."""
    texts = [
        "Celibacy causes serious harm to young priests",
        "Celibacy is outdated",
        "The rule is outdated in modern times",
        "Such outdated rules drive good people away",
    ]
    one = np.ones(8, dtype=np.float32) / np.sqrt(8)

    def alike(batch: list[str]) -> np.ndarray:
        return np.tile(one, (len(batch), 1))

    request = [LabelRequest("t1", one, texts)]
    assert "outdated" in choose_labels(request, alike)["t1"].casefold()
    unweighted = replace(LABEL_WEIGHTS, support=0.0)  # the first phrase, as ties go
    assert choose_labels(request, alike, weights=unweighted)["t1"] == (
        "Celibacy causes serious harm to young priests"
    )
    members = [frozenset(t.casefold().split()) for t in texts]
    assert support("Celibacy is outdated", members, frozenset({"celibacy"})) == 0.75
    asked = frozenset({"celibacy", "abandoned"})
    assert support("Celibacy should be abandoned", members, asked) == 0.0
