"""What a question is about, so that a theme's label can name it.

A label cut from one comment often leaves out what the room is talking about:
"parents are not teachers" under "Should homeschooling be banned?". The human
key points of argkp-train.csv name it ("Parents are not qualified as
teachers", "Homeschooling prevents children from socialising"). So a
candidate label that does not already name the question's subject is offered
as "Homeschooling: parents are not teachers".

The subject is the phrase of one to three words of the question that most of the
question's comments use ("homeschooling", "assisted suicide", "capital
punishment"); a question whose comments share none of its words (at least
``SUBJECT_SHARE`` of them) has no subject, and its labels stay as cut.

Comments often call the subject something else ("the death penalty" under a
question on capital punishment): a phrase of 1-3 words that enough comments
use and the model puts as close to the subject as a synonym is an alias
(``subject_aliases``), and a candidate naming it is left as cut ("The death
penalty is not an effective deterrent").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from theming.phrases import MAX_WORDS

__all__ = ["SUBJECT_SHARE", "question_subject", "subject_aliases", "with_subject"]

SUBJECT_SHARE = 0.2
# Another name for the subject ("death penalty" for "capital punishment"): a
# phrase at least this share of the comments use, at least this close to it.
# all-MiniLM puts true synonyms at 0.82-0.95 and related words ("crime",
# "drugs", "cities", "religion") at 0.53-0.71.
ALIAS_SHARE = 0.05
ALIAS_SIMILARITY = 0.75
_ALIAS_CANDIDATES = 30
_ALIAS_SAMPLE = 800
# Each word more in a subject is preferred while this many times as many
# comments use the shorter one ("child actors" over "child").
_LONGER_PREFERENCE = 2.0
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Words a subject never starts or ends on: the question's grammar, not its topic.
_NOT_TOPIC = set(
    "a an the of to for in on at by with from into about and or but not no is are be been was "
    "were do does did should shall would could can will must may might we you they it this "
    "that these those our your their what which who whom how why when where whether there "
    "here more most less any all some every each other such than then so very too also just "
    "only own same ban bans banned abolish abolished adopt adopted allow allowed legalize "
    "legalise legalized prohibit prohibited introduce subsidize subsidise end ended keep "
    "make made against think spend spending city town people".split()
)


def question_subject(question: str | None, texts: Sequence[str]) -> str | None:
    """The words of ``question`` its comments (``texts``) name most, or None."""
    if not question or not texts:
        return None
    words = _WORD.findall(question)
    grams: list[str] = []
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            first, last = words[i].lower(), words[i + n - 1].lower()
            if not _topical(first, last):
                continue
            grams.append(" ".join(words[i : i + n]))
    lowered = [t.lower() for t in texts]
    best: str | None = None
    best_score, best_count = 0.0, 0
    for gram in dict.fromkeys(grams):
        # A word's start: "child" counts "children", "suicide" counts "suicides".
        pattern = re.compile(r"\b" + re.escape(gram.lower()))
        count = sum(1 for t in lowered if pattern.search(t))
        score = count * _LONGER_PREFERENCE ** gram.count(" ")
        if score > best_score:
            best, best_score, best_count = gram, score, count
    if best is None or best_count < SUBJECT_SHARE * len(texts):
        return None
    return best


def subject_aliases(
    subject: str, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
) -> tuple[str, ...]:
    """Other names the comments give ``subject`` ("death penalty" for "capital
    punishment"): phrases of 1-3 words that at least ``ALIAS_SHARE`` of
    ``texts`` use, within ``ALIAS_SIMILARITY`` of it (``encode``: unit vectors)."""
    own = {w.lower() for w in _WORD.findall(subject)}
    # Shares read on an even sample: counting every phrase of 5,000 comments
    # took 0.25 s at each look (the subject is looked for again at +10 %).
    texts = texts[:: max(1, len(texts) // _ALIAS_SAMPLE)]
    counts: Counter[str] = Counter()
    for text in texts:
        words = [w.lower() for w in _WORD.findall(text)]
        grams = {
            " ".join(words[i : i + n])
            for n in (1, 2, 3)
            for i in range(len(words) - n + 1)
            if _topical(words[i], words[i + n - 1]) and not own & set(words[i : i + n])
        }
        counts.update(grams)
    common = [g for g, c in counts.most_common(_ALIAS_CANDIDATES) if c >= ALIAS_SHARE * len(texts)]
    if not common:
        return ()
    vectors = encode([subject, *common])
    close = vectors[1:] @ vectors[0] >= ALIAS_SIMILARITY
    return tuple(g for g, near in zip(common, close, strict=True) if near)


def _topical(first: str, last: str) -> bool:
    return first not in _NOT_TOPIC and last not in _NOT_TOPIC and len(last) >= 4


def names_subject(subject: str, phrase: str, aliases: Sequence[str] = ()) -> bool:
    """Whether ``phrase`` names ``subject``: one of its words, or an alias."""
    words = [w.lower() for w in phrase.split()]
    subject_words = [w.lower() for w in subject.split() if w.lower() not in _NOT_TOPIC]
    if any(w.startswith(s) for w in words for s in subject_words):
        return True
    lowered = " ".join(words)
    return any(re.search(r"\b" + re.escape(alias), lowered) for alias in aliases)


def with_subject(subject: str, phrase: str, aliases: Sequence[str] = ()) -> str | None:
    """``phrase`` as a label naming ``subject``: itself if it names it already
    (or one of its ``aliases``), "Subject: phrase" if that still fits in
    MAX_WORDS words, else None."""
    words = phrase.split()
    if names_subject(subject, phrase, aliases):
        return phrase
    if len(words) + len(subject.split()) > MAX_WORDS or words[0] == "If":
        return None  # too long, or "Homeschooling: if parents ..." reads as a slip
    first = words[0]
    if not (first.isupper() and len(first) > 1) and first != "I":
        first = first[:1].lower() + first[1:]
    return f"{subject[:1].upper()}{subject[1:]}: {' '.join([first, *words[1:]])}"
