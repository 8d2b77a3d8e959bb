"""Theming speed: cached embedding overhead, full retheme, incremental add.

    python bench/theming_speed.py [--limit N]

Targets (2 cores): CachedEmbedder throughput >= 0.9 x bare model on first
sight of the texts; retheme of 5,000 comments with cached embeddings <= 10 s;
incremental add in milliseconds per comment.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from theming_common import cached_minilm, load_argkp, load_polis_texts

from theming.cache import CachedEmbedder, InMemoryEmbeddingCache
from theming.embed import MiniLMEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment


def corpus(size: int) -> list[str]:
    """``size`` texts from the Polis files and ArgKP, recombined if needed.

    Past the ~4,800 real texts, pairs of sentences are joined so every text
    stays distinct (otherwise deduplication would make retheme look cheap).
    """
    texts = list(dict.fromkeys(load_polis_texts() + [t for g in load_argkp() for t in g.texts]))
    rng = random.Random(0)
    seen = set(texts)
    while len(texts) < size:
        text = f"{rng.choice(texts)} {rng.choice(texts)}"
        if text not in seen:
            seen.add(text)
            texts.append(text)
    rng.shuffle(texts)
    return texts[:size]


def embedding_throughput(texts: list[str], rounds: int = 2) -> None:
    """Best of ``rounds`` for each side, alternating, on texts neither has seen
    (other jobs share the 2 cores, so single timings are noisy)."""
    model = MiniLMEmbedder()
    model.load()
    bare = model._model
    bare.encode(texts[:64], batch_size=64, normalize_embeddings=True)  # warm-up
    chunk = len(texts) // rounds
    bare_rates, cached_rates = [], []
    for r in range(rounds):
        part = texts[r * chunk : (r + 1) * chunk]
        started = time.perf_counter()
        bare.encode(part, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        bare_rates.append(len(part) / (time.perf_counter() - started))
        cached = CachedEmbedder(model, InMemoryEmbeddingCache())
        started = time.perf_counter()
        cached.encode(part)
        cached_rates.append(len(part) / (time.perf_counter() - started))
    started = time.perf_counter()
    cached.encode(part)
    warm_rate = len(part) / (time.perf_counter() - started)
    bare_best, cached_best = max(bare_rates), max(cached_rates)
    print(
        f"embedding ({rounds} x {chunk} texts, best of each): bare SentenceTransformer "
        f"{bare_best:6.1f}/s, CachedEmbedder cold {cached_best:6.1f}/s "
        f"(ratio {cached_best / bare_best:.2f}, target >= 0.9), warm {warm_rate:8.0f}/s"
    )


def retheme_and_add(texts: list[str], new: int) -> None:
    embedder = cached_minilm()
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    print(
        f"embeddings for {len(texts)} texts ready in {time.perf_counter() - started:.1f}s "
        "(disk cache; first run embeds them)"
    )
    comments = [Comment(f"c{i}", t, table=str(i % 500)) for i, t in enumerate(texts)]
    base, arriving = comments[: len(comments) - new], comments[len(comments) - new :]
    engine = ThemeEngine(embedder)
    engine.add(base, vectors[: len(base)])
    started = time.perf_counter()
    summary = engine.retheme()
    retheme_s = time.perf_counter() - started
    print(
        f"retheme of {len(base)} comments: {retheme_s:.2f}s -> {summary['themes_after']} "
        f"themes, {summary['unassigned_after']} unassigned (target <= 10 s for 5,000)"
    )
    started = time.perf_counter()
    engine.snapshot()
    print(f"snapshot (labels, keywords, quotes): {time.perf_counter() - started:.2f}s")

    latencies = []
    for i, comment in enumerate(arriving):
        vector = vectors[len(base) + i : len(base) + i + 1]
        started = time.perf_counter()
        engine.add([comment], vector)
        latencies.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(latencies, [50, 95])
    print(
        f"incremental add, one comment at a time into {len(base)}: "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms ({len(latencies)} comments)"
    )
    started = time.perf_counter()
    engine.retheme()
    print(f"second retheme (ids matched to the first): {time.perf_counter() - started:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5000, help="comments to retheme")
    parser.add_argument("--embed", type=int, default=1000, help="texts for the throughput test")
    args = parser.parse_args()
    texts = corpus(args.limit + 200)
    embedding_throughput(corpus(args.embed + 3000)[-args.embed :])
    retheme_and_add(texts, new=200)


if __name__ == "__main__":
    main()
