"""Undo of one curation op, as a scoped restore of the engine state.

Before and after every op the worker keeps the engine's whole state (plain
dicts, ``ThemeEngine.to_dict``). ``record`` keeps only what the op changed:
the themes it touched and the comments it moved. ``apply`` puts exactly
those back into the *current* state, so comments that arrived since and
other members' work on other themes survive an undo. If someone (or a
retheme) has changed one of those themes since, the undo is refused rather
than silently throwing their work away.

Inverse ops were the alternative; they would need a "re-create this theme
with this id" op the engine does not have, and one inverse per op to keep
right. The state diff covers every op, retheme included, in one place.
"""

from __future__ import annotations

import copy
from typing import Any

from theming.model import DISCARDED, UNASSIGNED

__all__ = ["UndoConflict", "apply", "record"]


class UndoConflict(Exception):
    def __init__(self, theme_id: str) -> None:
        super().__init__(theme_id)
        self.theme_id = theme_id


def _themes(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in state["themes"]}


def _places(state: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["where"] for c in state["comments"]}


def record(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What an op changed, enough to take it back."""
    tb, ta = _themes(before), _themes(after)
    changed = sorted(tid for tid in tb.keys() | ta.keys() if tb.get(tid) != ta.get(tid))
    pb, pa = _places(before), _places(after)
    hb, ha = set(before["hand_placed"]), set(after["hand_placed"])
    db, da = before["discarded"], after["discarded"]
    return {
        "themes_before": {tid: tb.get(tid) for tid in changed},
        "versions_after": {tid: ta[tid]["version"] if tid in ta else None for tid in changed},
        "moved": {cid: [pb[cid], pa[cid]] for cid in pa if cid in pb and pb[cid] != pa[cid]},
        "hand_placed": {cid: cid in hb for cid in hb ^ ha},
        "discarded": {
            cid: db.get(cid) for cid in db.keys() | da.keys() if db.get(cid) != da.get(cid)
        },
    }


def touched(rec: dict[str, Any]) -> list[str]:
    """The theme ids an op changed."""
    return sorted(rec["themes_before"])


def apply(current: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """The current state with one op taken back; raises UndoConflict if one of
    the op's themes has changed since."""
    state = copy.deepcopy(current)
    themes = _themes(state)
    for tid, version in rec["versions_after"].items():
        now = themes.get(tid)
        if (now["version"] if now else None) != version:
            raise UndoConflict(tid)
    for tid, old in rec["themes_before"].items():
        now = themes.pop(tid, None)
        if old is not None:
            # Versions only grow: a page holding the op's version must see a change.
            base = max(old["version"], now["version"] if now else 0)
            themes[tid] = {**old, "version": base + 1}
    restored: set[str] = set()
    for c in state["comments"]:
        move = rec["moved"].get(c["id"])
        if move is not None and c["where"] == move[1]:
            c["where"] = move[0]
            restored.add(c["id"])
        if c["where"] not in (UNASSIGNED, DISCARDED) and c["where"] not in themes:
            # Arrived since into a theme the op had created and undo removes.
            c["where"] = UNASSIGNED
    unchanged = {c["id"] for c in state["comments"]} - set(rec["moved"])
    hand = set(state["hand_placed"])
    for cid, was in rec["hand_placed"].items():
        if cid in restored or cid in unchanged:
            (hand.add if was else hand.discard)(cid)
    discarded = dict(state["discarded"])
    for cid, reason in rec["discarded"].items():
        if cid in restored or cid in unchanged:
            if reason is None:
                discarded.pop(cid, None)
            else:
                discarded[cid] = reason
    state["themes"] = list(themes.values())
    state["hand_placed"] = sorted(hand)
    state["discarded"] = discarded
    state["revision"] = int(state["revision"]) + 1
    return state
