"""A Redis outage: the server notices within 5 s, says so, and screens resync when it returns."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect

from tests.support.example import load_example, new_id
from tests.support.live import join, recv_until
from tests.support.proxy import CuttableProxy
from tests.support.server import LiveServer, free_port, start_server

pytestmark = pytest.mark.redis


@pytest.fixture
async def proxied(
    redis_url: str, tmp_path: object
) -> AsyncIterator[tuple[LiveServer, CuttableProxy]]:
    from pathlib import Path

    tmp = Path(str(tmp_path))
    proxy = CuttableProxy(free_port())
    await proxy.start()
    db_url = f"sqlite+aiosqlite:///{tmp / 'townhall.db'}"
    tokens = await asyncio.to_thread(load_example, db_url)
    env = {"TOWNHALL_HUB_URL": f"redis://127.0.0.1:{proxy.port}"}
    log = tmp / "server.log"
    proc, base = await asyncio.to_thread(start_server, db_url, log, env)
    yield LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, env), proxy
    proc.terminate()
    proc.wait(10)
    await proxy.cut()


def hub_state(base: str) -> str:
    """The hub as /healthz reports it; with the hub down it answers 503 (docs/security.md)."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
            return str(json.loads(r.read())["hub"])
    except urllib.error.HTTPError as exc:
        assert exc.code == 503
        return str(json.loads(exc.read())["hub"])


async def test_redis_outage_is_noticed_shown_and_screens_resync_after(
    proxied: tuple[LiveServer, CuttableProxy],
) -> None:
    s, proxy = proxied
    token = await asyncio.to_thread(join, s)
    async with (
        connect(s.ws_url("display", s.tokens.display)) as display,
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("phone", token)) as phone,
    ):
        assert (await recv_until(display, "hello"))["hub_healthy"] is True
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(phone, "hello")
        poll = next(p for p in event["polls"] if p["kind"] == "single")

        cut_at = time.monotonic()
        await proxy.cut()
        down = await recv_until(display, "hub")
        assert down["healthy"] is False
        assert time.monotonic() - cut_at < 5
        assert await asyncio.to_thread(hub_state, s.base) == "down"

        # The meeting goes on in this process while the hub is down.
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        assert (await recv_until(producer, "ack", "error"))["type"] == "ack"
        await recv_until(phone, "poll")
        vote = {"type": "vote", "id": new_id(), "poll_id": poll["id"], "seq": 1, "choice": ["bus"]}
        await phone.send(json.dumps(vote))
        assert (await recv_until(phone, "ack"))["applied"] is True

        await proxy.start()
        up = await recv_until(display, "hub")
        assert up["healthy"] is True
        fresh = await recv_until(display, "hello")
    tally = next(t for t in fresh["tallies"] if t["poll"]["id"] == poll["id"])
    assert {o["key"]: o["count"] for o in tally["result"]["options"]}["bus"] == 1
    assert await asyncio.to_thread(hub_state, s.base) == "ok"
