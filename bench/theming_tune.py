"""How the clustering parameters and the arrival threshold were chosen.

    python bench/theming_tune.py [--limit N] [--seeds S]

Part 1 sweeps the kNN-graph size and the Louvain resolution, averaging over
several Louvain seeds so a lucky seed cannot pick the winner. Part 2 themes
70 % of each group, lets the other 30 % arrive through ``ThemeEngine.add``
and scores the result for each similarity threshold. Every figure is a mean
over all groups of argkp-train.csv, never tuned on a single group.
"""

from __future__ import annotations

import argparse
import itertools
import random

import numpy as np
from theming_common import (
    FixedEmbedder,
    cached_minilm,
    labels_from_output,
    load_argkp,
    mean_score,
    score,
)

from theming.cluster import ClusterParams
from theming.engine import ThemeEngine
from theming.model import Comment
from theming.state import ASSIGN_SIMILARITY


def output(engine: ThemeEngine) -> dict[str, object]:
    return {
        "themes": [{"id": t, "members": engine.members(t)} for t in engine.themes],
        "unassigned": engine.unassigned(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    groups = load_argkp()[: args.limit]
    embedder = cached_minilm()
    data = []
    for g in groups:
        vectors = embedder.encode(g.texts)
        comments = [Comment(i, t) for i, t in zip(g.ids, g.texts, strict=True)]
        data.append((g, comments, FixedEmbedder(g.texts, vectors), vectors))

    print("part 1: clustering parameters (mean over groups, then over seeds)")
    for k, resolution in itertools.product((5, 6, 8), (0.9, 1.0, 1.1)):
        runs = []
        for seed in range(args.seeds):
            # k fixed whatever the group's size (not scaled down for small ones).
            params = ClusterParams(
                neighbours=k, min_neighbours=k, resolution=resolution, seed=seed
            )
            scores = []
            for g, comments, fixed, vectors in data:
                engine = ThemeEngine(fixed, params=params)
                engine.add(comments, vectors)
                engine.retheme()
                scores.append(score(g.gold, labels_from_output(g.ids, output(engine))))
            runs.append(mean_score(scores))
        ami = [r.ami for r in runs]
        print(
            f"  k={k} resolution={resolution:.1f}  AMI={np.mean(ami):.3f}±{np.std(ami):.3f} "
            f"ARI={np.mean([r.ari for r in runs]):.3f} "
            f"ratio={np.mean([r.themes_ratio for r in runs]):.2f}"
        )

    print(f"part 2: arrival threshold (current default {ASSIGN_SIMILARITY})")
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        scores, placed, correct = [], 0, 0
        for g, comments, fixed, vectors in data:
            rng = random.Random(0)
            order = list(range(len(comments)))
            rng.shuffle(order)
            cut = int(0.7 * len(order))
            first, later = order[:cut], order[cut:]
            engine = ThemeEngine(fixed, assign_similarity=threshold)
            engine.add([comments[i] for i in first], vectors[first])
            engine.retheme()
            engine.add([comments[i] for i in later], vectors[later])
            scores.append(score(g.gold, labels_from_output(g.ids, output(engine))))
            gold = dict(zip(g.ids, g.gold, strict=True))
            for i in later:
                place = engine.where(comments[i].id)
                if place in engine.themes:
                    placed += 1
                    mates = [gold[c] for c in engine.members(place) if c != comments[i].id]
                    majority = max(set(mates), key=mates.count)
                    correct += gold[comments[i].id] == majority
        m = mean_score(scores)
        print(
            f"  threshold={threshold:.2f}  AMI={m.ami:.3f} coverage={m.coverage:.2f} "
            f"arrivals placed={placed}, joined their gold majority={correct / max(placed, 1):.2f}"
        )


if __name__ == "__main__":
    main()
