"""Comments in one group commit (writes.prefetch_comments reads the batch's
resends, tables and events at once): a resend in the same batch gets the same
ack, a table's comments keep their order, a reused sequence is refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import select

from server.core.errors import Conflict
from server.event.loader import IssuedTokens
from server.live.meeting import Meeting
from server.protocol import messages as protocol
from server.storage.models import AccessToken, Comment, EventTable
from server.storage.tokens import Principal
from tests.support.example import new_id


async def test_one_batch_of_comments_with_a_resend_and_a_reused_sequence(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting = live_meeting
    async with meeting.db.session() as s:
        table_ids = [
            t
            for t in (
                await s.exec(
                    select(AccessToken.table_id).where(AccessToken.role == "table").limit(3)
                )
            ).all()
            if t is not None
        ]
    assert len(table_ids) == 3

    async def comment(table_id: int, seq: int, cid: str, text: str) -> dict[str, Any]:
        who = Principal("table", tokens.event_id, 0, table_id=table_id)
        raw = {"type": "comment", "id": cid, "seq": seq, "text": text}
        reply, _ = await meeting.handle(who, protocol.parse(json.dumps(raw)))
        return reply

    same = new_id()
    results = await asyncio.gather(
        comment(table_ids[0], 1, same, "More buses at night"),
        comment(table_ids[0], 1, same, "More buses at night"),  # the same, sent twice
        comment(table_ids[1], 1, new_id(), "Fix the library roof"),
        comment(table_ids[1], 2, new_id(), "Open the pool on Sundays"),
        # Another table's comment under the same client id: its own, not a resend.
        comment(table_ids[1], 3, same, "Same id, another table"),
        comment(table_ids[2], 5, new_id(), "Cheaper rents"),
        comment(table_ids[2], 5, new_id(), "A different comment, same number"),
        return_exceptions=True,
    )
    assert meeting.comments.batches == 1, "all in one group commit"
    first, resent, lib, pool, other, rents, reused = results
    assert isinstance(first, dict) and isinstance(resent, dict)
    assert first["comment_id"] == resent["comment_id"]
    assert isinstance(reused, Conflict)
    async with meeting.db.session() as s:
        stored = (await s.exec(select(Comment.table_id, Comment.seq, Comment.text))).all()
        last = {t.id: t.last_seq for t in (await s.exec(select(EventTable))).all()}
    assert sorted(stored) == sorted(
        [
            (table_ids[0], 1, "More buses at night"),
            (table_ids[1], 1, "Fix the library roof"),
            (table_ids[1], 2, "Open the pool on Sundays"),
            (table_ids[1], 3, "Same id, another table"),
            (table_ids[2], 5, "Cheaper rents"),
        ]
    )
    assert (last[table_ids[0]], last[table_ids[1]], last[table_ids[2]]) == (1, 3, 5)
    assert all(isinstance(r, dict) for r in (lib, pool, other, rents))
    assert isinstance(other, dict) and other["comment_id"] != first["comment_id"]
