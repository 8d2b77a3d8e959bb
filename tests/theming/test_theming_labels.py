from __future__ import annotations

import csv
from collections import Counter, defaultdict

import numpy as np
import pytest

from tests.support.theming import ARGKP
from theming.cache import CachedEmbedder
from theming.cluster import centroid
from theming.labels import (
    MAX_LABEL_WORDS,
    Quote,
    choose_quotes,
    keywords_per_theme,
    label_from_central_texts,
    label_from_text,
)
from theming.model import Comment
from theming.naming import MAX_WORDS, MIN_WORDS, label_phrases
from theming.suggest import suggest


def test_label_is_the_first_clause() -> None:
    assert label_from_text("more parks, because kids need room to play") == "More parks"


def test_long_label_stops_before_a_connective() -> None:
    text = "The city should build many more protected bike lanes downtown because cars are fast"
    assert label_from_text(text) == "The city should build many more protected bike lanes downtown"


def test_long_label_without_break_is_cut_and_marked() -> None:
    words = " ".join(f"w{i}" for i in range(30))
    label = label_from_text(words)
    assert label.endswith("…") and len(label.split()) == MAX_LABEL_WORDS + 1


def test_keywords_favour_words_specific_to_a_theme() -> None:
    themes = [
        ["parks need more trees", "trees and shade in parks"],
        ["buses run late", "more buses at night"],
    ]
    words = keywords_per_theme(themes, top=2)
    assert "trees" in words[0] or "parks" in words[0]
    assert "buses" in words[1]


def test_keywords_are_words_not_bits_of_contractions_or_bare_numbers() -> None:
    themes = [
        ["Don't sell the park, it's ours", "don't cut the park's trees", "10 more trees"],
        ["buses can't run at 10", "we'd like buses that won't stop at 9"],
    ]
    words = [w for theme in keywords_per_theme(themes, top=8) for k in theme for w in k.split()]
    assert "park" in words and "buses" in words
    assert not {"don", "t", "s", "won", "ca", "10", "9"} & set(words), words


def test_keywords_of_stop_words_only_are_empty() -> None:
    assert keywords_per_theme([["the and of"], ["it is"]]) == [[], []]


def test_quotes_come_from_different_tables_first() -> None:
    candidates = [
        Quote("a", "alpha", "1"),
        Quote("b", "beta", "1"),
        Quote("c", "gamma", "2"),
        Quote("d", "delta", "3"),
    ]
    chosen = choose_quotes(candidates, np.array([0.9, 0.8, 0.7, 0.1]), count=3)
    assert [q.comment_id for q in chosen] == ["a", "c", "d"]


def test_pinned_quote_leads_and_is_not_repeated() -> None:
    candidates = [Quote("a", "alpha", None), Quote("b", "beta", None)]
    chosen = choose_quotes(candidates, np.array([0.9, 0.8]), count=2, pinned=[candidates[1]])
    assert [q.comment_id for q in chosen] == ["b", "a"]


def test_central_label_skips_fragments_and_hard_cuts() -> None:
    texts = [
        "If the city would only listen, things would improve",
        " ".join(f"w{i}" for i in range(30)),
        "Fix the potholes on Main Street",
    ]
    assert label_from_central_texts(texts) == "Fix the potholes on Main Street"
    assert label_from_central_texts(texts[:1]) == "If the city would only listen"


def test_label_phrases_stop_only_where_a_phrase_ends() -> None:
    """A cut short of its clause's end stops before a word that opens a new
    constituent, never inside one ("... control over", "... so students")."""
    text = (
        "Subsidizing journalism would give the government control over the media. "
        "Homeschooling is not regulated so students fall behind"
    )
    phrases = label_phrases(text)
    assert "Subsidizing journalism would give the government control" in phrases
    assert "Homeschooling is not regulated" in phrases
    for phrase in phrases:
        assert not phrase.endswith((" over", " students", " so", " the media")), phrase
        words = phrase.split()
        assert MIN_WORDS <= len(words) <= MAX_WORDS


@pytest.mark.model
@pytest.mark.timeout(600)  # two questions' comments and label phrases through the real model
def test_labels_name_the_key_point_at_least_as_well_as_the_central_comment(
    minilm: CachedEmbedder,
) -> None:
    """The issue's metric on the first two ArgKP questions: per theme of >= 3
    comments, the cosine of its label to the human key point of its majority
    gold theme, against the same for its most central comment. The selector
    before issue 17's tuning (8 members' phrases, nearest the centre) scored
    0.008 below the central comment here; the whole-file figure is in
    docs/benchmarks.md (bench/theming_labels.py)."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with ARGKP.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            groups[(row["topic"], row["stance"])].append(row)
    label_cos, central_cos = [], []
    for key in sorted(groups)[:2]:
        rows = groups[key]
        question = f"{key[0]} ({'for' if key[1] == '1' else 'against'})"
        out = suggest([Comment(r["id"], r["text"]) for r in rows], minilm, question=question)
        by_id = {r["id"]: r for r in rows}
        labels = [t["label"].casefold() for t in out["themes"]]
        assert len(labels) == len(set(labels))
        for theme in out["themes"]:
            members = [by_id[m] for m in theme["members"]]
            if len(members) < 3:
                continue
            gold = Counter(m["theme_label"] for m in members).most_common(1)[0][0]
            vectors = minilm.encode([m["text"] for m in members])
            central = members[int(np.argmax(vectors @ centroid(vectors)))]["text"]
            kp, label, comment = minilm.encode([gold, theme["label"], central])
            label_cos.append(float(kp @ label))
            central_cos.append(float(kp @ comment))
            assert MIN_WORDS <= len(theme["label"].split()) <= MAX_WORDS
    assert len(label_cos) >= 6
    assert np.mean(label_cos) >= np.mean(central_cos), (np.mean(label_cos), np.mean(central_cos))


def test_they_stands_only_for_a_plural_subject() -> None:
    """'they' after a singular subject is about people: left as it is."""
    singular = label_phrases("Assisted suicide should be allowed, as they should have that choice")
    assert "Assisted suicide should have that choice" not in singular
    plural = label_phrases("Nuclear weapons should be banned because they kill civilians")
    assert "Nuclear weapons kill civilians" in plural
