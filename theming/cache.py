"""Embedding cache: never embed the same text twice.

The key is the sha256 of the whitespace-normalised text, so "Parks  please"
and "Parks please\n" share one vector. The server supplies a database-backed
``EmbeddingCache``; persistence across restarts is its job, not ours.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np

from theming.embed import Embedder, normalise_rows

__all__ = ["CachedEmbedder", "EmbeddingCache", "InMemoryEmbeddingCache", "text_key"]


def normalise_text(text: str) -> str:
    return " ".join(text.split())


def text_key(text: str) -> str:
    """Cache key of a text: sha256 hex of its whitespace-normalised form."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


@runtime_checkable
class EmbeddingCache(Protocol):
    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors for the keys that are present; missing keys are left out."""
        ...

    def put_many(self, items: dict[str, np.ndarray]) -> None: ...


class InMemoryEmbeddingCache:
    """A dict of key -> vector; enough for one process and for tests."""

    def __init__(self) -> None:
        self._items: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        return {k: self._items[k] for k in keys if k in self._items}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        for key, vector in items.items():
            self._items[key] = np.asarray(vector, dtype=np.float32)


class CachedEmbedder:
    """An ``Embedder`` that asks the cache first and embeds only the misses.

    Misses are also de-duplicated within one call, so a batch with the same
    comment typed at ten tables embeds it once.
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        unique_keys = list(dict.fromkeys(keys))
        found = self.cache.get_many(unique_keys)
        missing = [k for k in unique_keys if k not in found]
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self.embedder.encode([normalise_text(text_of[k]) for k in missing])
            new_items = dict(zip(missing, fresh, strict=True))
            self.cache.put_many(new_items)
            found.update(new_items)
        self.hits += len(unique_keys) - len(missing)
        self.misses += len(missing)
        return normalise_rows(np.stack([found[k] for k in keys]))
