"""Theme labels that name what the members share, in the citizens' own words.

A label is a phrase of 3-8 words taken from one of the theme's 16 most
central comments: a clause, or a start of one that stops where a phrase ends
(before "in", "so", "because" ..., never on "the" or "is"), with a leading
"it"/"they" replaced by the subject of its sentence ("it eases suffering" ->
"Assisted suicide eases suffering"). Every candidate phrase is embedded with
the same model as the comments and scored (``LabelWeights``): its cosine to
the theme's centre, plus ``typical`` x its cosine to the centre of all the
question's comments (key points say what the room says, in its words), minus
``question`` x its cosine to the question (the room's words, not the
question's). The best wins, subject to three rules:

- distinct within the question (no two themes share a label, and none takes
  a label the team typed);
- not a restatement of the question (cosine to it below ``QUESTION_ECHO``);
- stable: a theme keeps its label while it is still a candidate scoring
  within ``KEEP_MARGIN`` of the best, so labels do not flicker as comments
  arrive.

Measured on argkp-train.csv (``bench/theming_labels.py``, figures in
docs/benchmarks.md): the cosine between a theme's label and the human key
point of its majority gold theme, against the theme's most central comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["LABEL_WEIGHTS", "LabelRequest", "LabelWeights", "choose_labels", "label_phrases"]

MIN_WORDS, MAX_WORDS = 3, 8
CENTRAL_MEMBERS = 16
QUESTION_ECHO = 0.85
SAME_LABEL = 0.95
KEEP_MARGIN = 0.02

# Words that open a new clause ("X because Y" -> "X", "Y"). Not "as" or "that":
# they join within a phrase ("not as harmful as alcohol").
_CONNECTIVES = (
    "because|since|but|and|which|while|whereas|although|though|if|when|however|therefore|thus"
)
_LEADING = re.compile(
    rf"^(?:{_CONNECTIVES}|so|as|that|or|also|i think|i believe|in my opinion|it is true that)"
    r"\b[\s,]*",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_CLAUSE = re.compile(rf",\s+|\s+[-–—]\s+|\s\(|\)\s|\s+(?=(?:{_CONNECTIVES})\b)", re.I)
# Words a phrase may not end on: it would stop mid-phrase.
_DANGLING = set(
    "the a an of to for with and or but in on at by is are be been was were that which who "
    "their his her its our your my this these those very more most less as than from into "
    "not no so if because while when it they we i you he she them us can will would should "
    "could must has have had do does did".split()
)
# Words that open a new constituent: a phrase cut short of its clause's end
# must stop just before one ("Nuclear weapons are dangerous | in the hands of
# ...", "Homeschooling is not regulated | so students ..."), else it would stop
# mid-phrase ("... would give the government control over").
_BOUNDARY = set(
    "in on at for with without by from into onto during through throughout over under about "
    "against after before because cause since so as due unless until like than when where "
    "while whereas which who whom whose that instead despite especially particularly including "
    "such among between beyond within upon toward towards across around along if or and but "
    "even".split()
)
_PRONOUNS = {"it", "they", "this", "these", "he", "she"}
# Verbs that end a sentence's subject ("assisted suicide | should be allowed").
_SUBJECT_ENDS = set(
    "should is are would will can must has have was were does do could may might need needs "
    "helps help makes make causes cause allows allow leads lead gives give provides provide "
    "creates create brings bring reduces reduce increases increase".split()
)


def _subject(words: list[str]) -> list[str] | None:
    for k, word in enumerate(words[:6]):
        if word.lower() in _SUBJECT_ENDS and 1 <= k <= 4:
            subject = words[:k]
            return None if subject[0].lower() in _PRONOUNS else subject
    return None


def _refers_to(pronoun: str, subject: list[str]) -> bool:
    """Whether ``pronoun`` may stand for ``subject``: "it"/"this" for any,
    "they"/"these" only for a plural-looking one ("they should have that
    choice" is about people, not about "assisted suicide")."""
    word, head = pronoun.lower(), subject[-1].lower()
    if word in ("it", "this"):
        return True
    return word in ("they", "these") and head.endswith("s") and not head.endswith("ss")


def label_phrases(text: str) -> list[str]:
    """Candidate labels cut from one comment, in reading order, without repeats."""
    found: list[str] = []
    for sentence in _SENTENCE.split(" ".join(text.split())):
        words = sentence.strip().rstrip(".!?;:").split()
        subject = _subject(words)
        for clause in _CLAUSE.split(" ".join(words)):
            for _ in range(2):
                clause = _LEADING.sub("", clause.strip()).strip()
            parts = clause.split()
            if not parts:
                continue
            variants = [parts]
            if subject and _refers_to(parts[0], subject):
                variants.append(subject + parts[1:])
            for variant in variants:
                found.extend(_cuts(variant))
    return list(dict.fromkeys(found))


def _cuts(words: list[str]) -> list[str]:
    """The clause itself and its shorter starts that end a constituent."""
    cuts: list[str] = []
    for length in range(MIN_WORDS, min(MAX_WORDS, len(words)) + 1):
        last = words[length - 1].lower().strip(",\"'")
        if last in _DANGLING or last.endswith(("'s", "’s")):
            continue
        if length < len(words) and words[length].lower().strip(",\"'") not in _BOUNDARY:
            continue
        phrase = " ".join(words[:length]).strip(",\"'")
        cuts.append(phrase[:1].upper() + phrase[1:])
    return cuts


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
    x its words; phrases come from the ``members`` most central comments.

    Chosen with ``bench/theming_labels.py --sweep`` on all of argkp-train.csv:
    ``sibling`` and ``per_word`` only lowered the score (key points share
    their question's words, so MMR against sibling themes pushes labels away
    from them); more ``typical`` raised it a little further but made the
    labels of one question more alike, which is why it stops at 1.
    """

    sibling: float = 0.0
    typical: float = 1.0
    question: float = 0.5
    per_word: float = 0.0
    members: int = CENTRAL_MEMBERS


LABEL_WEIGHTS = LabelWeights()


def choose_labels(
    requests: Sequence[LabelRequest],
    encode: Callable[[list[str]], np.ndarray],
    *,
    question: str | None = None,
    reserved: Sequence[str] = (),
    siblings: Sequence[np.ndarray] = (),
    everyone: np.ndarray | None = None,
    weights: LabelWeights = LABEL_WEIGHTS,
) -> dict[str, str]:
    """A label per theme; ``requests`` in priority order (largest theme first).

    ``reserved`` are labels already taken (typed by the team); ``siblings``
    the centres of the question's other themes, not relabelled now (each
    request's centre is a sibling of the others); ``encode`` embeds texts as
    unit vectors (cached by the caller).
    """
    taken = {label.casefold() for label in reserved}
    taken_vectors: list[np.ndarray] = list(encode(list(reserved))) if reserved else []
    question_vector = encode([question])[0] if question else None
    chosen: dict[str, str] = {}
    for request in requests:
        phrases: list[str] = []
        for text in request.central_texts[: weights.members]:
            phrases.extend(p for p in label_phrases(text) if p not in phrases)
        others = [r.centre for r in requests if r is not request] + list(siblings)
        context = _Context(question_vector, np.stack(others) if others else None, everyone, weights)
        label, vector = _best(request, phrases, encode, context, taken, taken_vectors)
        chosen[request.theme_id] = label
        taken.add(label.casefold())
        if vector is not None:
            taken_vectors.append(vector)
    return chosen


@dataclass
class _Context:
    question: np.ndarray | None
    siblings: np.ndarray | None
    everyone: np.ndarray | None
    weights: LabelWeights


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
    allowed = np.array([p.casefold() not in taken for p in phrases])
    if context.question is not None:
        allowed &= vectors @ context.question < QUESTION_ECHO
    if taken_vectors:
        allowed &= (vectors @ np.stack(taken_vectors).T).max(axis=1) < SAME_LABEL
    if not allowed.any():
        return _unique(phrases[int(np.argmax(scores))], taken), None
    scores = np.where(allowed, scores, -np.inf)
    best = int(np.argmax(scores))
    if request.current in phrases:
        keep = phrases.index(request.current)
        if allowed[keep] and scores[keep] >= scores[best] - KEEP_MARGIN:
            best = keep
    return phrases[best], vectors[best]


def _unique(label: str, taken: set[str]) -> str:
    """``label``, numbered if another theme of the question already has it."""
    candidate, n = label, 2
    while candidate.casefold() in taken:
        candidate, n = f"{label} ({n})", n + 1
    return candidate
