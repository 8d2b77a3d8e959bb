from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from theming.cache import CachedEmbedder, InMemoryEmbeddingCache, text_key
from theming.embed import Embedder, HashingEmbedder, MiniLMEmbedder, native_bfloat16


class CountingEmbedder:
    """Records every text it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=32)
        self.seen: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_hashing_embedder_is_deterministic_and_unit_length() -> None:
    embedder = HashingEmbedder(dim=48)
    a = embedder.encode(["more bike lanes", "fix the potholes", ""])
    b = HashingEmbedder(dim=48).encode(["more bike lanes", "fix the potholes", ""])
    assert a.dtype == np.float32 and a.shape == (3, 48)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert isinstance(embedder, Embedder)


def test_cached_embedder_embeds_each_normalised_text_once() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, InMemoryEmbeddingCache())
    first = cached.encode(["more  parks", "more parks\n", "fewer cars"])
    second = cached.encode(["fewer cars", " more parks"])
    assert inner.seen == ["more parks", "fewer cars"]
    np.testing.assert_array_equal(first[0], first[1])
    np.testing.assert_array_equal(second[0], first[2])
    assert (cached.hits, cached.misses) == (2, 2)


def test_cached_vectors_equal_bare_vectors() -> None:
    texts = ["Parks need shade", "Buses should run later", "Rent is too high"]
    bare = HashingEmbedder(dim=32).encode(texts)
    cached = CachedEmbedder(HashingEmbedder(dim=32), InMemoryEmbeddingCache())
    np.testing.assert_allclose(cached.encode(texts), bare, rtol=1e-6)


def test_cache_key_ignores_whitespace_only() -> None:
    assert text_key("a  b\n") == text_key("a b")
    assert text_key("a b") != text_key("A b")


def test_empty_batch_makes_an_empty_matrix() -> None:
    cached = CachedEmbedder(HashingEmbedder(dim=8), InMemoryEmbeddingCache())
    assert cached.encode([]).shape == (0, 8)


def test_bfloat16_is_native_only_with_its_cpu_flags(tmp_path: Path) -> None:
    def cpu(flags: str) -> Path:
        path = tmp_path / f"cpuinfo-{len(flags)}"
        path.write_text(f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n\n")
        return path

    assert native_bfloat16(cpu("fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni"))
    assert native_bfloat16(cpu("fpu sse2 avx2 amx_tile amx_bf16"))
    assert not native_bfloat16(cpu("fpu sse2 avx2 avx512f avx512_vnni"))
    assert not native_bfloat16(tmp_path / "missing")


def test_minilm_precision_is_checked_and_resolved() -> None:
    with pytest.raises(ValueError, match="unknown precision"):
        MiniLMEmbedder(precision="float16")  # type: ignore[arg-type]
    assert MiniLMEmbedder(precision="bfloat16").bfloat16
    assert not MiniLMEmbedder(precision="float32").bfloat16
    assert MiniLMEmbedder(precision="auto").bfloat16 == native_bfloat16()
