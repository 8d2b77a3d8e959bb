"""Group one question's comments into themes without being told how many.

Method, chosen by measurement (``bench/theming_tune.py`` on ArgKP): build a
k-nearest-neighbour graph over cosine similarity and cut it into communities
by modularity with the Leiden algorithm (igraph's C implementation: the same
quality as networkx's pure-Python Louvain, ~25x faster, and it does not hold
the interpreter for seconds on a large question). Unlike a distance threshold
or k-means, the number of communities follows from the graph itself and the
score moves smoothly as the parameters change, which matters because the
final data is held out. Communities too small to be a theme are returned as
unassigned (-1).

The result does not depend on the order of the rows: they are put in a
canonical order first, so a question themed live, comment by comment, ends
with the same themes as the same comments themed at once.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import igraph
import numpy as np

__all__ = ["UNASSIGNED", "ClusterParams", "centroid", "cluster", "neighbours_for", "split_in_two"]

UNASSIGNED = -1

# Rows of the similarity matrix computed at once (bounds memory to block * n).
_BLOCK = 1024


@dataclass(frozen=True)
class ClusterParams:
    """Tuned on argkp-train.csv as a whole (see bench/theming_tune.py)."""

    neighbours: int = 6
    # Fewer neighbours for few comments: k = round(neighbours_per_root x sqrt(n)),
    # between min_neighbours and neighbours, i.e. 5 below 72 comments, 6 from
    # there. Half of a typical ArgKP question streamed live is ~40 comments; with
    # LivePolicy.growth 0.08, live AMI at half-stream rose 0.173 -> 0.187 and at
    # the end 0.216 -> 0.214, offline 0.219 -> 0.216 (bench/theming_live_sim.py
    # --as-server, 8 orders of all 47 groups). k = 4 for the smallest split
    # three synthetic themes of 16 comments in two.
    neighbours_per_root: float = 0.65
    min_neighbours: int = 5
    resolution: float = 1.0
    # Raising similarities to a power sharpens the graph: close pairs dominate.
    edge_power: float = 1.0
    min_theme_size: int = 3
    # A member less similar than this to its theme's centre "fits nowhere" and
    # goes to unassigned. Louvain itself places every node somewhere. The
    # same value gates arrivals (ThemeEngine.add). On ArgKP almost no member
    # is below it (1st percentile 0.47, AMI flat from 0.30 to 0.45); on the
    # Polis files it is the 5th-10th percentile, while off-topic probes
    # ("the coffee in the hall is cold") score below 0.1.
    min_member_similarity: float = 0.35
    seed: int = 0


def neighbours_for(n: int, params: ClusterParams) -> int:
    """The k of the kNN graph over ``n`` rows."""
    k = round(params.neighbours_per_root * math.sqrt(max(n, 1)))
    return max(params.min_neighbours, min(params.neighbours, k))


def knn_edges(vectors: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """Each row's k most similar other rows, as (i, j, cosine) edges."""
    n = vectors.shape[0]
    k = min(k, n - 1)
    edges: list[tuple[int, int, float]] = []
    if k <= 0:
        return edges
    for start in range(0, n, _BLOCK):
        sims = vectors[start : start + _BLOCK] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = -np.inf
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for offset, neighbours in enumerate(nearest):
            i = start + offset
            edges.extend((i, int(j), float(sims[offset, j])) for j in neighbours)
    return edges


def cluster(
    vectors: np.ndarray,
    weights: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> np.ndarray:
    """Label each row with a theme number 0..m-1, or ``UNASSIGNED``.

    ``weights`` counts how many comments each row stands for (duplicates
    collapsed into one row); a theme must reach ``min_theme_size`` comments.
    Labels are numbered by decreasing theme size, ties by first row.
    """
    params = params or ClusterParams()
    n = vectors.shape[0]
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    labels = np.full(n, UNASSIGNED, dtype=int)
    if n < 2:
        return labels if weights.sum() < params.min_theme_size else np.zeros(n, dtype=int)

    # Canonical order: sort rows by their vectors, so the same comments give
    # the same graph (and the same communities) whatever order they came in.
    order = np.lexsort(vectors.T[::-1][:8])
    ordered = vectors[order]
    pairs: dict[tuple[int, int], float] = {}
    for i, j, sim in knn_edges(ordered, neighbours_for(n, params)):
        # Negative similarity would make a negative weight, which modularity
        # cannot use; a tiny positive weight keeps the neighbour link.
        pairs[(min(i, j), max(i, j))] = max(sim, 1e-3) ** params.edge_power
    graph = igraph.Graph(n=n, edges=list(pairs))
    # igraph draws from one generator per process: a fresh seeded one makes
    # the same comments always give the same themes.
    igraph.set_random_number_generator(random.Random(params.seed))
    partition = graph.community_leiden(
        objective_function="modularity",
        weights=list(pairs.values()),
        resolution=params.resolution,
        n_iterations=-1,  # until stable
    )
    communities = [order[list(members)] for members in partition]
    kept = []
    for community in communities:
        members = sorted(community)
        centre = centroid(vectors[members], weights[members])
        members = [m for m in members if float(vectors[m] @ centre) >= params.min_member_similarity]
        if members and weights[members].sum() >= params.min_theme_size:
            kept.append(members)
    kept.sort(key=lambda members: (-weights[members].sum(), members[0]))
    for number, members in enumerate(kept):
        labels[members] = number
    return labels


def centroid(vectors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Unit-length weighted mean direction of the rows."""
    mean = np.average(vectors, axis=0, weights=weights)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def split_in_two(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Labels 0/1 dividing a theme into its two most distinct halves.

    Used when the team asks to split a theme without saying how; k-means with
    k=2 always gives two non-empty parts (for 2+ distinct rows), which is what
    the team asked for, unlike re-running the community search.
    """
    from sklearn.cluster import KMeans

    n = vectors.shape[0]
    if n < 2:
        return np.zeros(n, dtype=int)
    # Remove the shared direction so the split follows what differs.
    centred = vectors - vectors.mean(axis=0)
    if not np.any(np.abs(centred) > 1e-6):
        return np.arange(n) % 2
    labels = KMeans(n_clusters=2, n_init=4, random_state=seed).fit_predict(centred)
    return np.asarray(labels, dtype=int)
