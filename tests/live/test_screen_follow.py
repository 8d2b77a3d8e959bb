"""The big screens follow the room: a poll opened or closed and a theme set
published bring themselves up on every screen, unless the producer pinned the
screens (real server, real websocket clients; every receive bounded)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer
from tests.support.workbench import Themed, biggest, op, sync


async def produce(producer: ClientConnection, **msg: Any) -> dict[str, Any]:
    msg["id"] = new_id()
    await producer.send(json.dumps(msg))
    async with asyncio.timeout(10):
        while True:
            reply: dict[str, Any] = json.loads(await producer.recv())
            if reply.get("id") == msg["id"]:
                assert reply["type"] == "ack", reply
                return reply


def poll_id(event: dict[str, Any], key: str) -> int:
    return int(next(p["id"] for p in event["polls"] if p["key"] == key))


async def test_opening_and_closing_a_poll_brings_it_up_on_every_screen(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("display", s.tokens.display)) as screen,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        assert (await recv_until(screen, "hello"))["event"]["screen"]["follow"] is True
        await produce(producer, type="screen", mode="join")
        assert (await recv_until(screen, "screen_changed"))["mode"] == "join"
        warmup = poll_id(event, "warmup")
        await produce(producer, type="open_poll", poll_id=warmup)
        opened = await recv_until(screen, "screen_changed")
        await produce(producer, type="screen", mode="demographics")
        await recv_until(screen, "screen_changed")
        await produce(producer, type="close_poll", poll_id=warmup)
        closed = await recv_until(screen, "screen_changed")
    assert opened["mode"] == "poll" and opened["poll_id"] == warmup
    assert opened["by"] == "producer"  # which console acted
    assert closed["mode"] == "poll" and closed["poll_id"] == warmup  # its result


async def test_pinned_screens_stay_put_until_the_producer_lets_them_follow_again(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        await produce(producer, type="screen", mode="demographics")
        await produce(producer, type="screen_follow", follow=False)
        async with connect(s.ws_url("display", s.tokens.display)) as screen:
            hello = await recv_until(screen, "hello")
            await produce(producer, type="open_poll", poll_id=poll_id(event, "warmup"))
            await recv_until(screen, "poll")
            # The next screen change the screen sees is the producer's own button.
            await produce(producer, type="screen", mode="join")
            pressed = await recv_until(screen, "screen_changed")
            await produce(producer, type="screen_follow", follow=True)
            await recv_until(screen, "screen_changed")
            await produce(producer, type="open_poll", poll_id=poll_id(event, "cut-order"))
            followed = await recv_until(screen, "screen_changed")
    assert hello["event"]["screen"] == {
        "mode": "demographics",
        "poll_id": None,
        "question_id": None,
        "follow": False,
    }
    assert pressed["mode"] == "join" and pressed["follow"] is False
    assert followed["mode"] == "poll" and followed["poll_id"] == poll_id(event, "cut-order")


async def test_a_screen_button_can_name_the_poll_and_a_reconnecting_screen_gets_it(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        trust = poll_id(event, "trust-before")
        await produce(producer, type="screen", mode="breakdown", poll_id=trust)
        await producer.send(
            json.dumps({"type": "screen", "id": new_id(), "mode": "poll", "poll_id": 99999})
        )
        refused = await recv_until(producer, "error")
    async with connect(s.ws_url("display", s.tokens.display)) as screen:
        state = (await recv_until(screen, "hello"))["event"]["screen"]
    assert state["mode"] == "breakdown" and state["poll_id"] == trust
    assert refused["code"] == "not_found"


async def test_publishing_themes_puts_the_themes_wall_on_the_screens(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with (
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("display", s.tokens.display)) as screen,
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
    ):
        await recv_until(team, "hello")
        await recv_until(screen, "hello")
        await recv_until(producer, "hello")
        await produce(producer, type="screen_follow", follow=True)
        await produce(producer, type="screen", mode="join")
        await recv_until(screen, "screen_changed")
        chosen = biggest(await sync(team, q), 2)
        ack = await op(team, "publish", q, themes={t["key"]: t["version"] for t in chosen})
        published = await recv_until(screen, "published")
        wall = await recv_until(screen, "screen_changed")
    assert ack["type"] == "ack", ack
    assert {t["key"] for t in published["themes"] if t["question_id"] == q} >= {
        t["key"] for t in chosen
    }
    assert wall["mode"] == "themes" and wall["question_id"] == q
    assert "by" not in wall  # the theme team's publish, not a console
