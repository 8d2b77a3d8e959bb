"""The live tally kept in memory (server/live/tallies.py) must always equal a
recount of the stored ballots: after a burst of group-committed votes, with
phones changing their votes (in the same batch and in later ones), refused
ballots, and phones at two sites."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from typing import Any

from sqlmodel import select

from server.event.loader import IssuedTokens
from server.live.meeting import Meeting
from server.live.tallies import LiveTallies
from server.protocol import messages as protocol
from server.storage import result_store
from server.storage.db import Database
from server.storage.models import Participant, Poll, Site
from server.storage.poll_store import demographic_questions_with_options
from server.storage.tokens import Principal
from tests.support.example import new_id

SMALL_CELL = 10  # the small-groups threshold (the settings' default)
VERSION = 1  # any clock reading: the live and the recounted views carry the same one


async def _join(db: Database, event_id: int, sites: Sequence[int | None], n: int) -> list[int]:
    """n participants, in turn at each of ``sites`` (None: no site)."""
    async with db.session() as s:
        people = [Participant(event_id=event_id, site_id=sites[i % len(sites)]) for i in range(n)]
        s.add_all(people)
        await s.commit()
    return [p.id for p in people if p.id is not None]


async def _recount(db: Database, poll_id: int, sites: list[int]) -> list[dict[str, Any]]:
    async with db.session() as s:
        return [
            await result_store.tally_view(s, poll_id, site, SMALL_CELL, VERSION)
            for site in [None, *sites]
        ]


async def _live(db: Database, tallies: LiveTallies, poll_id: int, sites: list[int]) -> Any:
    async with db.session() as s:
        return await tallies.views(s, poll_id, sites, SMALL_CELL, VERSION)


async def test_live_tally_equals_a_recount_after_a_burst_with_changed_votes(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    meeting, db = live_meeting, live_meeting.db
    rng = random.Random(7)
    async with db.session() as s:
        poll = (await s.exec(select(Poll).where(Poll.kind == "multi"))).one()
        poll.status = "open"
        s.add(poll)
        sites = [i for i in (await s.exec(select(Site.id))).all() if i is not None]
        assert len(sites) == 2
        await s.commit()
        poll_id = poll.id
    people = await _join(db, tokens.event_id, sites, 150)
    assert poll_id is not None
    # Read once before the burst, so every vote below reaches the live tally
    # through a committed batch, not through a fresh read.
    assert (await _live(db, meeting.tallies, poll_id, sites))[0]["result"]["turnout"] == 0
    # Late joiners: the live tally has not seen their sites yet.
    people += await _join(db, tokens.event_id, sites, 20)

    keys = ["housing", "parks", "roads", "youth"]

    async def vote(pid: int | None, seq: int, choice: list[str]) -> dict[str, Any]:
        who = Principal("participant", tokens.event_id, 0, participant_id=pid)
        raw = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": seq, "choice": choice}
        reply, _ = await meeting.handle(who, protocol.parse(json.dumps(raw)))
        return reply

    first = [vote(pid, 1, rng.sample(keys, rng.randint(1, 2))) for pid in people]
    # Some change their minds in the same burst (often the same batch) ...
    changers = rng.sample(people, 40)
    again = [vote(pid, 2, [rng.choice(keys)]) for pid in changers]
    # ... and a few ballots are refused (too many options): they change nothing.
    refused = [vote(pid, 3, keys) for pid in changers[:5]]
    results = await asyncio.gather(*first, *again, *refused, return_exceptions=True)
    assert sum(isinstance(r, dict) and r["type"] == "ack" for r in results) == 210
    # A second wave after the first batches are committed: changes of vote again.
    later = await asyncio.gather(*(vote(pid, 4, ["roads"]) for pid in changers[::3]))
    assert all(r["type"] == "ack" and r["applied"] for r in later)

    live = await _live(db, meeting.tallies, poll_id, sites)
    recount = await _recount(db, poll_id, sites)
    assert live == recount
    assert [v["result"]["turnout"] for v in live] == [170, 85, 85]
    roads = {o["key"]: o["count"] for o in live[0]["result"]["options"]}["roads"]
    assert roads >= len(changers[::3])
    # The multi-process mode (re-read per broadcast) gives the same figures,
    # also when a broadcast and a screen's hello read the same poll at once.
    for exact in (False, True):
        fresh = LiveTallies(exact=exact)
        both = await asyncio.gather(*(_live(db, fresh, poll_id, sites) for _ in range(2)))
        assert both == [recount, recount]


async def test_live_site_tally_keeps_the_small_groups_rule(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    """A site with too few voters gets no result on its screen (core/privacy.py),
    from the live tally exactly as from a recount; the other site still gets its own."""
    meeting, db = live_meeting, live_meeting.db
    async with db.session() as s:
        poll = (await s.exec(select(Poll).where(Poll.kind == "multi"))).one()
        poll.status = "open"
        s.add(poll)
        big, small = [i for i in (await s.exec(select(Site.id))).all() if i is not None]
        await s.commit()
        poll_id = poll.id
    assert poll_id is not None
    sites = [big, small]
    # Read before the votes, so they reach the live tally through committed batches.
    assert (await _live(db, meeting.tallies, poll_id, sites))[0]["result"]["turnout"] == 0
    people = await _join(db, tokens.event_id, [big], 30)
    people += await _join(db, tokens.event_id, [small], 3)
    people += await _join(db, tokens.event_id, [None], 12)  # the small site's partner group

    async def vote(pid: int) -> dict[str, Any]:
        who = Principal("participant", tokens.event_id, 0, participant_id=pid)
        raw = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": ["parks"]}
        reply, _ = await meeting.handle(who, protocol.parse(json.dumps(raw)))
        return reply

    assert all(r["type"] == "ack" for r in await asyncio.gather(*(vote(p) for p in people)))
    live = await _live(db, meeting.tallies, poll_id, sites)
    assert live == await _recount(db, poll_id, sites)
    assert live[0]["result"]["turnout"] == 45
    assert live[1]["result"]["turnout"] == 30 and "suppressed" not in live[1]
    assert live[2]["result"] is None and live[2]["suppressed"] is True
    assert "budget" not in live[2]


async def test_live_breakdown_equals_one_from_the_database_as_answers_change(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    """The breakdown pushed to the screens is built from the ballots and answers
    held in memory; it must equal one read from the database, also when voters
    answer their demographic questions after voting, or change their answers,
    after the breakdown has already read them once."""
    meeting, db = live_meeting, live_meeting.db
    rng = random.Random(11)
    async with db.session() as s:
        poll = (await s.exec(select(Poll).where(Poll.kind == "multi"))).one()
        poll.status = "open"
        s.add(poll)
        await s.commit()
        poll_id = poll.id
        questions = [
            (q.key, [o.key for o in options])
            for q, options in await demographic_questions_with_options(s, tokens.event_id)
        ]
    assert poll_id is not None and questions
    people = await _join(db, tokens.event_id, [None], 120)

    async def send(pid: int, raw: dict[str, Any]) -> dict[str, Any]:
        who = Principal("participant", tokens.event_id, 0, participant_id=pid)
        reply, _ = await meeting.handle(who, protocol.parse(json.dumps({"id": new_id(), **raw})))
        return reply

    def answers() -> dict[str, str]:
        return {key: rng.choice(options) for key, options in questions}

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        async with db.session() as s:
            held = await meeting.tallies.breakdown_ballots(s, poll_id)
            assert held is not None  # one process: every ballot passes through it
            live = await result_store.breakdown_view(s, poll_id, SMALL_CELL, VERSION, held)
            read = await result_store.breakdown_view(s, poll_id, SMALL_CELL, VERSION)
        return live, read

    keys = ["housing", "parks", "roads", "youth"]
    early = people[:80]
    await asyncio.gather(*(send(p, {"type": "demographics", "answers": answers()}) for p in early))
    replies = await asyncio.gather(
        *(
            send(p, {"type": "vote", "poll_id": poll_id, "seq": 1, "choice": [rng.choice(keys)]})
            for p in people
        )
    )
    assert all(r["type"] == "ack" for r in replies)
    live, read = await both()
    assert live == read
    assert live["turnout"] == 120
    # Late answers (voters whose answers were read as none) and changed ones.
    late = people[80:] + rng.sample(early, 30)
    await asyncio.gather(*(send(p, {"type": "demographics", "answers": answers()}) for p in late))
    live_after, read_after = await both()
    assert live_after == read_after
    assert live_after["crosstabs"] != live["crosstabs"]  # the answers did change the figures
