"""From published themes to a poll in one step: the producer's ``poll_from_themes``
makes a draft poll whose options are a question's published themes."""

from __future__ import annotations

import json

from sqlmodel import col, func, select

from server.core.errors import N_, InvalidMessage, NotFound
from server.protocol import messages as p
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.models import CurationLog, Poll, PollOption, Question, Theme
from server.storage.tokens import Principal


async def poll_from_themes(db: Database, who: Principal, msg: p.PollFromThemesMsg) -> Outcome:
    """A draft poll whose options are the question's published themes."""
    key = f"themes-{msg.id}"  # the op id makes a resend find its poll
    async with db.writer() as s:
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
            prompt=msg.prompt or _prompt(msg),
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


def _prompt(msg: p.PollFromThemesMsg) -> str:
    """The default prompt, stored in the first language; pages show it in theirs
    (a msgid of server/translations). How many to pick is said beside it."""
    if msg.kind == "ranking":
        return N_("Rank these themes from the tables, most important first.")
    return N_("Which of these themes matter most to you?")
