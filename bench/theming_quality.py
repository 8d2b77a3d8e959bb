"""Theme quality on ArgKP: townhall vs k-means told the true k vs BERTopic.

    python bench/theming_quality.py [--limit N] [--precision auto|float32|bfloat16]

Scores each (topic, stance) group of argkp-train.csv the way the project's
scorer does (unassigned = singletons) and prints the mean over groups.
Embeddings are cached in .cache/ so re-runs take seconds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from sklearn.cluster import KMeans
from theming_common import (
    FixedEmbedder,
    Group,
    Score,
    cached_minilm,
    labels_from_output,
    load_argkp,
    mean_score,
)
from theming_common import score as score_labels

from theming.embed import PRECISIONS
from theming.model import Comment
from theming.suggest import suggest

Method = Callable[[Group, np.ndarray], list[str]]


def townhall(group: Group, vectors: np.ndarray) -> list[str]:
    embedder = FixedEmbedder(group.texts, vectors)
    rows = [Comment(i, t) for i, t in zip(group.ids, group.texts, strict=True)]
    return labels_from_output(group.ids, suggest(rows, embedder))


def kmeans_oracle(group: Group, vectors: np.ndarray) -> list[str]:
    k = len(set(group.gold))
    labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors)
    return [f"k{label}" for label in labels]


def bertopic_method() -> tuple[Method | None, str]:
    try:
        from bertopic import BERTopic  # type: ignore[import-not-found]
    except Exception as exc:  # any import failure just means "skip"
        return None, f"bertopic not importable ({type(exc).__name__}: {exc})"

    def run(group: Group, vectors: np.ndarray) -> list[str]:
        model = BERTopic(min_topic_size=3, calculate_probabilities=False)
        topics, _ = model.fit_transform(group.texts, embeddings=vectors)
        return [f"b{t}" if t != -1 else f"single:{i}" for i, t in enumerate(topics)]

    return run, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N groups")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="the embedding model's arithmetic (TOWNHALL_EMBED_PRECISION; auto: bfloat16 "
        "where the CPU has it)",
    )
    args = parser.parse_args()
    groups = load_argkp()[: args.limit]
    embedder = cached_minilm(args.precision)
    started = time.perf_counter()
    vectors = [embedder.encode(g.texts) for g in groups]
    print(f"{len(groups)} groups, embeddings ready in {time.perf_counter() - started:.1f}s")

    methods: dict[str, Method] = {"townhall": townhall, "kmeans-true-k": kmeans_oracle}
    bertopic, why = bertopic_method()
    if bertopic is not None:
        methods["bertopic"] = bertopic
    heads = ("AMI", "ARI", "V", "ratio", "cover", "sec")
    print(f"{'method':15s} " + " ".join(f"{h:>6s}" for h in heads))
    for name, method in methods.items():
        started = time.perf_counter()
        scores: list[Score] = [
            score_labels(g.gold, method(g, v)) for g, v in zip(groups, vectors, strict=True)
        ]
        m = mean_score(scores)
        seconds = time.perf_counter() - started
        print(
            f"{name:15s} {m.ami:6.3f} {m.ari:6.3f} {m.v:6.3f} "
            f"{m.themes_ratio:6.2f} {m.coverage:6.2f} {seconds:6.1f}"
        )
    if bertopic is None:
        print(f"bertopic        skipped: {why}")


if __name__ == "__main__":
    main()
