"""Fixtures for the theming tests: the real model loads once per session
(``minilm``); unit tests use the hashing fake (``fake``)."""

from __future__ import annotations

import pytest

from theming.cache import CachedEmbedder, InMemoryEmbeddingCache
from theming.embed import HashingEmbedder, MiniLMEmbedder


@pytest.fixture
def fake() -> HashingEmbedder:
    return HashingEmbedder(dim=256)


@pytest.fixture(scope="session")
def minilm() -> CachedEmbedder:
    """The real model, loaded once for every ``model`` test of the session."""
    embedder = MiniLMEmbedder()
    embedder.load()
    return CachedEmbedder(embedder, InMemoryEmbeddingCache())
