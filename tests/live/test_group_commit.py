"""Group commit: concurrent votes share commits, each still answered on its own."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import col, func, select

from server.core.errors import InvalidMessage
from server.event.loader import IssuedTokens
from server.live.group_commit import GroupCommit
from server.live.hub import MemoryHub
from server.live.meeting import Meeting
from server.protocol import messages as protocol
from server.protocol.outcome import Outcome
from server.settings import Settings
from server.storage.db import Database
from server.storage.models import Participant, Poll, Vote
from server.storage.tokens import Principal, issue
from tests.support.example import new_id


async def test_concurrent_votes_are_group_committed_and_each_gets_its_own_answer(
    settings: Settings, tokens: IssuedTokens
) -> None:
    db = Database(settings.db_url)
    meeting = Meeting(settings, db, MemoryHub())
    await meeting.start()
    try:
        async with db.session() as s:
            poll = (await s.exec(select(Poll).where(Poll.kind == "multi"))).one()
            poll.status = "open"
            s.add(poll)
            people = []
            for _ in range(60):
                p = Participant(event_id=tokens.event_id)
                s.add(p)
                await s.flush()
                await issue(s, tokens.event_id, "participant", participant_id=p.id)
                people.append(p.id)
            await s.commit()
        assert poll.id is not None
        votes = []
        for i, pid in enumerate(people):
            who = Principal("participant", tokens.event_id, 0, participant_id=pid)
            # Every tenth ballot picks too many options and must be refused alone.
            choice = ["housing", "parks", "roads", "youth"] if i % 10 == 0 else ["parks"]
            vote = {"type": "vote", "id": new_id(), "poll_id": poll.id, "seq": 1, "choice": choice}
            msg = protocol.parse(json.dumps(vote))
            votes.append(meeting.handle(who, msg))
        results = await asyncio.gather(*votes, return_exceptions=True)
        refused = [r for r in results if isinstance(r, InvalidMessage)]
        acked = [r for r in results if isinstance(r, tuple) and r[0]["type"] == "ack"]
        assert len(refused) == 6 and len(acked) == 54
        assert 1 <= meeting.votes.batches < 54
        async with db.session() as s:
            stored = (
                await s.exec(
                    select(func.count()).select_from(Vote).where(col(Vote.poll_id) == poll.id)
                )
            ).one()
        assert stored == 54
    finally:
        await meeting.stop()
        await db.dispose()


def test_parse_is_strict_about_vote_fields() -> None:
    bad = {"type": "vote", "id": new_id(), "poll_id": 1, "seq": 0, "choice": []}
    with pytest.raises(InvalidMessage, match="seq"):
        protocol.parse(json.dumps(bad))


async def test_one_phone_twice_in_a_batch_keeps_the_newer_ballot_and_ignores_a_late_one(
    settings: Settings, tokens: IssuedTokens
) -> None:
    """The group commit reads every standing ballot of a batch in one query
    (votes.prefetch_votes): a second ballot from the same phone in that batch must
    replace the first, not collide with it, and an older one arriving later is ignored."""
    db = Database(settings.db_url)
    meeting = Meeting(settings, db, MemoryHub())
    await meeting.start()
    try:
        async with db.session() as s:
            poll = (await s.exec(select(Poll).where(Poll.kind == "single"))).first()
            assert poll is not None and poll.id is not None
            poll.status = "open"
            s.add(poll)
            p = Participant(event_id=tokens.event_id)
            s.add(p)
            await s.flush()
            await s.commit()
            poll_id, pid = poll.id, p.id
        who = Principal("participant", tokens.event_id, 0, participant_id=pid)

        def ballot(seq: int, key: str) -> protocol.VoteMsg:
            raw = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": seq, "choice": [key]}
            msg = protocol.parse(json.dumps(raw))
            assert isinstance(msg, protocol.VoteMsg)
            return msg

        first, second, late = ballot(1, "car"), ballot(2, "bus"), ballot(1, "walk")
        replies = await asyncio.gather(meeting.handle(who, first), meeting.handle(who, second))
        acks = [reply for reply, _ in replies]
        assert meeting.votes.batches == 1, "both in one group commit"
        assert [a["seq"] for a in acks] == [1, 2] and all(a["applied"] for a in acks)
        again, _ = await meeting.handle(who, late)
        assert again["applied"] is False and again["seq"] == 2
        async with db.session() as s:
            rows = (await s.exec(select(Vote).where(Vote.poll_id == poll_id))).all()
        assert [(json.loads(r.choice), r.seq, r.client_id) for r in rows] == [
            (["bus"], 2, second.id)
        ]
    finally:
        await meeting.stop()
        await db.dispose()


def test_batches_gather_longer_while_writes_stream_in(settings: Settings) -> None:
    """At a meeting's peak (500 votes a second) a batch gathers for 20 ms, so each
    transaction carries about ten writes instead of two or three; after a pause,
    a lone write gets the short wait again."""
    commits = GroupCommit(Database(settings.db_url), _echo, _echo)
    assert commits.gather_window() == commits.window  # a quiet start
    t = 0.0
    for _ in range(100):  # 0.2 s at one write every 2 ms
        commits.arrived(t)
        t += 0.002
    assert commits.gather_window() == commits.busy_window > commits.window
    t += 3.0  # the room pauses; the next write after it
    commits.arrived(t)
    assert commits.gather_window() == commits.window
    for _ in range(10):  # 50 writes a second: below the streaming rate
        t += 0.02
        commits.arrived(t)
    assert commits.gather_window() == commits.window


async def _echo(_s: object, _who: object, msg: int) -> Outcome:
    return Outcome(ack={"n": msg})


async def test_a_stream_of_writes_is_answered_in_order_in_shared_batches(
    settings: Settings,
) -> None:
    """Through the running loop: every write of a stream gets its own answer, and
    they share transactions (the batch sizes themselves depend on the machine's
    load, so only the sharing is asserted)."""
    db = Database(settings.db_url)
    commits = GroupCommit(db, _echo, _echo)
    commits.start()
    who = Principal("participant", 1, 0, participant_id=1)
    try:
        waiting = []
        for i in range(200):  # one every 2 ms or so
            waiting.append(asyncio.ensure_future(commits.submit(who, i)))
            await asyncio.sleep(0.002)
        answers = await asyncio.gather(*waiting)
        assert [a.ack["n"] for a in answers] == list(range(200))
        assert commits.batches < 100, commits.batches
    finally:
        await commits.stop()
        await db.dispose()
