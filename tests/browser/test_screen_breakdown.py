"""The big screen shows census-weighted figures and a by-group table with small groups hidden."""

from __future__ import annotations

import json
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
        await expect(page.locator('li.bar[data-key="walk"] .bar-value')).to_contain_text(
            "weighted", timeout=10_000
        )
        await producer.send(json.dumps({"type": "screen", "id": new_id(), "mode": "breakdown"}))
        await recv_until(producer, "ack")
    table = page.locator("table.crosstab").first
    await expect(table).to_be_visible(timeout=10_000)
    await expect(table.locator("caption")).to_have_text("How old are you?")
    row_65 = table.locator("tbody tr", has_text="65 or older")
    await expect(row_65).to_contain_text("fewer than 10")
    await expect(table.locator("tbody tr", has_text="30–44 (12)")).to_contain_text("100%")
    assert await page.locator("#view-poll").is_hidden()
