"""The producer re-issues and revokes links from the console; revoked links stop
working at once, live connections included (closed with 4001)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import close_code, http, recv_json, reply_to
from tests.support.server import LiveServer


async def test_reissued_table_link_closes_the_old_one_with_4001(live_server: LiveServer) -> None:
    s = live_server
    old = s.tokens.tables[7]
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("table", old)) as table,
    ):
        await recv_json(producer)
        await recv_json(table)
        mid = new_id()
        await producer.send(
            json.dumps({"type": "reissue_token", "id": mid, "role": "table", "table": 7})
        )
        ack = await reply_to(producer, mid)
        goodbye = await recv_json(table)
        assert await close_code(table) == 4001
        # A resend of the same id is answered with the same link, not a third token.
        await producer.send(
            json.dumps({"type": "reissue_token", "id": mid, "role": "table", "table": 7})
        )
        assert await reply_to(producer, mid) == ack
    assert ack["type"] == "ack" and ack["revoked"] == 1 and ack["table"] == 7
    assert ack["link"] == f"{s.base}/t/{ack['token']}"
    assert goodbye["code"] == "forbidden" and "revoked" in goodbye["message"]
    async with connect(s.ws_url("table", old)) as again:
        assert (await recv_json(again))["code"] == "forbidden"
        assert await close_code(again) == 1008
    async with connect(s.ws_url("table", ack["token"])) as fresh:
        assert (await recv_json(fresh))["table"]["name"] == "Table 7"


async def test_revoking_the_team_link_disconnects_every_team_laptop(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("team", s.tokens.team)) as team_a,
        connect(s.ws_url("team", s.tokens.team)) as team_b,
    ):
        for ws in (producer, team_a, team_b):
            await recv_json(ws)
        mid = new_id()
        await producer.send(json.dumps({"type": "revoke_token", "id": mid, "role": "team"}))
        ack = await reply_to(producer, mid)
        codes = await asyncio.gather(close_code(team_a), close_code(team_b))
        bad = new_id()
        await producer.send(json.dumps({"type": "revoke_token", "id": bad, "role": "producer"}))
        refused = await reply_to(producer, bad)
    assert ack["revoked"] == 1 and "token" not in ack
    assert codes == [4001, 4001]
    assert refused["code"] == "invalid" and "lock everyone out" in refused["message"]


async def test_producer_reissuing_their_own_link_gets_it_before_being_closed(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        await recv_json(producer)
        mid = new_id()
        await producer.send(json.dumps({"type": "reissue_token", "id": mid, "role": "producer"}))
        ack = await reply_to(producer, mid)
        assert await close_code(producer) == 4001
    assert ack["link"] == f"{s.base}/producer?token={ack['token']}"
    async with connect(s.ws_url("producer", ack["token"])) as fresh:
        assert (await recv_json(fresh))["role"] == "producer"


async def test_links_page_prints_fresh_links_with_qr_codes_only_when_asked(
    live_server: LiveServer,
) -> None:
    s = live_server
    old = s.tokens.tables[1]
    status, page, headers = await asyncio.to_thread(
        http, f"{s.base}/producer/links?token={s.tokens.producer}"
    )
    assert status == 200 and "Issue fresh links" in page and "/t/" not in page
    assert headers.get("cache-control") == "no-store"
    async with connect(s.ws_url("table", old)) as table:
        await recv_json(table)
        status, page, _ = await asyncio.to_thread(
            http, f"{s.base}/producer/links", {"token": s.tokens.producer, "tables": "1-2, 99"}
        )
        assert await close_code(table) == 4001
    assert status == 200
    links = re.findall(r"<code>(http://[^<]+/t/([A-Za-z0-9_-]+))</code>", page)
    assert len(links) == 2 and page.count("<svg") == 2
    assert "Table 1" in page and "Table 2" in page and "Table 3" not in page
    assert (await asyncio.to_thread(http, f"{s.base}/t/{old}"))[0] == 403
    assert (await asyncio.to_thread(http, f"{s.base}/t/{links[0][1]}"))[0] == 200
    # Another role's token cannot print links.
    status, _, _ = await asyncio.to_thread(
        http, f"{s.base}/producer/links", {"token": s.tokens.team, "tables": "all"}
    )
    assert status == 403


@pytest.mark.browser
async def test_producer_console_reissues_a_table_link(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{s.base}/producer?token={s.tokens.producer}")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    await page.get_by_label("Table number").fill("5")
    await page.get_by_role("button", name="Re-issue link").click()
    await expect(page.locator("#link-new")).to_contain_text(f"{s.base}/t/")
    await expect(page.locator("#status")).to_contain_text("1 old link(s) stopped working")
    assert (await asyncio.to_thread(http, f"{s.base}/t/{s.tokens.tables[5]}"))[0] == 403
