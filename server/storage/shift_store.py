"""Polls asked twice, on the database side: the rows the loader creates, and the
paired shift the screens get (``shift`` messages) from the stored ballots."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import shift as shifting
from server.core.ballots import poll_spec
from server.storage.models import Poll
from server.storage.poll_store import (
    ballots_with_demographics,
    demographic_questions_with_options,
    poll_options,
)


async def pair_of(s: AsyncSession, poll: Poll) -> tuple[Poll, Poll] | None:
    """(before, after) for a poll asked twice; None for an ordinary poll."""
    if poll.pair_key is None:
        return None
    rows = (
        await s.exec(
            select(Poll).where(Poll.event_id == poll.event_id, Poll.pair_key == poll.pair_key)
        )
    ).all()
    by_phase = {p.phase: p for p in rows}
    before, after = by_phase.get("before"), by_phase.get("after")
    return (before, after) if before is not None and after is not None else None


async def shift_view(s: AsyncSession, poll_id: int, threshold: int) -> dict[str, Any] | None:
    """The ``shift`` message for the pair a poll belongs to (None: not asked twice).

    Sent to the whole-event screens and the producer only, like breakdowns:
    the by-group rows need the whole room's demographics.
    """
    poll = await s.get(Poll, poll_id)
    pair = await pair_of(s, poll) if poll is not None else None
    if pair is None:
        return None
    before, after = pair
    assert before.id is not None and after.id is not None
    spec = poll_spec(before, await poll_options(s, before.id))
    b_ballots = await ballots_with_demographics(s, before.id)
    a_ballots = await ballots_with_demographics(s, after.id)
    groups = []
    for q, options in await demographic_questions_with_options(s, before.event_id):
        by_group = shifting.shift_by_group(
            spec, b_ballots, a_ballots, q.key, {o.key: o.label for o in options}, threshold
        )
        groups.append({"prompt": q.prompt, **by_group.to_dict()})
    return {
        "type": "shift",
        "pair_key": before.pair_key,
        "before_poll_id": before.id,
        "after_poll_id": after.id,
        "prompt": before.prompt,
        "shift": shifting.shift(spec, b_ballots, a_ballots).to_dict(),
        "groups": groups,
    }
