"""Embeddings kept in memory for the theming thread and in the database for
restarts: a text is never embedded twice, even across server restarts."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import col, select

from server.storage.models import EmbeddingCacheEntry
from theming.cache import InMemoryEmbeddingCache, text_key
from theming.embed import Embedder, HashingEmbedder, MiniLMEmbedder


def make_embedder(name: str) -> Embedder:
    if name == "hashing":
        return HashingEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
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
        """Add the vectors computed since the last save to the session."""
        new, self.new = self.new, {}
        for key, vector in new.items():
            await session.merge(
                EmbeddingCacheEntry(
                    key=self.db_key(key), vector=np.asarray(vector, np.float32).tobytes()
                )
            )
