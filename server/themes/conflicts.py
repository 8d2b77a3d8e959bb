"""A curation conflict told in one line: who changed the theme, and how.

Two members curate the same question; when one acts on a theme the other has
changed since their page last saw it, the refusal names the theme, the member
and the step ("Ben renamed “Buses” since you last saw it…"), found in the
curation log, so nobody has to guess why their step did not happen.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core.errors import Conflict
from server.storage.models import CurationLog, Theme

CHANGED = (
    "{who} {did} “{label}” since you last saw it; it has been reloaded — check it and try again"
)
CHANGED_UNKNOWN = (
    "“{label}” changed since you last saw it (another member's step or a re-theme); "
    "it has been reloaded — check it and try again"
)
UNDO_BLOCKED = "{who} {did} “{label}” after your step, so it cannot be undone; change it by hand"
UNDO_BLOCKED_UNKNOWN = (
    "“{label}” changed after your step (another member's step or a re-theme), "
    "so it cannot be undone; change it by hand"
)

# What a logged step did to the theme, as a member would say it.
DID = {
    "rename": "renamed",
    "merge": "merged another theme into",
    "split": "split",
    "move": "moved comments in or out of",
    "discard": "discarded a comment from",
    "pin_quote": "pinned a quote in",
    "undo": "undid a step on",
    "retheme": "re-themed the question, changing",
    "restore": "restored a comment near",
    "recluster": "re-clustered the question, changing",
}
LOOK_BACK = 200  # log rows of the question searched, newest first


def member(actor: str) -> str:
    """The name typed on the page ("theme team · Ben" → "Ben"), else the link's label."""
    name = actor.rsplit(" · ", 1)[-1].strip()
    return name or "Another member"


def _views(value: Any, key: str) -> list[dict[str, Any]]:
    """Every view of the theme ``key`` (id, label, version…) inside a logged before/after."""
    if isinstance(value, dict):
        own = [value] if value.get("id") == key else []
        return own + [v for item in value.values() for v in _views(item, key)]
    if isinstance(value, list):
        return [v for item in value for v in _views(item, key)]
    return []


def mentions(row: CurationLog, key: str) -> bool:
    """Whether a log row is about theme ``key``: filed under it, or naming it inside
    its before/after (merge sources, split-offs, moves, publishes)."""
    quoted = f'"{key}"'
    return row.theme_key == key or quoted in row.before or quoted in row.after


async def _recent(s: AsyncSession, event_id: int, question_id: int) -> list[CurationLog]:
    return list(
        (
            await s.exec(
                select(CurationLog)
                .where(CurationLog.event_id == event_id, CurationLog.question_id == question_id)
                .order_by(col(CurationLog.id).desc())
                .limit(LOOK_BACK)
            )
        ).all()
    )


async def _label(s: AsyncSession, question_id: int, key: str) -> str:
    row = (
        await s.exec(select(Theme).where(Theme.question_id == question_id, Theme.key == key))
    ).first()
    return row.label if row is not None else key


def _said(template: str, unknown: str, row: CurationLog | None, key: str, label: str) -> Conflict:
    if row is None:
        return Conflict(unknown, label=label)
    # The label as it was before that step: the one the member last saw, most likely.
    seen = next((v["label"] for v in _views(json.loads(row.before), key) if "label" in v), label)
    did = DID.get(row.action, "changed")
    return Conflict(template, who=member(row.actor), did=did, label=seen)


async def changed_since_seen(
    s: AsyncSession, event_id: int, question_id: int, key: str, version: int
) -> Conflict:
    """The refusal for a step on theme ``key`` seen at an older version than
    ``version``, its version now: names the logged step that made it."""
    rows = await _recent(s, event_id, question_id)
    culprit = next(
        (
            r
            for r in rows
            if mentions(r, key)
            and any(v.get("version") == version for v in _views(json.loads(r.after), key))
        ),
        None,
    )
    return _said(CHANGED, CHANGED_UNKNOWN, culprit, key, await _label(s, question_id, key))


async def changed_after_step(
    s: AsyncSession, event_id: int, question_id: int, key: str, step_log_id: int
) -> Conflict:
    """The refusal of an undo: the newest logged step on ``key`` after the one undone."""
    rows = await _recent(s, event_id, question_id)
    culprit = next(
        (r for r in rows if r.id is not None and r.id > step_log_id and mentions(r, key)),
        None,
    )
    label = await _label(s, question_id, key)
    return _said(UNDO_BLOCKED, UNDO_BLOCKED_UNKNOWN, culprit, key, label)
