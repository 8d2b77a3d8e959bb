"""The big screen shows census-weighted figures and results by group with small groups hidden."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import phone_votes, recv_until
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("live_server", [{"TOWNHALL_BREAKDOWN_INTERVAL": "0.2"}], indirect=True)
async def test_screen_shows_weighted_figures_and_hides_small_groups(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    await page.goto(f"{s.base}/screen?token={s.tokens.display}")
    await page.wait_for_selector("#conn[data-state=connected]")
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        poll = next(p for p in event["polls"] if p["key"] == "warmup")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        await recv_until(producer, "ack")
        for _ in range(12):
            await phone_votes(s, poll["id"], "30-44", "bike")
        for _ in range(11):
            await phone_votes(s, poll["id"], "16-29", "car")
        for _ in range(3):
            await phone_votes(s, poll["id"], "65-plus", "walk")
        # The census-weighted result arrives as a marker on each bar.
        await expect(page.locator('li.hbar[data-key="walk"]')).to_have_attribute(
            "data-marker", re.compile(r"^\d"), timeout=10_000
        )
        await producer.send(json.dumps({"type": "screen", "id": new_id(), "mode": "breakdown"}))
        await recv_until(producer, "ack")
    await expect(page.locator("#view-breakdown")).to_be_visible(timeout=10_000)
    await expect(page.locator("#breakdown-help")).to_contain_text("How old are you?")
    head = page.locator(".grid-head")
    await expect(head).to_contain_text("30–44")
    await expect(head).to_contain_text("12 people")
    # 65+ (3 people) is hidden, and so is the next smallest (16–29, 11) so the total
    # cannot give it away: neither gets a column, and the legend names them.
    await expect(head).not_to_contain_text("65 or older")
    await expect(head).not_to_contain_text("16–29")
    await expect(page.locator("#breakdown-legend")).to_contain_text("65 or older")
    bike = page.locator('.grid-row[data-key="row-bike"] .cell[data-group="30-44"] .bar-value')
    await expect(bike).to_have_text("100%")
    assert await page.locator("#view-poll").is_hidden()
