"""Curation-log rows told as sentences for the traceability page.

A row's before/after is the engine's own record (theme views, moved comment
ids); the page shows what a citizen can follow — "Ana merged “Parks” into this
theme" — and keeps the record itself one click away.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from server.storage.models import CurationLog
from server.themes.conflicts import member

NOT_IN_A_THEME = ("_unassigned", "unassigned")
FOLD_AT = 3  # re-clusters in a row that gave back comments, told as one step


def _label(views: Any, key: str) -> str | None:
    """The label of theme ``key`` in a logged view or list of views."""
    for v in views if isinstance(views, list) else [views]:
        if isinstance(v, dict) and v.get("id") == key and "label" in v:
            return str(v["label"])
    return None


def _quoted(views: list[dict[str, Any]]) -> str:
    return ", ".join(f"“{v.get('label', v.get('id'))}”" for v in views)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _moved(before: dict[str, Any], after: dict[str, Any], key: str, n: int) -> str:
    steps = after.get("steps") or [after]
    views = [v for s in [before, *(before.get("steps") or []), *steps] for v in s.get("themes", [])]
    what = _count(n, "comment", "comments")
    if after.get("to") == key:
        source = before.get("from")
        if source in NOT_IN_A_THEME or source is None:
            return f"moved {what} into this theme from those not in a theme yet"
        return f"moved {what} into this theme from “{_label(views, source) or source}”"
    to = after.get("to")
    if to in NOT_IN_A_THEME:
        return f"moved {what} out of this theme, to those not in a theme yet"
    return f"moved {what} out of this theme into “{_label(views, str(to)) or to}”"


def sentence(row: CurationLog, key: str) -> str:
    """What the step did, seen from theme ``key``, without the member's name."""
    before = json.loads(row.before) or {}
    full = json.loads(row.after) or {}
    after = full.get("after") or {}
    n = len(full.get("comments") or []) or 1
    action = row.action
    if action == "rename":
        return f"renamed “{before.get('label')}” to “{after.get('label')}”"
    if action == "merge":
        sources = [v for v in before if v.get("id") != row.theme_key]
        if row.theme_key == key:
            return f"merged {_quoted(sources)} into this theme"
        return f"merged this theme into “{after.get('label', row.theme_key)}”"
    if action == "split":
        new_key = str(full.get("new_theme"))
        moved = _count(len(full.get("moved") or []), "comment", "comments")
        if key == new_key:
            return f"split these {moved} off “{before.get('label')}”"
        return f"split {moved} off into a new theme “{_label(after, new_key) or new_key}”"
    if action == "move":
        return _moved(before, after, key, n)
    if action == "discard":
        return f"discarded {_count(n, 'comment', 'comments')}, saying “{after.get('reason')}”"
    if action == "restore":
        return "restored a discarded comment (it waits for a theme)"
    if action == "pin_quote":
        return "pinned a comment as this theme's first quote"
    if action == "undo":
        return f"undid their own step ({before.get('action', 'a step')})"
    if action == "retheme":
        return "re-themed the question (the machine regrouped unplaced comments)"
    if action == "publish":
        shown = _count(len(full.get("themes") or []), "theme", "themes")
        return f"published {shown} to the screens, this one among them"
    if action == "poll_from_themes":
        return "made a poll from the published themes"
    if action == "recluster":
        into, into_label = full.get("into"), full.get("into_label")
        if full.get("released"):
            return _released(full["released"], before.get("label"), into_label or into, key, row)
        if key != row.theme_key:
            return f"folded “{before.get('label')}” into this theme"
        if into is None:
            return "retired this theme: its comments went back to those not in a theme yet"
        return f"retired this theme: most of its comments went to “{into_label or into}”"
    return action.replace("_", " ")


def _released(n: int, label: Any, into: Any, key: str, row: CurationLog) -> str:
    """A held theme giving back what the machine had added to it, from either side."""
    if key != row.theme_key:
        return _took(n, f"“{label}”")
    return _gave_back(n, into)


def _gave_back(n: int, into: Any, span: str = "") -> str:
    """``n`` comments given back by a held theme (over ``span``), most ``into``."""
    where = f"to “{into}”" if into else "back to those not in a theme yet"
    gave = _count(n, "comment", "comments")
    most = "it" if n == 1 else "most"
    since = "the machine had added after the team's last step"
    return f"gave back {gave} {since}{span}: {most} went {where}"


def _took(n: int, named: str, span: str = "") -> str:
    """Most of ``n`` comments the held themes ``named`` gave back (over ``span``)."""
    some = "a comment" if n == 1 else f"most of {n} comments"
    return f"took {some} the machine had added to {named}{span}"


def step_view(row: CurationLog, key: str, at: str | None) -> dict[str, Any]:
    """One step as the trace page shows it: when, who, what, and the record itself."""
    before = json.loads(row.before)
    after = json.loads(row.after)
    after.pop("op_id", None)
    after.pop("ack", None)
    released = after.get("released") if row.action == "recluster" else None
    return {
        "released": released
        and {
            "side": "gave" if key == row.theme_key else "took",
            "n": int(released),
            "into": after.get("into_label") or after.get("into"),
            "from": (before or {}).get("label"),
        },
        "id": row.id,
        "at": at,
        "who": member(row.actor),
        "actor": row.actor,
        "action": row.action,
        "text": sentence(row, key),
        "record": json.dumps({"before": before, "after": after}, ensure_ascii=False, indent=1)[
            :4000
        ],
    }


def fold_runs(steps: list[dict[str, Any]], least: int = FOLD_AT) -> list[dict[str, Any]]:
    """``steps`` (``step_view``s, in order) with each run of ``least`` or more
    machine re-clusters in a row that gave back (or took) comments a held theme
    had been given, told as one step; the run's own steps are kept inside it
    (``steps``), each with its record. A long question re-clusters every few
    seconds: without this a held theme's story is a page of "gave back 1 comment"."""
    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []

    def close() -> None:
        if len(run) >= least:
            out.append(_folded(run))
        else:
            out.extend(run)
        run.clear()

    for step in steps:
        side = step["released"] and step["released"]["side"]
        if run and side != run[0]["released"]["side"]:
            close()
        if side:
            run.append(step)
        else:
            out.append(step)
    close()
    return out


def _folded(run: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(s["released"]["n"] for s in run)
    times = f"{len(run)} re-clusters"
    if run[0]["at"] and run[-1]["at"]:
        first, last = run[0]["at"][11:16], run[-1]["at"][11:16]
        times += f", {first}" if first == last else f", {first}–{last}"
    if run[0]["released"]["side"] == "took":
        sources = list(dict.fromkeys(str(s["released"]["from"]) for s in run))
        named = ", ".join(f"“{x}”" for x in sources[:3])
        if len(sources) > 3:
            named += f" and {len(sources) - 3} more"
        text = _took(total, named, f" ({times})")
    else:
        went: Counter[str | None] = Counter()
        for s in run:
            went[s["released"]["into"]] += s["released"]["n"]
        text = _gave_back(total, went.most_common(1)[0][0], f" ({times})")
    return {**run[0], "text": text, "record": None, "steps": list(run)}
