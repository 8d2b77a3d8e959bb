"""Theme labels on ArgKP, offline and fast: do they name the human key point?

    .venv/bin/python bench/theming_labels.py [--limit N] [--sweep] [--examples N] [--cold N]

Each (topic, stance) group of argkp-train.csv is themed the way ``themes
suggest`` does it (one engine, the question set, all comments, one re-theme);
then the engine labels its themes (``ThemeEngine.refresh_labels``, the same
call the live path makes after every re-cluster). For every theme of >= 3
comments: the all-MiniLM cosine between its label and the ``theme_label`` of
the gold theme most of its members belong to. Printed beside it: the same
cosine for the theme's most central comment (the reference; target: labels
>= reference + 0.03), for the best candidate phrase (an oracle: what a
perfect selector could reach), duplicate labels within a question, and both
halves of the topics (alternate topics) so a gain that rests on a few topics
shows. ``--sweep`` scores a grid of selector weights (tune on the whole file,
never on single groups). ``--cold N`` times labelling with nothing cached.
Embeddings of comments and phrases are cached in .cache/ (re-runs take ~1 min).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from theming_common import (
    DiskEmbeddingCache,
    FixedEmbedder,
    Group,
    cache_file,
    load_argkp,
    question_text,
)

from theming.cache import CachedEmbedder
from theming.cluster import centroid
from theming.embed import PRECISIONS, Embedder, MiniLMEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment
from theming.naming import LABEL_WEIGHTS, LabelWeights, candidates

TARGET = 0.03
MIN_MEMBERS = 3


@dataclass
class Themed:
    group: Group
    engine: ThemeEngine
    first_labels: dict[str, str]  # the labels a new theme gets before relabelling
    key_points: dict[str, str]  # theme id -> majority gold key point (>= 3 members)
    central: dict[str, str]  # theme id -> its most central comment


class BatchedDiskCache(DiskEmbeddingCache):
    """The bench's disk cache, written once at the end instead of on every put."""

    saved = 0.0

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self._items.update(items)
        self.dirty = True
        if time.monotonic() - self.saved > 60:  # keep progress if the run is stopped
            self.flush()

    def flush(self) -> None:
        if getattr(self, "dirty", False):
            super().put_many({})
            self.dirty, self.saved = False, time.monotonic()


def fixed(texts: list[str], vectors: np.ndarray, shared: Embedder) -> FixedEmbedder:
    """The group's comment vectors; phrases go to the one shared cached model."""
    embedder = FixedEmbedder(texts, vectors)
    embedder._fallback = shared
    return embedder


def theme_group(g: Group, vectors: np.ndarray, shared: CachedEmbedder) -> Themed:
    engine = ThemeEngine(fixed(g.texts, vectors, shared))
    engine.question = question_text(g)
    engine.add([Comment(i, t) for i, t in zip(g.ids, g.texts, strict=True)], vectors)
    engine.retheme()
    gold = dict(zip(g.ids, g.gold, strict=True))
    text = dict(zip(g.ids, g.texts, strict=True))
    row = {i: k for k, i in enumerate(g.ids)}
    key_points, central = {}, {}
    for tid in engine.themes:
        members = engine.members(tid)
        if len(members) < MIN_MEMBERS:
            continue
        majority = Counter(gold[m] for m in members).most_common(1)[0][0]
        key_points[tid] = g.gold_labels[majority]
        m = vectors[[row[c] for c in members]]
        central[tid] = text[members[int(np.argmax(m @ centroid(m)))]]
    first = {tid: t.label for tid, t in engine.themes.items()}
    return Themed(g, engine, first, key_points, central)


def label(themed: Themed, weights: LabelWeights) -> dict[str, str]:
    """The engine's labels from scratch (as after a question's first re-theme)."""
    for tid, theme in themed.engine.themes.items():
        theme.label = themed.first_labels[tid]
    stale = {tid for tid in themed.engine.themes if themed.engine.members(tid)}
    return themed.engine.choose_labels(stale, weights=weights)


@dataclass
class Result:
    label: list[float]
    central: list[float]
    oracle: list[float]
    duplicates: int
    alike: list[float]  # each label's highest cosine to another label of its question
    half: list[int]  # 0/1 per theme: which half of the topics
    examples: list[tuple[str, str, str]]


def evaluate(themed: list[Themed], weights: LabelWeights, encode, oracle: bool = False) -> Result:
    topics = sorted({t.group.topic for t in themed})
    res = Result([], [], [], 0, [], [], [])
    for t in themed:
        labels = label(t, weights)
        res.duplicates += len(labels) - len({x.casefold() for x in labels.values()})
        if len(labels) > 1:
            lv = encode(list(labels.values()))
            sims = lv @ lv.T - 2 * np.eye(len(lv))
            res.alike.extend(sims.max(axis=1).tolist())
        for tid, key_point in t.key_points.items():
            kp, lab, cen = encode([key_point, labels[tid], t.central[tid]])
            res.label.append(float(kp @ lab))
            res.central.append(float(kp @ cen))
            res.half.append(topics.index(t.group.topic) % 2)
            res.examples.append((key_point, labels[tid], t.central[tid]))
            if oracle:
                texts = t.engine._central_texts(t.engine.members(tid))[: weights.members]
                phrases = candidates(texts, t.engine.subject(), t.engine.aliases())
                res.oracle.append(float((encode(phrases) @ kp).max()) if phrases else 0.0)
    return res


def summary(res: Result) -> str:
    lab, cen = np.array(res.label), np.array(res.central)
    halves = []
    for h in (0, 1):
        pick = np.array(res.half) == h
        halves.append(f"{lab[pick].mean() - cen[pick].mean():+.3f}")
    diff = lab.mean() - cen.mean()
    return (
        f"label {lab.mean():.3f}  central {cen.mean():.3f}  diff {diff:+.3f} "
        f"(ratio to +{TARGET}: {diff / TARGET:+.2f})  halves {' / '.join(halves)}  "
        f"duplicates {res.duplicates}  alike {np.mean(res.alike):.3f}"
    )


def sweep(themed: list[Themed], encode, base: LabelWeights) -> None:
    grid = {
        "sibling": [0.0, 0.2],
        "typical": [0.0, 1.0, 2.0, 4.0],
        "question": [0.0, 0.5, 1.0, 2.0],
        "per_word": [0.0, 0.005],
    }
    rows = []
    for values in itertools.product(*grid.values()):
        w = replace(base, **dict(zip(grid, values, strict=True)))
        res = evaluate(themed, w, encode)
        rows.append((np.mean(res.label) - np.mean(res.central), w, summary(res)))
    rows.sort(key=lambda r: -r[0])
    for _, w, line in rows[:15]:
        print(
            f"  sib {w.sibling:.1f} typ {w.typical:.1f} q {w.question:.1f} "
            f"word {w.per_word:.3f}: {line}"
        )
    print(f"  ... worst: {rows[-1][2]}")


def timing(themed: list[Themed], cold: int, weights: LabelWeights) -> None:
    """ms per theme: warm (phrases cached, as on a re-cluster that keeps
    members) and, for ``cold`` groups, with the real model and no cache."""
    themes = sum(len(t.engine.themes) for t in themed)
    started = time.perf_counter()
    for t in themed:
        label(t, weights)
    warm = (time.perf_counter() - started) * 1000 / max(themes, 1)
    print(f"cost: {warm:.2f} ms per theme with phrase vectors cached ({themes} themes)")
    if not cold:
        return
    model = MiniLMEmbedder()
    model.encode(["warm up the model"])
    count, started = 0, time.perf_counter()
    for t in themed[:cold]:
        texts = list(t.group.texts)
        t.engine.embedder = fixed(texts, t.engine.embedder.encode(texts), model)
        label(t, weights)
        count += len(t.engine.themes)
    cold_ms = (time.perf_counter() - started) * 1000 / max(count, 1)
    print(f"cost: {cold_ms:.1f} ms per theme embedding every phrase afresh ({count} themes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N groups")
    ap.add_argument("--sweep", action="store_true", help="score a grid of selector weights")
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--cold", type=int, default=0, help="time N groups with nothing cached")
    ap.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="the embedding model's arithmetic (TOWNHALL_EMBED_PRECISION; auto: bfloat16 "
        "where the CPU has it; the two give different labels, see docs/benchmarks.md)",
    )
    for name in ("sibling", "typical", "question", "per_word", "members", "support"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=float, default=None)
    args = ap.parse_args()
    chosen = {
        k: (int(v) if k == "members" else v)
        for k in ("sibling", "typical", "question", "per_word", "members", "support")
        if (v := getattr(args, k)) is not None
    }
    weights = replace(LABEL_WEIGHTS, **chosen)
    model = MiniLMEmbedder(precision=args.precision)
    cache = BatchedDiskCache(cache_file(model))
    embedder = CachedEmbedder(model, cache)
    groups = load_argkp()[: args.limit]
    started = time.perf_counter()
    themed = [theme_group(g, embedder.encode(g.texts), embedder) for g in groups]
    n = sum(len(t.key_points) for t in themed)
    print(
        f"{len(groups)} groups themed in {time.perf_counter() - started:.1f}s; "
        f"{n} themes of >= {MIN_MEMBERS} comments; {_load()}"
    )
    res = evaluate(themed, weights, embedder.encode, oracle=True)
    cache.flush()
    print(f"selector {weights}:\n  {summary(res)}")
    print(f"  oracle (best candidate phrase) {np.mean(res.oracle):.3f}")
    for kp, lab, cen in res.examples[: args.examples]:
        print(f"    key point: {kp}\n      label:   {lab}\n      central: {cen[:90]}")
    if args.sweep:
        sweep(themed, embedder.encode, weights)
        cache.flush()
    timing(themed, args.cold, weights)
    print(_load())


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min; the machine is shared)"


if __name__ == "__main__":
    main()
