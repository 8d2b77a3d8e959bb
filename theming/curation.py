"""What the theme team does by hand, and how it is protected from retheme.

Every operation locks the themes it lands on (a retheme may then only add
comments nobody placed), bumps their version, and returns a before/after
summary the server writes to the curation log. Near-duplicates move as one:
the workbench shows them as one item, so acting on one acts on its group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from theming.cluster import split_in_two
from theming.model import DISCARDED, UNASSIGNED, CurationError, VersionConflict
from theming.state import ThemeState

__all__ = ["MAX_PINNED_QUOTES", "CurationMixin"]

MAX_PINNED_QUOTES = 3


class CurationMixin(ThemeState):
    # -- helpers ---------------------------------------------------------

    def _check_versions(self, expected: Mapping[str, int | None]) -> None:
        for theme_id, version in expected.items():
            self._require_theme(theme_id)
            actual = self.themes[theme_id].version
            if version is not None and version != actual:
                raise VersionConflict(theme_id, version, actual)

    def _view(self, theme_id: str) -> dict[str, Any]:
        theme = self.themes[theme_id]
        return {
            "id": theme_id,
            "label": theme.label,
            "size": len(self.members(theme_id)),
            "version": theme.version,
            "locked": theme.locked,
        }

    def _touch(self, theme_id: str, lock: bool = True) -> None:
        theme = self.themes[theme_id]
        theme.version += 1
        theme.locked = theme.locked or lock
        # A person acted on it: what the machine added since it was locked is its own now.
        self._joined.difference_update(self.members(theme_id))
        theme.split_offer = None  # looked at again on the next refresh
        self._split_size.pop(theme_id, None)

    def _done(self, op: str, before: Any, after: Any, **extra: Any) -> dict[str, Any]:
        self.revision += 1
        return {"op": op, "revision": self.revision, "before": before, "after": after, **extra}

    def _group_ids(self, comment_id: str) -> list[str]:
        """The comment and its duplicates that sit in the same place."""
        self._require_comment(comment_id)
        place = self._where[comment_id]
        return [c for c in self.duplicates_of(comment_id) if self._where[c] == place]

    def _unpin(self, comment_ids: Sequence[str]) -> None:
        gone = set(comment_ids)
        for theme in self.themes.values():
            theme.pinned_quotes = [c for c in theme.pinned_quotes if c not in gone]

    # -- operations ------------------------------------------------------

    def rename(
        self, theme_id: str, label: str, *, expected_version: int | None = None
    ) -> dict[str, Any]:
        label = " ".join(label.split())
        if not label:
            raise CurationError("a theme label cannot be empty")
        self._check_versions({theme_id: expected_version})
        before = self._view(theme_id)
        theme = self.themes[theme_id]
        # The machine's own offer, taken: still the machine's label, offered
        # anew when the members change (a typed one never is).
        theme.label_by_team = label != theme.suggested_label
        theme.label = label
        theme.suggested_label = None
        self._touch(theme_id)
        return self._done("rename", before, self._view(theme_id))

    def merge(
        self,
        source_ids: Sequence[str],
        target_id: str,
        *,
        label: str | None = None,
        expected_versions: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Fold the source themes into the target; the sources disappear."""
        sources = list(dict.fromkeys(source_ids))
        if not sources or target_id in sources:
            raise CurationError("merge needs source themes other than the target")
        self._check_versions({tid: None for tid in [*sources, target_id]})
        self._check_versions(dict(expected_versions or {}))
        before = [self._view(tid) for tid in [*sources, target_id]]
        moved: list[str] = []
        for cid, place in self._where.items():
            if place in sources:
                self._where[cid] = target_id
                moved.append(cid)
        target = self.themes[target_id]
        for tid in sources:
            for quote in self.themes[tid].pinned_quotes:
                if len(target.pinned_quotes) < MAX_PINNED_QUOTES:
                    target.pinned_quotes.append(quote)
            del self.themes[tid]
        if label:
            target.label = " ".join(label.split())
            target.label_by_team = True
        self._touch(target_id)
        # Put together on purpose: no offer to part them until the theme grows.
        self._split_size[target_id] = len(self.members(target_id))
        return self._done("merge", before, self._view(target_id), moved=moved)

    def split(
        self,
        theme_id: str,
        comment_ids: Sequence[str] | None = None,
        *,
        label: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Move ``comment_ids`` (or, if None, the more distinct half found by
        sub-clustering) out of the theme into a new theme."""
        self._check_versions({theme_id: expected_version})
        members = self.members(theme_id)
        if comment_ids is None:
            leaving = self._auto_split(members)
        else:
            for cid in comment_ids:
                if self.where(cid) != theme_id:
                    raise CurationError(f"comment {cid!r} is not in theme {theme_id!r}")
            leaving = {g for cid in comment_ids for g in self._group_ids(cid)}
        if not leaving or len(leaving) >= len(members):
            raise CurationError("a split must leave comments on both sides")
        before = self._view(theme_id)
        new_theme = self._new_theme(leaving, label=label)
        if label:
            new_theme.label_by_team = True
        new_theme.locked = True
        for cid in leaving:
            self._where[cid] = new_theme.id
        self._joined.difference_update(leaving)
        old = self.themes[theme_id]
        new_theme.pinned_quotes = [c for c in old.pinned_quotes if c in leaving]
        old.pinned_quotes = [c for c in old.pinned_quotes if c not in leaving]
        self._touch(theme_id)
        after = [self._view(theme_id), self._view(new_theme.id)]
        return self._done("split", before, after, moved=sorted(leaving), new_theme=new_theme.id)

    def _auto_split(self, members: list[str]) -> set[str]:
        groups: dict[str, list[str]] = {}
        for cid in members:
            groups.setdefault(self._leader[cid], []).append(cid)
        rows = list(groups.values())
        if len(rows) < 2:
            raise CurationError("a theme needs two different comments to be split")
        labels = split_in_two(np.stack([self._vectors[r[0]] for r in rows]))
        pairs = list(zip(rows, labels, strict=True))
        sizes = [sum(len(r) for r, lab in pairs if lab == k) for k in (0, 1)]
        # The larger half keeps the theme's id, so the screens keep showing it.
        leaving_label = 0 if sizes[0] < sizes[1] else 1
        return {c for r, lab in pairs if lab == leaving_label for c in r}

    def move(
        self,
        comment_id: str,
        to_theme: str | None,
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Put a comment (with its duplicates) in a theme, or in unassigned
        when ``to_theme`` is None. It stays there through every retheme."""
        destination = UNASSIGNED if to_theme is None else to_theme
        if to_theme is not None:
            self._check_versions({to_theme: expected_version})
        group = self._group_ids(comment_id)
        source = self._where[comment_id]
        if source == DISCARDED:
            raise CurationError(f"comment {comment_id!r} is discarded; restore it first")
        before = {
            "from": source,
            "themes": [self._view(t) for t in {source, destination} if t in self.themes],
        }
        for cid in group:
            self._where[cid] = destination
            self._hand_placed.add(cid)
        if source != destination:
            self._unpin(group)
            if source in self.themes:
                self._touch(source, lock=False)
        if to_theme is not None:
            self._touch(to_theme)
        after = {
            "to": destination,
            "themes": [self._view(t) for t in {source, destination} if t in self.themes],
        }
        return self._done("move", before, after, comments=group)

    def discard(
        self, comment_id: str, reason: str, *, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Take a comment (with its duplicates) out of the themes, keeping it
        and the reason on record."""
        reason = " ".join(reason.split())
        if not reason:
            raise CurationError("say why a comment is discarded")
        group = self._group_ids(comment_id)
        source = self._where[comment_id]
        if source == DISCARDED:
            raise CurationError(f"comment {comment_id!r} is already discarded")
        if source in self.themes:
            self._check_versions({source: expected_version})
        before = {"from": source, "theme": self._view(source) if source in self.themes else None}
        for cid in group:
            self._where[cid] = DISCARDED
            self._discard_reason[cid] = reason
            self._hand_placed.discard(cid)
        self._unpin(group)
        if source in self.themes:
            self._touch(source, lock=False)
        after = {
            "to": DISCARDED,
            "reason": reason,
            "theme": self._view(source) if source in self.themes else None,
        }
        return self._done("discard", before, after, comments=group)

    def restore(self, comment_id: str) -> dict[str, Any]:
        """Undo a discard: the comment waits in unassigned for the next retheme."""
        self._require_comment(comment_id)
        if self._where[comment_id] != DISCARDED:
            raise CurationError(f"comment {comment_id!r} is not discarded")
        group = [c for c in self.duplicates_of(comment_id) if self._where[c] == DISCARDED]
        reason = self._discard_reason[comment_id]
        for cid in group:
            self._where[cid] = UNASSIGNED
            del self._discard_reason[cid]
        return self._done("restore", {"reason": reason}, {"to": UNASSIGNED}, comments=group)

    def pin_quote(
        self, theme_id: str, comment_id: str, *, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Show this comment first among the theme's quotes (at most three pinned;
        pinning a fourth drops the oldest pin)."""
        self._check_versions({theme_id: expected_version})
        if self.where(comment_id) != theme_id:
            raise CurationError(f"comment {comment_id!r} is not in theme {theme_id!r}")
        before = {**self._view(theme_id), "pinned": list(self.themes[theme_id].pinned_quotes)}
        theme = self.themes[theme_id]
        pins = [c for c in theme.pinned_quotes if c != comment_id]
        theme.pinned_quotes = [comment_id, *pins][:MAX_PINNED_QUOTES]
        self._touch(theme_id)
        after = {**self._view(theme_id), "pinned": list(theme.pinned_quotes)}
        return self._done("pin_quote", before, after)
