"""A hall's phones connecting at once: their token lookups and their ``hello``
messages are read in groups (server/live/group_read.py), yet each phone is told
exactly what it would be told alone: its own answers and ballot, and a revoked
or wrong token is refused even in the middle of a crowd of good ones."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from sqlmodel import select

from server.core.errors import Forbidden
from server.core.weighting import room_figures
from server.event.loader import IssuedTokens
from server.live.meeting import Meeting
from server.protocol import messages as protocol
from server.storage import result_store
from server.storage.models import AccessToken, DemographicAnswer, Poll
from server.storage.poll_store import demographic_questions_with_options
from server.storage.tokens import Principal, token_hash
from tests.support.example import new_id


async def _send(meeting: Meeting, who: Principal, raw: dict[str, Any]) -> dict[str, Any]:
    reply, _ = await meeting.handle(who, protocol.parse(json.dumps({"id": new_id(), **raw})))
    assert reply["type"] == "ack", reply
    return reply


async def test_a_crowd_of_tokens_is_looked_up_together_and_bad_ones_still_refused(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting = live_meeting
    issued = await asyncio.gather(*(meeting.joins.join(tokens.event_id, None) for _ in range(60)))
    async with meeting.db.writer() as s:
        row = (
            await s.exec(select(AccessToken).where(AccessToken.token_hash == token_hash(issued[0])))
        ).one()
        row.revoked = True
        s.add(row)
        await s.commit()
    before = meeting._tokens.batches
    asks = [meeting.authenticate(t, "participant") for t in issued]
    asks += [meeting.authenticate("no-such-token", "participant")]
    asks += [meeting.authenticate(issued[1], "table")]  # a phone's link is not a table's
    asks += [meeting.authenticate(tokens.display, "display")]
    results = await asyncio.gather(*asks, return_exceptions=True)
    assert isinstance(results[0], Forbidden) and "revoked" in results[0].message
    people = results[1:60]
    assert all(isinstance(p, Principal) and p.role == "participant" for p in people)
    assert len({p.participant_id for p in people if isinstance(p, Principal)}) == 59
    assert isinstance(results[60], Forbidden) and "unknown" in results[60].message
    assert isinstance(results[61], Forbidden) and "participant role" in results[61].message
    screen = results[62]
    assert isinstance(screen, Principal) and screen.role == "display"
    assert meeting.site_of(screen) is None  # the whole event's screens
    assert meeting._tokens.batches - before < 20  # 63 lookups, a few queries
    with pytest.raises(Forbidden, match="required"):
        await meeting.authenticate("", "participant")


async def test_hellos_read_together_each_carry_the_phones_own_answers_and_ballot(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting = live_meeting
    async with meeting.db.writer() as s:
        poll = (await s.exec(select(Poll).where(Poll.kind == "multi"))).one()
        poll.status = "open"
        s.add(poll)
        await s.commit()
        poll_id = poll.id
    meeting.hellos.forget(tokens.event_id)
    issued = await asyncio.gather(*(meeting.joins.join(tokens.event_id, None) for _ in range(30)))
    people = [await meeting.authenticate(t, "participant") for t in issued]
    ages = ["16-29", "30-44", "45-64", "65-plus"]
    for i, who in enumerate(people[:20]):
        await _send(meeting, who, {"type": "demographics", "answers": {"age": ages[i % 4]}})
    for i, who in enumerate(people[::3]):
        choice = ["parks"] if i % 2 else ["roads", "youth"]
        await _send(meeting, who, {"type": "vote", "poll_id": poll_id, "seq": 1, "choice": choice})
    before = meeting.hellos._participants.batches
    hellos = await asyncio.gather(*(meeting.snapshot(who) for who in people))
    assert meeting.hellos._participants.batches - before < 10
    for i, hello in enumerate(hellos):
        assert hello["type"] == "hello" and hello["role"] == "participant"
        assert hello["answers"] == ({"age": ages[i % 4]} if i < 20 else {})
        assert hello["poll"] is not None and hello["poll"]["id"] == poll_id
        if i % 3 == 0:
            choice = ["parks"] if (i // 3) % 2 else ["roads", "youth"]
            assert hello["ballot"] == {"choice": choice, "seq": 1}
        else:
            assert hello["ballot"] is None
        assert hello["evaluation"] is None  # the survey is not open
        assert hello["demographics"] and hello["event"]["code"] == tokens.code
    # Alone, a phone is told the same.
    assert await meeting.snapshot(people[3]) == hellos[3]


async def test_the_screens_demographics_count_every_answer(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    """Counted by the database now (one GROUP BY while a hall fills up), the
    figures are those of counting the stored answers one by one."""
    meeting = live_meeting
    issued = await asyncio.gather(*(meeting.joins.join(tokens.event_id, None) for _ in range(60)))
    people = [await meeting.authenticate(t, "participant") for t in issued]
    # 25 / 20 / 12 / 3 by age (the last a small group), tenure for some, area for few.
    ages = ["16-29"] * 25 + ["30-44"] * 20 + ["45-64"] * 12 + ["65-plus"] * 3
    tenures = ["rent", "own", "prefer_not"]
    for i, (who, age) in enumerate(zip(people, ages, strict=True)):
        answers = {"age": age, "tenure": tenures[i % 3]}
        if i % 7 == 0:
            answers["area"] = "north"
        await _send(meeting, who, {"type": "demographics", "answers": answers})
    async with meeting.db.session() as s:
        view = await result_store.demographics_view(s, tokens.event_id, 10)
        expected = []
        for q, options in await demographic_questions_with_options(s, tokens.event_id):
            stored = (
                await s.exec(
                    select(DemographicAnswer.option_key).where(
                        DemographicAnswer.question_id == q.id
                    )
                )
            ).all()
            census = {o.key: o.census_share for o in options if o.census_share is not None}
            room = room_figures(Counter(stored), [o.key for o in options], census, 10)
            shown = {o.key: room.counts[o.key] for o in options}
            expected.append((q.key, shown, room.answered, room.representativeness))
    got = [
        (
            q["key"],
            {o["key"]: o["count"] for o in q["options"]},
            q["answered"],
            q["representativeness"],
        )
        for q in view
    ]
    assert got == expected
    age = next(q for q in view if q["key"] == "age")
    # 3 is a small group, and 12 is hidden with it so 3 cannot be worked out.
    assert [o["count"] for o in age["options"]] == [25, 20, None, None]
    assert age["answered"] == 60
