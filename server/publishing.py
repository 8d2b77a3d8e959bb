"""From curated themes to the room: publish a theme set to the big screens,
and turn a published set into a poll in one step.

What was published is stored in the curation log (labels, members and
quotes as shown), so the record says what the room saw even after the
themes are curated further.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from sqlmodel import col, func, select

from server import protocol as p
from server import views
from server.curation_conflicts import changed_since_seen
from server.errors import InvalidMessage, NotFound
from server.meeting import Meeting
from server.models import CurationLog, Poll, PollOption, Question, Theme
from server.tokens import Principal
from server.writes import Outcome

if TYPE_CHECKING:
    from server.theming_worker import ThemingWorker


async def publish(
    meeting: Meeting, worker: ThemingWorker, who: Principal, msg: p.PublishMsg, by: str
) -> Outcome:
    """Mark exactly ``msg.themes`` (key -> version seen) as the question's
    published set; a theme changed since it was seen is refused."""
    lock = meeting.write_lock or contextlib.nullcontext()
    # The question lock keeps a theme sync from changing versions mid-check.
    async with worker.locks[msg.question_id], lock, meeting.db.session() as s:
        rows = (await s.exec(select(Theme).where(Theme.question_id == msg.question_id))).all()
        by_key = {t.key: t for t in rows}
        for key, version in msg.themes.items():
            row = by_key.get(key)
            if row is None:
                raise NotFound(f"theme {key} no longer exists; the themes have been reloaded")
            if row.version != version:
                raise await changed_since_seen(
                    s, who.event_id, msg.question_id, key, row.version
                )
        for row in rows:
            row.published = row.key in msg.themes
            s.add(row)
        await s.flush()
        shown = [
            {k: t[k] for k in ("key", "label", "size", "members", "quotes", "version")}
            for t in await views.themes_view(s, who.event_id, published_only=True)
            if t["question_id"] == msg.question_id
        ]
        ack = {"published": len(shown)}
        log = CurationLog(
            event_id=who.event_id,
            question_id=msg.question_id,
            actor=by,
            action="publish",
            before="{}",
            after=json.dumps({"op_id": msg.id, "ack": ack, "themes": shown}),
        )
        s.add(log)
        await s.commit()
        everything = await views.themes_view(s, who.event_id, published_only=True)
    team_view = await worker.placement(who.event_id, msg.question_id)
    return Outcome(
        ack={**ack, "log_id": log.id},
        events=[
            # Displays get every published theme, the same list a reconnecting screen gets.
            (f"published:{who.event_id}", {"type": "published", "themes": everything}),
            (f"themes:{who.event_id}", team_view),
        ],
    )


async def poll_from_themes(meeting: Meeting, who: Principal, msg: p.PollFromThemesMsg) -> Outcome:
    """A draft poll whose options are the question's published themes."""
    key = f"themes-{msg.id}"  # the op id makes a resend find its poll
    lock = meeting.write_lock or contextlib.nullcontext()
    async with lock, meeting.db.session() as s:
        existing = (
            await s.exec(select(Poll).where(Poll.event_id == who.event_id, Poll.key == key))
        ).first()
        if existing is not None:
            return Outcome(ack={"poll_id": existing.id})
        q = await s.get(Question, msg.question_id)
        if q is None or q.event_id != who.event_id:
            raise NotFound(f"question {msg.question_id} is not part of this event")
        themes = (
            await s.exec(
                select(Theme)
                .where(Theme.question_id == q.id, Theme.published == True)  # noqa: E712
                .order_by(col(Theme.id))
            )
        ).all()
        if len(themes) < 2:
            raise NotFound("publish at least two themes for this question first")
        poll = Poll(
            event_id=who.event_id,
            key=key,
            round_id=q.round_id,
            kind=msg.kind,
            prompt=msg.prompt or _prompt(msg, len(themes)),
            max_choices=_max_choices(msg, len(themes)),
            position=int(
                (
                    await s.exec(
                        select(func.max(Poll.position)).where(Poll.event_id == who.event_id)
                    )
                ).one()
                or 0
            )
            + 1,
        )
        s.add(poll)
        await s.flush()
        assert poll.id is not None
        for i, t in enumerate(themes):
            s.add(PollOption(poll_id=poll.id, position=i, key=t.key, label=t.label))
        s.add(
            CurationLog(
                event_id=who.event_id,
                question_id=q.id,
                actor=who.label or who.role,
                action="poll_from_themes",
                after=json.dumps(
                    {"op_id": msg.id, "poll_id": poll.id, "options": [t.key for t in themes]}
                ),
            )
        )
        await s.commit()
    return Outcome(
        ack={"poll_id": poll.id},
        events=[(f"event:{who.event_id}", {"type": "poll_changed", "poll_id": poll.id})],
    )


def _max_choices(msg: p.PollFromThemesMsg, options: int) -> int | None:
    if msg.kind != "multi":
        return None
    chosen = msg.max_choices or min(3, options)
    if chosen > options:
        raise InvalidMessage(f"max_choices is {chosen} but there are only {options} themes")
    return chosen


def _prompt(msg: p.PollFromThemesMsg, options: int) -> str:
    if msg.kind == "ranking":
        return "Rank these themes from the tables, most important first."
    return f"Which of these themes matter most to you? Pick up to {_max_choices(msg, options)}."


def log_summary(row: CurationLog) -> dict[str, Any]:
    """One log row as the trace view shows it."""
    return {
        "id": row.id,
        "actor": row.actor,
        "action": row.action,
        "theme_key": row.theme_key,
        "before": json.loads(row.before),
        "after": json.loads(row.after),
        "at": views.iso(row.at),
    }
