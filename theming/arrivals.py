"""Fast lookups for arriving comments: nearest theme and nearest duplicate.

Kept between ``add`` calls so one arrival costs two matrix-vector products
instead of a pass over every comment. Any other change to the state (a
retheme or a curation op) bumps the engine revision, and the engine then
rebuilds this index from scratch on the next arrival.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ArrivalIndex"]


class ArrivalIndex:
    def __init__(self, dim: int) -> None:
        self.theme_ids: list[str] = []
        self._theme_pos: dict[str, int] = {}
        self._sums = np.zeros((0, dim), dtype=np.float64)
        self._counts = np.zeros(0, dtype=int)
        self.leaders: list[str] = []
        # Grown by doubling so appending a leader is amortised O(dim).
        self._leader_rows = np.zeros((64, dim), dtype=np.float32)

    @classmethod
    def build(
        cls,
        dim: int,
        theme_ids: list[str],
        placed: list[tuple[str, np.ndarray]],
        leaders: list[tuple[str, np.ndarray]],
    ) -> ArrivalIndex:
        """``placed`` lists (theme id, vector) of every comment in a theme."""
        index = cls(dim)
        index.theme_ids = list(theme_ids)
        index._theme_pos = {tid: i for i, tid in enumerate(theme_ids)}
        index._sums = np.zeros((len(theme_ids), dim), dtype=np.float64)
        index._counts = np.zeros(len(theme_ids), dtype=int)
        for tid, vector in placed:
            index.add_to_theme(tid, vector)
        for cid, vector in leaders:
            index.add_leader(cid, vector)
        return index

    def add_to_theme(self, theme_id: str, vector: np.ndarray) -> None:
        position = self._theme_pos.get(theme_id)
        if position is not None:
            self._sums[position] += vector
            self._counts[position] += 1

    def add_leader(self, comment_id: str, vector: np.ndarray) -> None:
        if len(self.leaders) == self._leader_rows.shape[0]:
            grown = np.zeros((2 * len(self.leaders), self._leader_rows.shape[1]), np.float32)
            grown[: len(self.leaders)] = self._leader_rows
            self._leader_rows = grown
        self._leader_rows[len(self.leaders)] = vector
        self.leaders.append(comment_id)

    def nearest_theme(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The theme whose centre is most similar, and that cosine."""
        if not self.theme_ids or not self._counts.any():
            return None, -1.0
        norms = np.maximum(np.linalg.norm(self._sums, axis=1), 1e-9)
        sims = np.where(self._counts > 0, (self._sums @ vector) / norms, -np.inf)
        best = int(np.argmax(sims))
        return self.theme_ids[best], float(sims[best])

    def nearest_leader(self, vector: np.ndarray) -> tuple[str | None, float]:
        if not self.leaders:
            return None, -1.0
        sims = self._leader_rows[: len(self.leaders)] @ vector
        best = int(np.argmax(sims))
        return self.leaders[best], float(sims[best])
