"""Demographic answers are group-committed like votes: a hall filling up sends
thousands within a minute. Each phone still gets its own answer, a refused
message stores nothing, and a phone answering twice keeps its latest answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import col, select

from server.core.errors import InvalidMessage
from server.event.loader import IssuedTokens
from server.live.meeting import Meeting
from server.protocol import messages as protocol
from server.storage.models import DemographicAnswer, DemographicQuestion, Participant
from server.storage.tokens import Principal
from tests.support.example import new_id


async def test_answers_share_commits_and_the_latest_answer_stands(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting, db = live_meeting, live_meeting.db
    async with db.session() as s:
        people = []
        for _ in range(40):
            p = Participant(event_id=tokens.event_id)
            s.add(p)
            await s.flush()
            people.append(p.id)
        await s.commit()

    async def answer(pid: int | None, answers: dict[str, str]) -> dict[str, Any]:
        who = Principal("participant", tokens.event_id, 0, participant_id=pid)
        raw = {"type": "demographics", "id": new_id(), "answers": answers}
        reply, _ = await meeting.handle(who, protocol.parse(json.dumps(raw)))
        return reply

    first = [answer(pid, {"age": "16-29", "tenure": "rent"}) for pid in people]
    # The first five change their minds in the same burst; two messages are refused.
    changed = [answer(pid, {"age": "65-plus", "area": "north"}) for pid in people[:5]]
    bad = [answer(people[6], {"age": "200"}), answer(people[7], {"shoe": "42"})]
    results = await asyncio.gather(*first, *changed, *bad, return_exceptions=True)
    assert sum(isinstance(r, dict) and r["type"] == "ack" for r in results) == 45
    assert sum(isinstance(r, InvalidMessage) for r in results) == 2
    assert 1 <= meeting.demographics.batches < 45
    # A later answer (a new commit) replaces the stored one.
    assert (await answer(people[0], {"tenure": "own"}))["type"] == "ack"
    async with db.session() as s:
        rows = (
            await s.exec(
                select(DemographicAnswer.participant_id, DemographicQuestion.key)
                .add_columns(col(DemographicAnswer.option_key))
                .join(
                    DemographicQuestion,
                    col(DemographicQuestion.id) == DemographicAnswer.question_id,
                )
            )
        ).all()
    stored: dict[int, dict[str, str]] = {}
    for pid, key, option in rows:
        stored.setdefault(pid, {})[key] = option
    assert stored[people[0]] == {"age": "65-plus", "tenure": "own", "area": "north"}
    assert stored[people[1]] == {"age": "65-plus", "tenure": "rent", "area": "north"}
    # The refusal changed nothing.
    assert stored[people[6]] == {"age": "16-29", "tenure": "rent"}
    assert all(stored[pid] == {"age": "16-29", "tenure": "rent"} for pid in people[8:])
    assert len(rows) == 40 * 2 + 5
