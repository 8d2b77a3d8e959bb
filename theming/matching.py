"""Match freshly computed clusters to the themes they replace.

Theme ids must survive a re-theme: the screens, the team's notes and the
log all refer to them. A new cluster inherits an old theme's id when they
share most members; failing that, when their centres nearly coincide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_clusters"]

# Below this Jaccard overlap two member sets are not "the same theme".
MIN_JACCARD = 0.2
# Centre cosine above which a cluster continues a theme it shares few
# members with (e.g. a theme whose members were all moved or re-embedded).
MIN_CENTROID_SIMILARITY = 0.85


def jaccard(a: set[str], b: set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _assign(score: np.ndarray, minimum: float) -> list[tuple[int, int]]:
    if score.size == 0:
        return []
    rows, cols = linear_sum_assignment(-score)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if score[r, c] >= minimum]


def match_clusters(
    new_members: Sequence[set[str]],
    old_members: Sequence[set[str]],
    new_centroids: np.ndarray,
    old_centroids: np.ndarray,
) -> dict[int, int]:
    """Map new cluster index -> old theme index, one-to-one.

    First an optimal assignment on member overlap (Hungarian on Jaccard),
    then, among what is left, an optimal assignment on centroid cosine.
    """
    overlap = np.array([[jaccard(n, o) for o in old_members] for n in new_members])
    overlap = overlap.reshape(len(new_members), len(old_members))
    pairs = dict(_assign(overlap, MIN_JACCARD))

    free_new = [i for i in range(len(new_members)) if i not in pairs]
    taken_old = set(pairs.values())
    free_old = [j for j in range(len(old_members)) if j not in taken_old]
    if free_new and free_old:
        sims = new_centroids[free_new] @ old_centroids[free_old].T
        for r, c in _assign(sims, MIN_CENTROID_SIMILARITY):
            pairs[free_new[r]] = free_old[c]
    return pairs
