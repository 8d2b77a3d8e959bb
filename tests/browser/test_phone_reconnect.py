"""The phone reconnects by itself after a server restart and re-syncs its poll and ballot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.browser import joined_phone
from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser


async def test_phone_survives_a_server_restart_and_shows_its_ballot(
    server_process: LiveServer, browser: Any
) -> None:
    s = server_process
    ctx, phone, errors = await joined_phone(browser, s.base, s.tokens.code)
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        poll = next(p for p in event["polls"] if p["kind"] == "multi")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        await recv_until(producer, "ack")
    await phone.get_by_label("Public transport").check(timeout=10_000)
    await phone.get_by_label("Libraries").check()
    await phone.get_by_role("button", name="Vote").click()
    await expect(phone.locator("#vote-status")).to_contain_text("Vote received")

    s.proc.kill()
    s.proc.wait(10)
    await expect(phone.locator("#conn")).to_have_attribute("data-state", "offline", timeout=10_000)
    port = int(s.base.rsplit(":", 1)[1])
    s.proc, _ = start_server(s.db_url, s.log, s.env, port=port)

    await expect(phone.locator("#conn")).to_have_attribute(
        "data-state", "connected", timeout=20_000
    )
    await expect(phone.locator("#poll-prompt")).to_have_text(poll["prompt"])
    await expect(phone.get_by_label("Public transport")).to_be_checked()
    await expect(phone.get_by_label("Libraries")).to_be_checked()
    await expect(phone.get_by_label("Parks and green space")).not_to_be_checked()
    await expect(phone.get_by_role("button", name="Change my vote")).to_be_visible()
    assert errors == []
    await ctx.close()
