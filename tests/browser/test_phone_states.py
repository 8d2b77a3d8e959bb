"""The phone is always in one clear state (waiting, voting, or thanked for a closed
poll), never loses a ballot being filled in, and the join page names the meeting."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.browser import joined_phone
from tests.support.room import recv, write
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def produce(s: LiveServer, kind: str, key: str) -> None:
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv(producer, "hello"))["event"]
        poll = next(p for p in event["polls"] if p["key"] == key)
        assert (await write(producer, type=kind, poll_id=poll["id"]))["type"] == "ack"


async def test_a_closed_poll_thanks_the_participant_alone_then_the_next_poll_comes(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx, phone, errors = await joined_phone(browser, s.base, s.tokens.code)
    keypad = phone.locator("#keypad")
    await expect(keypad).to_have_attribute("data-state", "waiting")
    await produce(s, "open_poll", "warmup")
    await phone.get_by_label("Bike").check(timeout=10_000)
    await phone.get_by_role("button", name="Vote").click()
    await expect(phone.locator("#vote-status")).to_contain_text("Vote received")
    await produce(s, "close_poll", "warmup")
    await expect(keypad).to_have_attribute("data-state", "closed")
    await expect(phone.locator("#poll-prompt")).to_have_text("This poll is closed. Thank you!")
    await expect(phone.locator("#poll-help")).to_contain_text("Your vote was counted.")
    assert "Waiting for the next poll" not in (await keypad.inner_text())
    assert await phone.locator("#vote-form input").count() == 0
    await produce(s, "open_poll", "top-priorities")
    await expect(keypad).to_have_attribute("data-state", "voting")
    await expect(phone.get_by_label("Public transport")).to_be_visible()
    assert errors == []
    await ctx.close()


async def test_an_allocation_being_filled_in_survives_its_poll_being_reopened(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx, phone, errors = await joined_phone(browser, s.base, s.tokens.code)
    await produce(s, "open_poll", "spread-100")
    housing = phone.get_by_label("Affordable housing")
    await housing.fill("35", timeout=10_000)
    await phone.get_by_label("Libraries").fill("15")
    # The producer presses Open again (say, to set a timer): nothing typed is lost.
    await produce(s, "open_poll", "spread-100")
    await expect(phone.locator("#budget-summary")).to_have_text("Given 50 points · left 50 points")
    # Closed and reopened: the closed state shows, then the same figures come back.
    await produce(s, "close_poll", "spread-100")
    await expect(phone.locator("#keypad")).to_have_attribute("data-state", "closed")
    await produce(s, "open_poll", "spread-100")
    await expect(housing).to_have_value("35")
    await expect(phone.get_by_label("Libraries")).to_have_value("15")
    await phone.get_by_role("button", name="Vote").click()
    await expect(phone.locator("#vote-status")).to_contain_text("Vote received")
    assert errors == []
    await ctx.close()


async def test_the_join_page_names_the_meeting_in_the_phones_language(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await ctx.new_page()
    await page.goto(f"{s.base}/j/{s.tokens.code}")
    await expect(page.locator(".join-event")).to_have_text("Riverton: Our City, Our Budget")
    await page.goto(f"{s.base}/j/{s.tokens.code}?lang=es")
    await expect(page.locator(".join-event")).to_have_text(
        "Riverton: nuestra ciudad, nuestro presupuesto"
    )
    await ctx.close()
