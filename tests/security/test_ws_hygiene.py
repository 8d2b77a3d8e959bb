"""Websocket hygiene against the real server under uvicorn with real `websockets`
clients: foreign Origins, oversize frames, rate limits, flooders."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.example import new_id
from tests.support.live import close_code, join, recv_json, reply_to
from tests.support.server import LiveServer


async def test_foreign_origin_is_refused_by_the_real_server(live_server: LiveServer) -> None:
    s = live_server
    url = s.ws_url("table", s.tokens.tables[1])
    async with connect(url, origin="https://evil.example") as ws:  # type: ignore[arg-type]
        err = await recv_json(ws)
        code = await close_code(ws)
    assert err["code"] == "forbidden" and "other sites" in err["message"]
    assert code == 1008
    # The server's own page may connect.
    async with connect(url, origin=s.base) as ws:  # type: ignore[arg-type]
        assert (await recv_json(ws))["type"] == "hello"


async def test_frame_over_64_kib_is_closed_with_1009_and_others_carry_on(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with (
        connect(s.ws_url("table", s.tokens.tables[1])) as big,
        connect(s.ws_url("table", s.tokens.tables[2])) as other,
    ):
        await recv_json(big)
        await recv_json(other)
        text = "x" * (64 * 1024 + 1)
        await big.send(json.dumps({"type": "comment", "id": new_id(), "seq": 1, "text": text}))
        assert await close_code(big) == 1009
        mid = new_id()
        await other.send(json.dumps({"type": "comment", "id": mid, "seq": 1, "text": "fine"}))
        assert (await reply_to(other, mid))["type"] == "ack"


async def test_phone_over_its_rate_gets_rate_limited_answers_and_others_do_not(
    live_server: LiveServer,
) -> None:
    s = live_server
    flooder, calm = await asyncio.gather(asyncio.to_thread(join, s), asyncio.to_thread(join, s))
    async with connect(s.ws_url("phone", flooder)) as ws, connect(s.ws_url("phone", calm)) as ok:
        await recv_json(ws)
        await recv_json(ok)
        ids = [new_id() for _ in range(30)]
        for mid in ids:
            answers = {"age": "16-29"}
            await ws.send(json.dumps({"type": "demographics", "id": mid, "answers": answers}))
        replies = [await reply_to(ws, mid) for mid in ids]
        mid = new_id()
        await ok.send(
            json.dumps({"type": "demographics", "id": mid, "answers": {"age": "65-plus"}})
        )
        calm_reply = await reply_to(ok, mid)
    limited = [r for r in replies if r["type"] == "error"]
    assert all(r["code"] == "rate_limited" for r in limited)
    assert all(r["message"].startswith("Slow down") and r["retry_after"] > 0 for r in limited)
    assert 10 <= len(replies) - len(limited) <= 12, "the burst (10) passes, the rest waits"
    assert len(limited) >= 18
    assert calm_reply["type"] == "ack"


async def test_one_token_on_many_connections_shares_one_allowance(
    live_server: LiveServer,
) -> None:
    s = live_server
    token = await asyncio.to_thread(join, s)
    conns = [await connect(s.ws_url("phone", token)) for _ in range(4)]
    try:
        for ws in conns:
            await recv_json(ws)
        for ws in conns:
            for _ in range(10):  # within each connection's own burst of 10
                await ws.send(json.dumps({"type": "ping"}))
        replies = [await reply_to(ws, None) for ws in conns for _ in range(10)]
    finally:
        for ws in conns:
            await ws.close()
    passed = sum(r["type"] == "pong" for r in replies)
    # The token's shared bucket is 3 x 10: about 30 of 40 pass, not all 40.
    assert 30 <= passed <= 33, passed
    assert all(r["code"] == "rate_limited" for r in replies if r["type"] == "error")


@pytest.mark.parametrize("live_server", [{"TOWNHALL_RATE_FLOOD_CLOSE": "20"}], indirect=True)
async def test_a_client_that_keeps_flooding_is_closed_with_4003(live_server: LiveServer) -> None:
    s = live_server
    async with (
        connect(s.ws_url("display", s.tokens.display)) as ws,
        connect(s.ws_url("display", s.tokens.display)) as other,
    ):
        await recv_json(ws)
        await recv_json(other)
        for _ in range(100):
            await ws.send(json.dumps({"type": "ping"}))
        codes = []
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(10):
                while True:
                    codes.append((await recv_json(ws)).get("code"))
        assert ws.close_code == 4003
        # Another screen on the same token is still served its pushes.
        async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
            await recv_json(producer)
            await producer.send(json.dumps({"type": "screen", "id": new_id(), "mode": "join"}))
            async with asyncio.timeout(10):
                while (await recv_json(other))["type"] != "screen_changed":
                    pass
    assert codes.count("rate_limited") >= 20
