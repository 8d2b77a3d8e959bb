"""Phones joining are group-committed (server/live/joins.py): thirty phones
joining at once share commits, and each gets its own working token."""

from __future__ import annotations

import asyncio

from server.event.loader import IssuedTokens
from server.live.meeting import Meeting
from server.storage.models import Participant


async def test_joins_share_commits_and_each_phone_gets_its_own_token(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting = live_meeting
    found = await meeting.joins.event(tokens.code)
    assert found is not None
    event_id = found[0]
    assert await meeting.joins.event("NO-SUCH-CODE") is None
    site = await meeting.joins.site(event_id, "north-library")
    assert site is not None and await meeting.joins.site(event_id, "moon-base") is None
    issued = await asyncio.gather(
        *(meeting.joins.join(event_id, site if i % 2 else None) for i in range(30))
    )
    assert 1 <= meeting.joins.commits.batches < 30
    assert len(set(issued)) == 30
    people = [await meeting.authenticate(t, "participant") for t in issued]
    assert len({p.participant_id for p in people}) == 30
    assert {p.event_id for p in people} == {event_id}
    # The batch's participants are inserted together: each token names its own,
    # at the site it joined at.
    async with meeting.db.session() as s:
        for i, who in enumerate(people):
            row = await s.get(Participant, who.participant_id)
            assert row is not None and row.site_id == (site if i % 2 else None)
