"""A poll opened with a timer closes when it runs out, on the real server: phones,
screens and consoles are told, as when the producer presses Close. (Before, the
server only refused late votes and the screens said "Voting closes in 0 s".)"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import join, recv_until
from tests.support.server import LiveServer

SHORTEST = 5  # the shortest timer a producer may set (OpenPollMsg)


async def poll_status(ws: Any, poll_id: int, status: str, seconds: float) -> dict[str, Any]:
    """The first ``poll`` push for ``poll_id`` with ``status``, within ``seconds``."""

    async def wait() -> dict[str, Any]:
        while True:
            msg = await recv_until(ws, "poll")
            if msg["poll"]["id"] == poll_id and msg["poll"]["status"] == status:
                return msg

    return await asyncio.wait_for(wait(), seconds)


async def test_a_poll_closes_when_its_timer_runs_out(live_server: LiveServer) -> None:
    s = live_server
    token = await asyncio.to_thread(join, s)
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("phone", token)) as phone,
        connect(s.ws_url("display", s.tokens.display)) as display,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(phone, "hello")
        await recv_until(display, "hello")
        poll = next(p for p in event["polls"] if p["kind"] == "single")
        opened = {"type": "open_poll", "id": new_id(), "poll_id": poll["id"], "seconds": SHORTEST}
        await producer.send(json.dumps(opened))
        await poll_status(phone, poll["id"], "open", 5)
        closed = await poll_status(phone, poll["id"], "closed", SHORTEST + 5)
        await poll_status(display, poll["id"], "closed", 5)
        on_console = await poll_status(producer, poll["id"], "closed", 5)
    # Nobody's console closed it: the demo's autopilot must not take it for a person.
    assert "by" not in on_console
    assert closed["poll"]["closes_at"] is not None


async def test_a_poll_reopened_without_a_timer_stays_open(live_server: LiveServer) -> None:
    s = live_server
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        poll = next(p for p in event["polls"] if p["kind"] == "single")
        timed = {"type": "open_poll", "id": new_id(), "poll_id": poll["id"], "seconds": SHORTEST}
        await producer.send(json.dumps(timed))
        await recv_until(producer, "ack")
        untimed = {"type": "open_poll", "id": new_id(), "poll_id": poll["id"]}
        await producer.send(json.dumps(untimed))
        await recv_until(producer, "ack")
        await asyncio.sleep(SHORTEST + 1)
    async with connect(s.ws_url("producer", s.tokens.producer)) as again:
        hello = await recv_until(again, "hello")
    now = next(p for p in hello["event"]["polls"] if p["id"] == poll["id"])
    assert now["status"] == "open" and now["closes_at"] is None
