"""Shared helpers for the theming benchmarks: data loading, disk cache, scores.

The embeddings live under ``.cache/`` in the repo root (the directory gets its
own ``.gitignore`` so nothing there is ever committed).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, v_measure_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theming.cache import CachedEmbedder  # noqa: E402
from theming.embed import Embedder, MiniLMEmbedder, Precision  # noqa: E402

DATA = Path("/work/shared/data")
ARGKP = DATA / "argkp-train.csv"
POLIS = sorted(DATA.glob("polis-*.csv"))
CACHE_DIR = ROOT / ".cache"


class DiskEmbeddingCache:
    """An ``EmbeddingCache`` kept in one .npz file; saved on every put."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._items: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                keys = [str(k) for k in data["keys"]]
                self._items = dict(zip(keys, data["vectors"], strict=True))

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        return {k: self._items[k] for k in keys if k in self._items}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self._items.update(items)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        keys = np.array(list(self._items), dtype=str)
        vectors = np.stack(list(self._items.values())).astype(np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self.path)


def cached_minilm(precision: Precision = "auto") -> CachedEmbedder:
    """all-MiniLM with its vectors cached on disk, a file per arithmetic (float32
    and bfloat16 vectors differ by < 3e-5 cosine, but a comparison must not mix them)."""
    model = MiniLMEmbedder(precision=precision)
    return CachedEmbedder(model, DiskEmbeddingCache(cache_file(model)))


def cache_file(model: MiniLMEmbedder) -> Path:
    """Where the vectors of ``model``'s arithmetic are cached."""
    return CACHE_DIR / ("minilm-bfloat16.npz" if model.bfloat16 else "minilm.npz")


class FixedEmbedder:
    """An ``Embedder`` over precomputed vectors, so every method compared in a
    benchmark sees exactly the same embeddings. Other texts (label phrases)
    go to the cached real model."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.dim = vectors.shape[1]
        self._by_text = dict(zip(texts, vectors, strict=True))
        self._fallback: Embedder | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._by_text]
        if missing:
            self._fallback = self._fallback or cached_minilm()
            self._by_text.update(zip(missing, self._fallback.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._by_text[t] for t in texts])


@dataclass
class Group:
    topic: str
    stance: str
    ids: list[str]
    texts: list[str]
    gold: list[str]
    gold_labels: dict[str, str]


def arrival_seed(order: int, question_id: int) -> int | str:
    """The seed bench/theming_live.py shuffles a question's comments with for
    ``--order`` (0: the order earlier runs used); the replay uses it too."""
    return question_id if order == 0 else f"{order}:{question_id}"


def question_text(g: Group) -> str:
    """The question a (topic, stance) group stands for, as the benches pose it."""
    return f"{g.topic} ({'for' if g.stance == '1' else 'against'})"


def load_argkp(path: Path = ARGKP) -> list[Group]:
    grouped: dict[tuple[str, str], Group] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["topic"], row["stance"])
            if key not in grouped:
                grouped[key] = Group(key[0], key[1], [], [], [], {})
            g = grouped[key]
            g.ids.append(row["id"])
            g.texts.append(row["text"])
            g.gold.append(row["theme_id"])
            g.gold_labels[row["theme_id"]] = row["theme_label"]
    return list(grouped.values())


def load_polis_texts() -> list[str]:
    texts: list[str] = []
    for path in POLIS:
        with path.open(newline="", encoding="utf-8") as fh:
            texts.extend(row["text"] for row in csv.DictReader(fh))
    return texts


def labels_from_output(ids: Sequence[str], output: dict[str, object]) -> list[str]:
    """Predicted cluster per id, the scorer's way: unassigned/missing = singleton,
    first theme wins for an id listed twice."""
    assigned: dict[str, str] = {}
    themes = output.get("themes", [])
    assert isinstance(themes, list)
    for theme in themes:
        for member in theme["members"]:
            assigned.setdefault(str(member), f"theme:{theme['id']}")
    return [assigned.get(i, f"single:{i}") for i in ids]


@dataclass
class Score:
    ami: float
    ari: float
    v: float
    themes_ratio: float
    coverage: float


def score(gold: Sequence[str], predicted: Sequence[str]) -> Score:
    found = {p for p in predicted if not p.startswith("single:")}
    covered = sum(1 for p in predicted if not p.startswith("single:"))
    return Score(
        ami=float(adjusted_mutual_info_score(gold, predicted)),
        ari=float(adjusted_rand_score(gold, predicted)),
        v=float(v_measure_score(gold, predicted)),
        themes_ratio=len(found) / len(set(gold)),
        coverage=covered / len(gold),
    )


def mean_score(scores: Sequence[Score]) -> Score:
    def m(name: str) -> float:
        return float(np.mean([getattr(s, name) for s in scores]))

    return Score(m("ami"), m("ari"), m("v"), m("themes_ratio"), m("coverage"))


def by_key(items: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for k, v in items:
        out[k].append(v)
    return out
