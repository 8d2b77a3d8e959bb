"""Level 4: the phone page and the big-screen page in headless Chromium against the real server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def test_phone_joins_answers_and_votes_and_the_screen_shows_it(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    errors: list[str] = []
    phone_ctx = await browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    screen_ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    phone = await phone_ctx.new_page()
    screen = await screen_ctx.new_page()
    for page in (phone, screen):
        page.on("pageerror", lambda e: errors.append(str(e)))
    await screen.goto(f"{s.base}/screen?token={s.tokens.display}")
    await screen.wait_for_selector("#conn[data-state=connected]")

    await phone.goto(f"{s.base}/j/{s.tokens.code}")
    await phone.get_by_role("button", name="Join").click()
    await phone.wait_for_selector("#demographics:not([hidden])")
    await phone.get_by_label("30–44").check()
    await phone.get_by_label("Rent").check()
    await phone.get_by_role("button", name="Continue").click()
    await phone.wait_for_selector("#keypad:not([hidden])")
    await phone.wait_for_selector("#conn[data-state=connected]")

    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        poll = next(p for p in event["polls"] if p["kind"] == "single")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        await recv_until(producer, "ack")

    await phone.get_by_label("Bike").check(timeout=10_000)
    await phone.get_by_role("button", name="Vote").click()
    await phone.wait_for_selector("text=Vote received")

    bike = screen.locator('li.hbar[data-key="bike"] .bar-value')
    await expect(bike).to_have_text(re.compile(r"^1\s*100%$"), timeout=10_000)
    assert await screen.locator("#poll-prompt").text_content() == poll["prompt"]
    assert errors == []
    await phone_ctx.close()
    await screen_ctx.close()
