"""Protocol level 3: the real server under uvicorn, real `websockets` clients."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import join, recv_until
from tests.support.server import LiveServer

TIMEOUT = 10


async def test_comment_typed_at_a_table_reaches_the_theme_team(live_server: LiveServer) -> None:
    s = live_server
    async with (
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("table", s.tokens.tables[5])) as table,
    ):
        assert (await recv_until(team, "hello"))["role"] == "team"
        hello = await recv_until(table, "hello")
        question = hello["question"]
        cid = new_id()
        await table.send(
            json.dumps(
                {
                    "type": "comment",
                    "id": cid,
                    "seq": 1,
                    "text": "Keep the libraries open on Sundays",
                }
            )
        )
        ack = await recv_until(table, "ack")
        seen = await recv_until(team, "comment")
    assert ack["id"] == cid
    assert seen["comment"]["id"] == ack["comment_id"]
    assert seen["comment"]["text"] == "Keep the libraries open on Sundays"
    assert seen["comment"]["table"] == "Table 5" and seen["comment"]["site"] == "Civic Hall"
    assert seen["comment"]["question_id"] == question["id"]


async def test_vote_from_a_phone_reaches_the_big_screen(live_server: LiveServer) -> None:
    s = live_server
    token = await asyncio.to_thread(join, s)
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("display", s.tokens.display)) as display,
        connect(s.ws_url("phone", token)) as phone,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(display, "hello")
        await recv_until(phone, "hello")
        poll = next(p for p in event["polls"] if p["kind"] == "single")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"], "seconds": 60})
        )
        await recv_until(producer, "ack")
        opened = await recv_until(phone, "poll")
        assert opened["poll"]["id"] == poll["id"] and opened["poll"]["closes_at"]
        await phone.send(
            json.dumps(
                {
                    "type": "vote",
                    "id": new_id(),
                    "poll_id": poll["id"],
                    "seq": 1,
                    "choice": ["bike"],
                }
            )
        )
        assert (await recv_until(phone, "ack"))["applied"] is True
        tally = await recv_until(display, "tally")
        while tally["result"]["turnout"] == 0:
            tally = await recv_until(display, "tally")
    bike = next(o for o in tally["result"]["options"] if o["key"] == "bike")
    assert bike["count"] == 1 and bike["percent"] == 100
    assert tally["participants"] == 1


async def test_producer_moving_the_agenda_is_pushed_to_tables(live_server: LiveServer) -> None:
    s = live_server
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("table", s.tokens.tables[16])) as table,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(table, "hello")
        last_q = event["rounds"][-1]["questions"][-1]
        await producer.send(
            json.dumps({"type": "set_question", "id": new_id(), "question_id": last_q["id"]})
        )
        pushed = await recv_until(table, "question")
    assert pushed["question"]["id"] == last_q["id"]
    assert pushed["question"]["round"] == event["rounds"][-1]["title"]
