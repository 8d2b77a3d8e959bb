"""Read-outs of the engine state: what the workbench and screens show.

Keywords and quotes are computed here on demand rather than kept up to date
on every arrival, because c-TF-IDF over the whole question costs far more
than placing one comment; the server asks for a snapshot after a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theming.cluster import centroid
from theming.labels import Quote, choose_quotes, keywords_per_theme
from theming.model import DISCARDED, UNASSIGNED
from theming.state import ThemeState

__all__ = ["SnapshotMixin"]


class SnapshotMixin(ThemeState):
    def _items(self, member_ids: list[str]) -> list[dict[str, Any]]:
        """Members grouped into duplicate items, biggest first."""
        groups: dict[str, list[str]] = {}
        for cid in member_ids:
            groups.setdefault(self._leader[cid], []).append(cid)
        ordered = sorted(groups.values(), key=len, reverse=True)
        return [
            {"id": ids[0], "text": self.comments[ids[0]].text, "count": len(ids), "ids": ids}
            for ids in ordered
        ]

    def _quotes(self, theme_id: str, member_ids: list[str], count: int) -> list[Quote]:
        leaders = list(dict.fromkeys(self._leader[c] for c in member_ids))
        # A duplicate group is quoted through its first member in this theme.
        first_in_theme = {self._leader[c]: c for c in reversed(member_ids)}
        ids = [first_in_theme[lead] for lead in leaders]
        matrix = np.stack([self._vectors[c] for c in ids])
        sims = matrix @ centroid(np.stack([self._vectors[c] for c in member_ids]))
        candidates = [Quote(c, self.comments[c].text, self.comments[c].table) for c in ids]
        pinned = [
            Quote(c, self.comments[c].text, self.comments[c].table)
            for c in self.themes[theme_id].pinned_quotes
            if self._where.get(c) == theme_id
        ]
        return choose_quotes(candidates, sims, count=count, pinned=pinned)

    def _split_view(self, offer: list[str] | None) -> dict[str, Any] | None:
        """A split offer as the team sees it: the comments and the most central of them."""
        if not offer:
            return None
        return {"comments": list(offer), "example": self._central_texts(offer)[0]}

    def snapshot(self, *, quotes: int = 3, keywords: int = 5) -> dict[str, Any]:
        """Everything about the question's themes as plain data, biggest theme first."""
        members = {tid: self.members(tid) for tid in self.themes}
        order = sorted(self.themes, key=lambda tid: (-len(members[tid]), tid))
        unassigned = [c for c, place in self._where.items() if place == UNASSIGNED]
        words = keywords_per_theme(
            [[self.comments[c].text for c in members[tid]] for tid in order],
            background=[self.comments[c].text for c in unassigned],
            top=keywords,
        )
        themes = []
        for tid, top_words in zip(order, words, strict=True):
            theme = self.themes[tid]
            ids = members[tid]
            tables = sorted({t for c in ids if (t := self.comments[c].table) is not None})
            themes.append(
                {
                    "id": tid,
                    "label": theme.label,
                    "label_by_team": theme.label_by_team,
                    "suggested_label": theme.suggested_label,
                    "locked": theme.locked,
                    "version": theme.version,
                    "size": len(ids),
                    "members": ids,
                    "items": self._items(ids),
                    "tables": tables,
                    "keywords": top_words,
                    "quotes": [
                        {"comment_id": q.comment_id, "text": q.text, "table": q.table}
                        for q in (self._quotes(tid, ids, quotes) if ids else [])
                    ],
                    "pinned_quotes": list(theme.pinned_quotes),
                    "split_offer": self._split_view(theme.split_offer),
                }
            )
        return {
            "revision": self.revision,
            "themes": themes,
            "unassigned": unassigned,
            "discarded": [
                {"id": c, "reason": self._discard_reason[c]}
                for c, place in self._where.items()
                if place == DISCARDED
            ],
            "counts": {
                "comments": len(self.comments),
                "in_themes": sum(len(m) for m in members.values()),
                "unassigned": len(unassigned),
                "discarded": len(self._discard_reason),
            },
        }
