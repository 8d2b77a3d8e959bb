"""Bookkeeping of one question's theming state, shared by the engine's parts.

Invariant: every comment is in exactly one place — one theme, unassigned,
or discarded. ``_where`` is the single source of truth for that, and theme
member lists are derived from it, so the invariant holds by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, Self

import numpy as np

from theming.arrivals import ArrivalIndex
from theming.cluster import ClusterParams, centroid
from theming.dedupe import DUPLICATE_SIMILARITY, same_text_key
from theming.embed import Embedder
from theming.labels import label_from_central_texts
from theming.model import (
    DISCARDED,
    UNASSIGNED,
    Comment,
    Theme,
    ThemingError,
    UnknownComment,
    UnknownTheme,
)

__all__ = ["ASSIGN_SIMILARITY", "ThemeState"]

# A new comment joins the nearest theme when its cosine to the theme centre
# reaches this: the same bar a retheme applies to members (see ClusterParams;
# swept in bench/theming_tune.py part 2).
ASSIGN_SIMILARITY = ClusterParams().min_member_similarity

STATE_FORMAT = 1


class ThemeState:
    """Comments, themes and where each comment is; no clustering logic."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        params: ClusterParams | None = None,
        assign_similarity: float = ASSIGN_SIMILARITY,
        duplicate_similarity: float = DUPLICATE_SIMILARITY,
    ) -> None:
        self.embedder = embedder
        self.params = params or ClusterParams()
        self.assign_similarity = assign_similarity
        self.duplicate_similarity = duplicate_similarity
        self.comments: dict[str, Comment] = {}
        self.themes: dict[str, Theme] = {}
        self.revision = 0
        self._where: dict[str, str] = {}
        self._leader: dict[str, str] = {}
        self._hand_placed: set[str] = set()
        # Comments the machine put in a locked theme after it was locked: the
        # next re-cluster places them afresh (ThemeEngine.retheme).
        self._joined: set[str] = set()
        self._discard_reason: dict[str, str] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._text_leader: dict[str, str] = {}
        self._next_theme = 1
        # The question the comments answer: labels must not just repeat it.
        self.question: str | None = None
        # Members a theme's label was chosen for (hash), so unchanged themes keep theirs.
        self._label_signature: dict[str, int] = {}
        # How many members a theme had when its label was last chosen afresh.
        self._label_size: dict[str, int] = {}
        # Each locked theme's size when its split offer was last looked at.
        self._split_size: dict[str, int] = {}
        # (question, comment count) when the subject was last found, the subject, its aliases.
        self._subject: tuple[tuple[str | None, int], str | None, tuple[str, ...]] = (
            (None, -1),
            None,
            (),
        )
        # Lookup index for arrivals, valid while the revision is unchanged.
        self._arrivals: ArrivalIndex | None = None
        self._arrivals_revision = -1

    # -- queries ---------------------------------------------------------

    def where(self, comment_id: str) -> str:
        """Theme id, ``UNASSIGNED`` or ``DISCARDED``."""
        self._require_comment(comment_id)
        return self._where[comment_id]

    def members(self, theme_id: str) -> list[str]:
        self._require_theme(theme_id)
        return [cid for cid, place in self._where.items() if place == theme_id]

    def unassigned(self) -> list[str]:
        return [cid for cid, place in self._where.items() if place == UNASSIGNED]

    def discarded(self) -> dict[str, str]:
        return dict(self._discard_reason)

    def duplicates_of(self, comment_id: str) -> list[str]:
        """All ids in the comment's duplicate group (itself included)."""
        leader = self._leader[comment_id]
        return [cid for cid, lead in self._leader.items() if lead == leader]

    def check(self) -> None:
        """Raise if the bookkeeping is inconsistent (used by tests and the server)."""
        if set(self._where) != set(self.comments):
            raise ThemingError("placement and comments disagree")
        for cid, place in self._where.items():
            if place not in (UNASSIGNED, DISCARDED) and place not in self.themes:
                raise ThemingError(f"comment {cid!r} is in missing theme {place!r}")
            if (place == DISCARDED) != (cid in self._discard_reason):
                raise ThemingError(f"comment {cid!r} discard record out of sync")

    def _centroids(self, member_sets: Iterable[set[str]]) -> np.ndarray:
        rows = [
            centroid(np.stack([self._vectors[c] for c in sorted(members)]))
            if members
            else np.zeros(self.embedder.dim, dtype=np.float32)
            for members in member_sets
        ]
        return np.stack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)

    def _central_texts(self, members: Iterable[str]) -> list[str]:
        """Member texts, most central (closest to the theme centre) first, a
        comment typed again (the same words, or a near-duplicate) once: at a
        meeting whose tables type the same points the 8 most central were
        seven copies of one comment, and the label had one comment to draw on."""
        ids = sorted(members)
        matrix = np.stack([self._vectors[c] for c in ids])
        order = np.argsort(-(matrix @ centroid(matrix)), kind="stable")
        texts: dict[str, str] = {}
        for i in order:
            cid = ids[int(i)]
            texts.setdefault(self._leader[cid], self.comments[cid].text)
        return list(texts.values())

    def _new_theme(self, members: Iterable[str], label: str | None = None) -> Theme:
        label = label or label_from_central_texts(self._central_texts(members))
        theme = Theme(id=f"t{self._next_theme}", label=label)
        self._next_theme += 1
        self.themes[theme.id] = theme
        return theme

    def _require_comment(self, comment_id: str) -> None:
        if comment_id not in self.comments:
            raise UnknownComment(comment_id)

    def _require_theme(self, theme_id: str) -> None:
        if theme_id not in self.themes:
            raise UnknownTheme(theme_id)

    # -- serialisation ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able state; vectors are left out (the cache has them)."""
        return {
            "format": STATE_FORMAT,
            "revision": self.revision,
            "next_theme": self._next_theme,
            "question": self.question,
            "params": asdict(self.params),
            "assign_similarity": self.assign_similarity,
            "duplicate_similarity": self.duplicate_similarity,
            "comments": [
                {**c.to_dict(), "where": self._where[c.id], "leader": self._leader[c.id]}
                for c in self.comments.values()
            ],
            "themes": [t.to_dict() for t in self.themes.values()],
            "hand_placed": sorted(self._hand_placed),
            "joined": sorted(self._joined),
            "discarded": dict(self._discard_reason),
            # Kept so a restarted server does not choose every label afresh.
            "label_size": {t: n for t, n in self._label_size.items() if t in self.themes},
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], embedder: Embedder, vectors: np.ndarray | None = None
    ) -> Self:
        """Rebuild an engine; vectors are re-computed through ``embedder``
        (a ``CachedEmbedder`` makes that a lookup) unless given in comment order."""
        if data.get("format") != STATE_FORMAT:
            raise ThemingError(f"unsupported theming state format {data.get('format')!r}")
        engine = cls(
            embedder,
            params=ClusterParams(**data["params"]),
            assign_similarity=float(data["assign_similarity"]),
            duplicate_similarity=float(data["duplicate_similarity"]),
        )
        engine.revision = int(data["revision"])
        engine._next_theme = int(data["next_theme"])
        engine.question = data.get("question")
        for theme_data in data["themes"]:
            theme = Theme.from_dict(theme_data)
            engine.themes[theme.id] = theme
        rows = data["comments"]
        if vectors is None:
            vectors = embedder.encode([str(r["text"]) for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            comment = Comment.from_dict(row)
            engine.comments[comment.id] = comment
            engine._vectors[comment.id] = np.asarray(vector, dtype=np.float32)
            engine._where[comment.id] = str(row["where"])
            engine._leader[comment.id] = str(row["leader"])
            if engine._leader[comment.id] == comment.id:
                engine._text_leader.setdefault(same_text_key(comment.text), comment.id)
        engine._hand_placed = {str(c) for c in data["hand_placed"]}
        engine._joined = {str(c) for c in data.get("joined", ())}  # absent before 2026-12
        engine._discard_reason = {str(k): str(v) for k, v in data["discarded"].items()}
        engine._label_size = {str(k): int(v) for k, v in data.get("label_size", {}).items()}
        engine.check()
        return engine
