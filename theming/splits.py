"""Offers to split a theme the machine may no longer reshape.

A re-cluster redraws every theme nobody has touched, so a theme that has come
to hold two concerns is redrawn as two. A published or curated theme is
locked: arrivals may join it, nothing leaves it without a team step, and in
a long meeting it can grow into a catch-all (the demo's "community" theme
took the fire department, the farmers market and the historic buildings).
So for such a theme the same community search that draws themes is run on
its members; when it finds a second group that is distinct enough, the team
is offered to split it off (``Theme.split_offer``: the comments that would
leave, as one step they can see and undo). Distinct enough: its centre is
no closer to the first group's than two of the question's themes typically
are (the median over pairs of its other themes), or the whole theme holds
at least ``OVERSIZE`` times the comments of the question's other themes' median.

On ArgKP this test cannot be calibrated: halves of one gold theme and the
union of two gold themes of a (topic, stance) look alike to the model
(split centres at cosine 0.82 median either way; docs/benchmarks.md), so the
rule compares a theme with its own question instead of a fixed threshold.
"""

from __future__ import annotations

import numpy as np

from theming.cluster import centroid, cluster
from theming.state import ThemeState

__all__ = ["MIN_SHARE", "OVERSIZE", "RECHECK_GROWTH", "SplitOfferMixin"]

MIN_SHARE = 0.1  # the group split off holds at least this share of the theme
OVERSIZE = 2.0  # x the question's median theme size
RECHECK_GROWTH = 1.1  # a theme is looked at again once its size moved by a tenth


class SplitOfferMixin(ThemeState):
    def refresh_split_offers(
        self,
        held: set[str] | frozenset[str] = frozenset(),
        members: dict[str, list[str]] | None = None,
    ) -> list[str]:
        """Look again at every locked or ``held`` theme whose size moved by a
        tenth since it was last looked at; returns the ids whose offer changed.
        ``members``: each theme's, when the caller has them already."""
        members = members or {tid: self.members(tid) for tid in self.themes}
        due = [
            tid
            for tid, theme in self.themes.items()
            if (theme.locked or tid in held) and not self._looked_at(tid, len(members[tid]))
        ]
        if not due:  # the common case on the arrival path: no centres to compute
            return []
        centres = {
            tid: centroid(np.stack([self._vectors[c] for c in m]))
            for tid, m in members.items()
            if len(m) >= self.params.min_theme_size
        }
        changed = []
        for tid in due:
            theme = self.themes[tid]
            self._split_size[tid] = len(members[tid])
            others = [t for t in centres if t != tid]
            offer = self._offer(
                members[tid], [centres[t] for t in others], [len(members[t]) for t in others]
            )
            if offer != theme.split_offer:
                theme.split_offer = offer
                changed.append(tid)
        return changed

    def _looked_at(self, tid: str, size: int) -> bool:
        """Whether the theme was looked at within a tenth of its size now."""
        last = self._split_size.get(tid)
        return last is not None and last / RECHECK_GROWTH <= size <= last * RECHECK_GROWTH

    def _offer(
        self, members: list[str], siblings: list[np.ndarray], sizes: list[int]
    ) -> list[str] | None:
        """The comments to split off ``members``, given the question's other
        themes' centres (``siblings``) and ``sizes``; None when they are one theme."""
        groups: dict[str, list[str]] = {}
        for cid in members:
            groups.setdefault(self._leader[cid], []).append(cid)
        rows = list(groups.values())
        if len(rows) < 2:
            return None
        vectors = np.stack([self._vectors[r[0]] for r in rows])
        weights = np.array([len(r) for r in rows], dtype=float)
        labels = cluster(vectors, weights, self.params)  # numbered by size, largest first
        first, second = labels == 0, labels == 1
        total = weights.sum()
        if weights[second].sum() < max(self.params.min_theme_size, MIN_SHARE * total):
            return None
        oversized = bool(sizes) and total >= OVERSIZE * float(np.median(sizes))
        distinct = False
        if len(siblings) >= 2:
            stacked = np.stack(siblings)
            s = stacked @ stacked.T
            typical = float(np.median(s[np.triu_indices(len(siblings), 1)]))
            apart = centroid(vectors[first], weights[first]) @ centroid(
                vectors[second], weights[second]
            )
            distinct = float(apart) <= typical
        if not (oversized or distinct):
            return None
        return sorted(c for r, lab in zip(rows, labels, strict=True) if lab == 1 for c in r)
