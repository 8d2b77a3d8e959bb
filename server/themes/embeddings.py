"""Embeddings kept in memory for the theming thread and in the database for
restarts: a text is never embedded twice, even across server restarts."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sqlmodel import col, select

from server.storage.models import EmbeddingCacheEntry
from theming.cache import InMemoryEmbeddingCache, text_key
from theming.embed import Embedder, HashingEmbedder, MiniLMEmbedder, Precision

# Texts per forward pass. Smaller batches pad less (sentence-transformers sorts
# by length within a call): 500 comments took 4.4 s of one core at 16, 4.6 s at
# 32 and 5.0 s at 64 (docs/benchmarks.md, issue 19).
BATCH = 16


def theming_threads(configured: int, cpus: str = "") -> int:
    """Threads for the embedding model: ``configured``, or with 0 all the CPUs the
    theming worker was given (``cpus``), or else one less than this process may
    use, leaving a core to the web side (at least 1)."""
    if configured:
        return configured
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    usable = usable or 1
    return usable if cpus else max(1, usable - 1)


def make_embedder(name: str, threads: int | None = None, precision: Precision = "auto") -> Embedder:
    """``threads``: how many the model may use (``None``: torch's own choice)."""
    if name == "hashing":
        return HashingEmbedder()
    if name == "minilm":
        return MiniLMEmbedder(batch_size=BATCH, threads=threads, precision=precision)
    raise ValueError(f"unknown embedder {name!r}: use minilm or hashing")


class RecordingCache(InMemoryEmbeddingCache):
    """In memory for the thread; remembers what is new so it can be saved to the database.

    Database keys are prefixed with the embedder's name: vectors of two
    models must never be mixed."""

    def __init__(self, embedder_name: str) -> None:
        super().__init__()
        self.name = embedder_name
        self.new: dict[str, np.ndarray] = {}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        super().put_many(items)
        self.new.update(items)

    def db_key(self, key: str) -> str:
        return f"{self.name}:{key}"

    async def warm(self, session: Any, texts: list[str]) -> None:
        """Load the stored vectors of these texts that are not in memory yet."""
        keys = [k for k in dict.fromkeys(text_key(t) for t in texts) if not self.get_many([k])]
        if not keys:
            return
        rows = (
            await session.exec(
                select(EmbeddingCacheEntry).where(
                    col(EmbeddingCacheEntry.key).in_([self.db_key(k) for k in keys])
                )
            )
        ).all()
        prefix = len(self.name) + 1
        # Straight into memory: these are already stored, so not "new".
        InMemoryEmbeddingCache.put_many(
            self, {r.key[prefix:]: np.frombuffer(r.vector, dtype=np.float32) for r in rows}
        )

    async def save_new(self, session: Any) -> None:
        """Add the vectors computed since the last save to the session: one read
        for those already stored, then one insert for the rest (a ``merge`` per
        vector was a read each: ~250 round trips for a burst's batch)."""
        new, self.new = self.new, {}
        if not new:
            return
        keys = {self.db_key(k): k for k in new}
        stored = set(
            (
                await session.exec(
                    select(EmbeddingCacheEntry.key).where(col(EmbeddingCacheEntry.key).in_(keys))
                )
            ).all()
        )
        session.add_all(
            EmbeddingCacheEntry(key=db_key, vector=np.asarray(new[k], np.float32).tobytes())
            for db_key, k in keys.items()
            if db_key not in stored
        )
