"""Near-duplicate detection: the same point typed twice becomes one item.

Tables often send the same comment twice (a resend, or two facilitators
typing what the room agreed). Clustering and quotes should see it once, but
accountability needs every id kept, so an item remembers all its members.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["DUPLICATE_SIMILARITY", "duplicate_leaders", "same_text_key"]

# Above this cosine two MiniLM comments differ only by typos or punctuation
# (checked by eye on the Polis files); below it real paraphrases start.
DUPLICATE_SIMILARITY = 0.95

_NON_WORD = re.compile(r"[^\w]+")

# Rows compared per matrix product: bounds memory at block * n floats.
_BLOCK = 1024


def same_text_key(text: str) -> str:
    """Text reduced to lower-case words, so case and punctuation don't matter."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def duplicate_leaders(
    texts: list[str], vectors: np.ndarray, threshold: float = DUPLICATE_SIMILARITY
) -> list[int]:
    """For each row, the index of the first row of its duplicate group.

    Row i joins the group of the most similar earlier row when their cosine
    reaches ``threshold`` or their words are identical; otherwise it leads a
    new group. Earlier rows always lead, so adding rows later never changes
    the leader of a row already seen (the engine relies on that).
    """
    n = len(texts)
    if vectors.shape[0] != n:
        raise ValueError("texts and vectors differ in length")
    leaders = list(range(n))
    first_with_text: dict[str, int] = {}
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        sims = vectors[start:stop] @ vectors[:stop].T
        for offset in range(stop - start):
            i = start + offset
            key = same_text_key(texts[i])
            if key in first_with_text:
                leaders[i] = leaders[first_with_text[key]]
                continue
            first_with_text[key] = i
            if i == 0:
                continue
            row = sims[offset, :i]
            j = int(np.argmax(row))
            if row[j] >= threshold:
                leaders[i] = leaders[j]
    return leaders
