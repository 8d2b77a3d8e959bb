"""Readable labels, keywords and representative quotes for themes.

A label is a short phrase cut from the comment nearest the theme's centre,
because citizens recognise their own words better than a keyword list; the
c-TF-IDF keywords are kept beside it for the team and as a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

__all__ = [
    "Quote",
    "choose_quotes",
    "keywords_per_theme",
    "label_from_central_texts",
    "label_from_text",
]

MAX_LABEL_WORDS = 9
_CONNECTIVE_SLACK = 3
_LABEL_CANDIDATES = 5
_WEAK_OPENERS = {"if", "in", "when", "although", "because", "since", "while", "unless", "whether"}

# A clause boundary: cutting here keeps a phrase grammatical.
_CLAUSE = re.compile(r"[.!?;:]\s|,\s|\s[-–—]\s|\s\(")
_SOFT_BREAKS = {"because", "since", "as", "which", "and", "but", "so", "while", "whereas"}


def label_from_text(text: str, max_words: int = MAX_LABEL_WORDS) -> str:
    """The first clause of ``text``, trimmed to about ``max_words`` words."""
    text = " ".join(text.split())
    first = _CLAUSE.split(text + " ", maxsplit=1)[0].strip().rstrip(".!?,;:")
    words = first.split()
    if len(words) > max_words:
        # Prefer ending before a connective ("X because Y" -> "X"), allowing a
        # few extra words for it; else cut hard and mark the cut.
        cut = next(
            (
                i
                for i in range(3, min(len(words), max_words + _CONNECTIVE_SLACK + 1))
                if words[i].lower() in _SOFT_BREAKS
            ),
            None,
        )
        words = words[:cut] if cut is not None else [*words[:max_words], "…"]
    label = " ".join(words)
    return label[:1].upper() + label[1:] if label else "(empty comment)"


def label_from_central_texts(texts: Sequence[str], max_words: int = MAX_LABEL_WORDS) -> str:
    """Label from the most central comment whose phrase needs no hard cut.

    ``texts`` are ordered most central first; only the first few are tried
    so the label still speaks for the middle of the theme.
    """
    labels = [label_from_text(t, max_words) for t in texts[:_LABEL_CANDIDATES]]
    # A phrase that opens a subordinate clause ("If the city ...") reads as a
    # fragment on a screen; a hard cut loses the point. Prefer neither.
    good = [
        label
        for label in labels
        if not label.endswith("…") and label.split()[0].lower() not in _WEAK_OPENERS
    ]
    whole = [label for label in labels if not label.endswith("…")]
    return (good or whole or labels or ["(empty theme)"])[0]


def keywords_per_theme(
    docs_per_theme: Sequence[Sequence[str]], background: Sequence[str] = (), top: int = 5
) -> list[list[str]]:
    """c-TF-IDF: words frequent in one theme and rare in the others.

    Each theme is one class document; ``background`` (e.g. unassigned
    comments) only sharpens the document frequencies.
    """
    classes = [" ".join(docs) for docs in docs_per_theme]
    corpus = [*classes, " ".join(background)] if background else classes
    if not any(doc.strip() for doc in corpus):
        return [[] for _ in classes]
    vectorizer = CountVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=1,
        preprocessor=_plain_words,
        token_pattern=_KEYWORD_TOKEN,
    )
    try:
        counts = vectorizer.fit_transform(corpus).toarray().astype(float)
    except ValueError:  # only stop words in the whole question
        return [[] for _ in classes]
    terms = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    average_words = counts.sum() / max(len(corpus), 1)
    idf = np.log1p(average_words / np.maximum(counts.sum(axis=0), 1.0))
    scores = tf * idf
    result: list[list[str]] = []
    for row in range(len(classes)):
        order = np.argsort(-scores[row], kind="stable")
        words = [str(terms[i]) for i in order[: top * 3] if scores[row, i] > 0]
        result.append(_drop_overlapping(words)[:top])
    return result


# A keyword has a letter in it: "10" alone says nothing beside a theme's name.
_KEYWORD_TOKEN = r"(?u)\b\w*[^\W\d_]\w*\b"
_NOT = re.compile(r"(?:\b(?:ca|wo|sha)(?=n['’]t\b))?n['’]t\b")
_CONTRACTION = re.compile(r"['’](?:s|re|ll|ve|d|m)\b")


def _plain_words(text: str) -> str:
    """Lower case, contractions undone ("don't sell" gave the keyword "don"; "can't",
    "won't" gave "ca", "wo"): what is left of them is stop words."""
    return _CONTRACTION.sub("", _NOT.sub(" not", text.lower()))


def _drop_overlapping(terms: list[str]) -> list[str]:
    """Drop a word already shown inside a better-ranked bigram, and vice versa."""
    kept: list[str] = []
    for term in terms:
        parts = set(term.split())
        if any(parts <= set(k.split()) or set(k.split()) <= parts for k in kept):
            continue
        kept.append(term)
    return kept


@dataclass(frozen=True)
class Quote:
    comment_id: str
    text: str
    table: str | None


def choose_quotes(
    candidates: Sequence[Quote],
    similarity: np.ndarray,
    count: int = 3,
    pinned: Sequence[Quote] = (),
) -> list[Quote]:
    """Pinned quotes first, then the most central candidates, one per table.

    ``similarity`` holds each candidate's cosine to the theme centroid. A
    second quote from the same table is used only when no other table has
    one left, so the screen shows the breadth of the room.
    """
    chosen = list(pinned)[:count]
    seen_ids = {q.comment_id for q in chosen}
    seen_text = {q.text for q in chosen}
    used_tables = {q.table for q in chosen if q.table is not None}
    order = [int(i) for i in np.argsort(-np.asarray(similarity), kind="stable")]
    for pass_ in ("new tables", "any table"):
        for i in order:
            if len(chosen) >= count:
                return chosen
            quote = candidates[i]
            if quote.comment_id in seen_ids or quote.text in seen_text:
                continue
            if pass_ == "new tables" and quote.table is not None and quote.table in used_tables:
                continue
            chosen.append(quote)
            seen_ids.add(quote.comment_id)
            seen_text.add(quote.text)
            if quote.table is not None:
                used_tables.add(quote.table)
    return chosen
