"""Plain records of the theming state and the errors the engine raises.

Everything here converts to and from JSON-able dicts, because the server
stores the engine state as a document and the workbench shows it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DISCARDED",
    "UNASSIGNED",
    "Comment",
    "CurationError",
    "Theme",
    "ThemingError",
    "UnknownComment",
    "UnknownTheme",
    "VersionConflict",
]

# Placement of a comment that is in no theme. Theme ids start with "t", so
# these can never collide with one.
UNASSIGNED = "_unassigned"
DISCARDED = "_discarded"


class ThemingError(Exception):
    """Base of every error the theming library raises on purpose."""


class UnknownTheme(ThemingError, KeyError):
    def __init__(self, theme_id: str) -> None:
        super().__init__(f"no theme with id {theme_id!r}")
        self.theme_id = theme_id

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class UnknownComment(ThemingError, KeyError):
    def __init__(self, comment_id: str) -> None:
        super().__init__(f"no comment with id {comment_id!r}")
        self.comment_id = comment_id

    def __str__(self) -> str:
        return str(self.args[0])


class CurationError(ThemingError, ValueError):
    """A curation request that cannot be applied as asked."""


class VersionConflict(ThemingError):
    """Someone changed the theme since the caller last saw it.

    The workbench should reload the theme and let the person retry.
    """

    def __init__(self, theme_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"theme {theme_id!r} is at version {actual}, not {expected}: "
            "it was changed by someone else; reload and retry"
        )
        self.theme_id = theme_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Comment:
    """One comment as typed at a table."""

    id: str
    text: str
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "table": self.table}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comment:
        table = data.get("table")
        return cls(str(data["id"]), str(data["text"]), None if table is None else str(table))


@dataclass
class Theme:
    """A theme's identity and curation marks; its members live in the engine.

    ``locked`` is set by any curation touching the theme: a retheme may then
    only add comments nobody placed, never rename it or take away a member it
    had when a person last acted on it (those the machine added since are
    placed afresh: ``ThemeEngine.retheme``).
    ``version`` grows on every change of membership made by a person or a
    retheme (not by comments merely arriving) and every change of label
    (the machine's relabels too: a team publishes the labels it saw), for optimistic
    concurrency between theme-team laptops. ``suggested_label``: for a theme
    whose label is held (published), the label its members would get now,
    when that differs; the team may take it, nothing applies it for them.
    """

    id: str
    label: str
    label_by_team: bool = False
    locked: bool = False
    version: int = 1
    pinned_quotes: list[str] = field(default_factory=list)
    suggested_label: str | None = None
    split_offer: list[str] | None = None  # comments a split would take out (theming.splits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "label_by_team": self.label_by_team,
            "locked": self.locked,
            "version": self.version,
            "pinned_quotes": list(self.pinned_quotes),
            "suggested_label": self.suggested_label,
            "split_offer": self.split_offer,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Theme:
        return cls(
            id=str(data["id"]),
            label=str(data["label"]),
            label_by_team=bool(data.get("label_by_team", False)),
            locked=bool(data.get("locked", False)),
            version=int(data.get("version", 1)),
            pinned_quotes=[str(c) for c in data.get("pinned_quotes", [])],
            suggested_label=data.get("suggested_label"),
            split_offer=[str(c) for c in offer] if (offer := data.get("split_offer")) else None,
        )
