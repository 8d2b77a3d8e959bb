"""The phone's allocation keypad keeps the running total within the budget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.browser import joined_phone
from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def open_poll(s: LiveServer, key: str) -> dict[str, Any]:
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_until(producer, "hello"))["event"]
        poll: dict[str, Any] = next(p for p in event["polls"] if p["key"] == key)
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        await recv_until(producer, "ack")
    return poll


async def test_allocation_total_cannot_pass_the_budget_and_left_updates(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx, phone, errors = await joined_phone(browser, s.base, s.tokens.code)
    await open_poll(s, "spread-100")
    summary = phone.locator("#budget-summary")
    await expect(summary).to_have_text("Given 0 points · left 100 points", timeout=10_000)

    await phone.get_by_label("Affordable housing").fill("60")
    await expect(summary).to_have_text("Given 60 points · left 40 points")
    # 70 more would make 130: the field is held at what is left.
    await phone.get_by_label("Parks and green space").fill("70")
    await expect(phone.get_by_label("Parks and green space")).to_have_value("40")
    await expect(summary).to_have_attribute("data-left", "0")
    await expect(phone.locator("#vote-status")).to_contain_text("would pass the budget")
    await phone.get_by_label("Affordable housing").fill("50")
    await expect(summary).to_have_text("Given 90 points · left 10 points")

    await phone.get_by_role("button", name="Vote").click()
    await expect(phone.locator("#vote-status")).to_contain_text("Vote received")
    await phone.reload()  # the stored ballot comes back with the hello
    await expect(phone.get_by_label("Parks and green space")).to_have_value("40", timeout=10_000)
    await expect(summary).to_have_text("Given 90 points · left 10 points")
    assert errors == []
    await ctx.close()


async def test_projects_show_what_is_left_and_disable_what_does_not_fit(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx, phone, _ = await joined_phone(browser, s.base, s.tokens.code)
    await open_poll(s, "capital-projects")
    summary = phone.locator("#budget-summary")
    await expect(summary).to_have_text("Chosen $0 · left $1,200,000", timeout=10_000)
    await phone.get_by_label("Youth center refit").check()
    await phone.get_by_label("Protected bike lanes").check()
    await expect(summary).to_have_text("Chosen $900,000 · left $300,000")
    # $250k playground fits; then only the $150k trees would not.
    await expect(phone.get_by_label("Repair the North Library roof")).to_be_enabled()
    await phone.get_by_label("New riverside playground").check()
    await expect(summary).to_have_text("Chosen $1,150,000 · left $50,000")
    await expect(phone.get_by_label("500 new street trees")).to_be_disabled()
    await ctx.close()
