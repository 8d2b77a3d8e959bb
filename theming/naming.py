"""Theme labels that name what the members share, in the citizens' own words.

A label is a phrase of 3-8 words taken from one of the theme's 8 most
central comments (``theming/phrases.py`` cuts them: whole clauses or starts
of clauses that stop where a phrase ends, read with and without hedges, a
leading pronoun replaced by what it stands for), naming what the question is
about when the phrase does not ("Homeschooling: parents are not teachers";
``theming/subject.py``). Every candidate phrase is
embedded with the same model as the comments and scored (``LabelWeights``):
its cosine to the theme's centre, plus ``typical`` x its cosine to the
centre of all the question's comments (key points say what the room says, in
its words), minus ``question`` x its cosine to the question (the room's
words, not the question's), plus ``support`` x how many of the theme's
comments use its words (what the members share, where the model rates two
phrases alike). The best wins, subject to three rules:

- distinct within the question (no two themes share a label, and none takes
  a label the team typed);
- not a restatement of the question (cosine to it below ``QUESTION_ECHO``,
  and not only the question's own words, said for or against: "We shouldn't
  adopt atheism" names no theme of "We should adopt atheism");
- stable: a theme keeps its label while it is still a candidate scoring
  within ``KEEP_MARGIN`` of the best, so labels do not flicker as comments
  arrive; once the question goes quiet every label is chosen afresh
  (``ThemeEngine.refresh_labels(settled=True)``).

Measured on argkp-train.csv (``bench/theming_labels.py``, figures in
docs/benchmarks.md): the cosine between a theme's label and the human key
point of its majority gold theme, against the theme's most central comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from theming.phrases import MAX_WORDS, MIN_WORDS, label_phrases
from theming.subject import with_subject

__all__ = [
    "LABEL_WEIGHTS",
    "MAX_WORDS",
    "MIN_WORDS",
    "LabelRequest",
    "LabelWeights",
    "candidates",
    "choose_labels",
    "label_phrases",
    "support",
]

CENTRAL_MEMBERS = 8
QUESTION_ECHO = 0.85
SAME_LABEL = 0.95
KEEP_MARGIN = 0.02
_WIDER = 4  # x members read when the first ``members`` offer no phrase
# Words that take a side on a question without saying why (left out when a label
# is compared with the question's words).
_STANCE_WORDS = frozenset(
    "a an the of to be is are it we i you they this that should must need needs "
    "not no never do does can cannot would will".split()
)
# ... and words that carry no content of their own (left out when a label's words
# are counted among the theme's comments: ``LabelWeights.support``).
_FUNCTION_WORDS = _STANCE_WORDS | frozenset(
    "and or but if as for in on at by with from so than then there here have has had "
    "because also just very more most less some any all many much people person our us "
    "your my me he she his her who which what when where why how been being into out up "
    "about over only other such own same too was were its them their these those could "
    "did".split()
)
SUPPORT_MEMBERS = 100  # the most central members whose words a label is counted among


@dataclass
class LabelRequest:
    """One theme to label: its centre, member texts (most central first) and
    its current label (kept when still as good)."""

    theme_id: str
    centre: np.ndarray
    central_texts: Sequence[str]
    current: str | None = None
    fallback: str = ""


@dataclass(frozen=True)
class LabelWeights:
    """How a candidate phrase is scored: its cosine to the theme's centre,
    plus ``typical`` x its cosine to the centre of all the question's
    comments, minus ``sibling`` x its best cosine to another theme's centre
    (MMR), minus ``question`` x its cosine to the question, plus ``per_word``
    x its words, plus ``support`` x the share of the theme's comments that
    use its words (mean over its content words that are not the question's:
    "outdated" in six of a theme's 13 comments); phrases come from the
    ``members`` most central comments.

    Chosen with ``bench/theming_labels.py --sweep`` on all of argkp-train.csv:
    ``sibling`` and ``per_word`` only lowered the score (key points share
    their question's words, so MMR against sibling themes pushes labels away
    from them); more ``typical`` raised it a little further but made the
    labels of one question more alike, which is why it stops at 1. Since
    candidates name the question's subject, ``question`` at 1 (not 0.5)
    keeps them from leaning on it; 6 to 24 members score within 0.005 of
    each other, 8 the best and the cheapest to embed. ``support`` 0.1-0.3
    all help (0.2 best: +0.005 on both halves of the topics): among phrases
    the model rates alike, it prefers the one in the words most members use.
    """

    sibling: float = 0.0
    typical: float = 1.0
    question: float = 1.0
    per_word: float = 0.0
    members: int = CENTRAL_MEMBERS
    support: float = 0.2


LABEL_WEIGHTS = LabelWeights()


def choose_labels(
    requests: Sequence[LabelRequest],
    encode: Callable[[list[str]], np.ndarray],
    *,
    question: str | None = None,
    reserved: Sequence[str] = (),
    siblings: Sequence[np.ndarray] = (),
    everyone: np.ndarray | None = None,
    subject: str | None = None,
    aliases: Sequence[str] = (),
    weights: LabelWeights = LABEL_WEIGHTS,
) -> dict[str, str]:
    """A label per theme; ``requests`` in priority order (largest theme first).

    ``reserved`` are labels already taken (typed by the team); ``siblings``
    the centres of the question's other themes, not relabelled now (each
    request's centre is a sibling of the others); ``encode`` embeds texts as
    unit vectors (cached by the caller); ``subject`` what the question is about
    (``theming.subject``), named by every candidate that can fit it, unless it
    names one of its ``aliases`` ("death penalty" for "capital punishment").
    """
    taken = {label.casefold() for label in reserved}
    taken_vectors: list[np.ndarray] = list(encode(list(reserved))) if reserved else []
    question_vector = encode([question])[0] if question else None
    question_words = _content_words(question) if question else None
    chosen: dict[str, str] = {}
    for request in requests:
        texts = request.central_texts
        # When the most central members offer no whole phrase, the next ones
        # may: better than the fallback's hard cut ("… the sex …").
        phrases = candidates(texts[: weights.members], subject, aliases) or candidates(
            texts[weights.members : weights.members * _WIDER], subject, aliases
        )
        others = [r.centre for r in requests if r is not request] + list(siblings)
        context = _Context(
            question_vector,
            np.stack(others) if others else None,
            everyone,
            weights,
            question_words,
            [_content_words(t, _FUNCTION_WORDS) for t in texts[:SUPPORT_MEMBERS]],
        )
        label, vector = _best(request, phrases, encode, context, taken, taken_vectors)
        chosen[request.theme_id] = label
        taken.add(label.casefold())
        if vector is not None:
            taken_vectors.append(vector)
    return chosen


def candidates(
    texts: Sequence[str], subject: str | None = None, aliases: Sequence[str] = ()
) -> list[str]:
    """The candidate labels of a theme whose most central members are ``texts``:
    their phrases, each naming ``subject`` or one of its ``aliases``
    ("Homeschooling: parents are not teachers"); a phrase too long to take it
    is left out, unless no phrase can take it."""
    phrases = list(dict.fromkeys(p for text in texts for p in label_phrases(text)))
    if not subject:
        return phrases
    named = [c for p in phrases if (c := with_subject(subject, p, aliases)) is not None]
    return list(dict.fromkeys(named)) or phrases


@dataclass
class _Context:
    question: np.ndarray | None
    siblings: np.ndarray | None
    everyone: np.ndarray | None
    weights: LabelWeights
    question_words: frozenset[str] | None = None
    member_words: list[frozenset[str]] | None = None  # of the most central members


def candidate_scores(
    vectors: np.ndarray, lengths: np.ndarray, centre: np.ndarray, context: _Context
) -> np.ndarray:
    """The selector's score of each candidate (rows of ``vectors``)."""
    w = context.weights
    scores = vectors @ centre + w.per_word * lengths
    if context.siblings is not None and w.sibling:
        scores -= w.sibling * (vectors @ context.siblings.T).max(axis=1)
    if context.everyone is not None and w.typical:
        scores += w.typical * (vectors @ context.everyone)
    if context.question is not None and w.question:
        scores -= w.question * (vectors @ context.question)
    return scores


def _best(
    request: LabelRequest,
    phrases: list[str],
    encode: Callable[[list[str]], np.ndarray],
    context: _Context,
    taken: set[str],
    taken_vectors: list[np.ndarray],
) -> tuple[str, np.ndarray | None]:
    if not phrases:
        return _unique(request.fallback or "(empty theme)", taken), None
    vectors = encode(phrases)
    lengths = np.array([len(p.split()) for p in phrases], dtype=float)
    scores = candidate_scores(vectors, lengths, request.centre, context)
    if context.member_words and context.weights.support:
        shared = np.array(
            [support(p, context.member_words, context.question_words) for p in phrases]
        )
        scores += context.weights.support * shared
    allowed = np.array([p.casefold() not in taken for p in phrases])
    if context.question is not None:
        allowed &= vectors @ context.question < QUESTION_ECHO
    if context.question_words is not None:
        allowed &= np.array([not restates(p, context.question_words) for p in phrases])
    if taken_vectors:
        allowed &= (vectors @ np.stack(taken_vectors).T).max(axis=1) < SAME_LABEL
    # "Downtown businesses owned" beside "Downtown businesses owned by people who
    # live here": one label the start of another tells the themes apart by its tail.
    allowed &= np.array([not _nested(p, taken) for p in phrases])
    if not allowed.any():
        return _unique(phrases[int(np.argmax(scores))], taken), None
    scores = np.where(allowed, scores, -np.inf)
    best = int(np.argmax(scores))
    if request.current in phrases:
        keep = phrases.index(request.current)
        if allowed[keep] and scores[keep] >= scores[best] - KEEP_MARGIN:
            best = keep
    return phrases[best], vectors[best]


def restates(phrase: str, question_words: frozenset[str]) -> bool:
    """Whether ``phrase`` says nothing but the question's own words, for or
    against it ("We shouldn't ban child actors", "Homeschooling: we should not ban")."""
    return _content_words(phrase) <= question_words


def support(
    phrase: str, member_words: Sequence[frozenset[str]], question_words: frozenset[str] | None
) -> float:
    """The share of the members using each content word of ``phrase`` that is
    not the question's, averaged over those words (0 when it has none)."""
    words = _content_words(phrase, _FUNCTION_WORDS) - (question_words or frozenset())
    if not words or not member_words:
        return 0.0
    return sum(w in m for w in words for m in member_words) / (len(words) * len(member_words))


def _content_words(text: str, stop: frozenset[str] = _STANCE_WORDS) -> frozenset[str]:
    words = re.findall(r"[a-z]+", text.casefold().replace("’", "'").replace("n't", " not"))
    return frozenset(
        w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w
        for w in words
        if w not in stop
    )


def _nested(phrase: str, taken: set[str]) -> bool:
    """Whether ``phrase`` starts another label of the question, or another starts it."""
    p = phrase.casefold()
    return any(t.startswith(p + " ") or p.startswith(t + " ") for t in taken)


def _unique(label: str, taken: set[str]) -> str:
    """``label``, numbered if another theme of the question already has it."""
    candidate, n = label, 2
    while candidate.casefold() in taken:
        candidate, n = f"{label} ({n})", n + 1
    return candidate
