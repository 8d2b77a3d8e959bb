"""No serious or critical axe-core violation on the participant pages and the big screen,
in each of their main states."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.a11y import axe_violations, open_poll, producer_send
from tests.support.live import phone_votes
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "bypass_csp": True}


async def test_join_and_phone_pages_have_no_serious_axe_violations(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(**PHONE)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    found: list[str] = []

    await page.goto(f"{s.base}/join")
    found += await axe_violations(page, "join")
    await page.get_by_role("button", name="Join").click()  # empty code: the error shows
    await expect(page.locator("#join-error")).not_to_be_empty()
    found += await axe_violations(page, "join error")
    await page.get_by_label("Event code").fill(s.tokens.code)
    await page.get_by_role("button", name="Join").click()

    await page.wait_for_selector("#demographics:not([hidden])")
    await page.wait_for_selector("#conn[data-state=connected]")
    found += await axe_violations(page, "phone demographics")
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_selector("#keypad:not([hidden])")
    found += await axe_violations(page, "phone waiting")

    kinds = ("warmup", "top-priorities", "cut-order", "trust-before", "spread-100")
    for key in (*kinds, "capital-projects"):
        poll = await open_poll(s, key)
        await expect(page.locator("#poll-prompt")).to_have_text(poll["prompt"], timeout=10_000)
        found += await axe_violations(page, f"phone {poll['kind']} poll")

    await producer_send(s, {"type": "open_evaluation"})
    await page.wait_for_selector("#evaluation:not([hidden])", timeout=10_000)
    found += await axe_violations(page, "phone evaluation")
    await ctx.close()
    assert not found, "\n".join(found)
    assert errors == []


@pytest.mark.parametrize("live_server", [{"TOWNHALL_BREAKDOWN_INTERVAL": "0.2"}], indirect=True)
async def test_big_screen_has_no_serious_axe_violations_in_any_mode(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    found: list[str] = []
    await page.goto(f"{s.base}/screen?token={s.tokens.display}")
    await page.wait_for_selector("#conn[data-state=connected]")
    found += await axe_violations(page, "screen empty")
    poll = await open_poll(s, "warmup")
    await expect(page.locator("#poll-prompt")).to_have_text(poll["prompt"], timeout=10_000)
    for _ in range(10):  # one group big enough to be shown by group, the others hidden
        await phone_votes(s, poll["id"], "30-44", "bike")
    await phone_votes(s, poll["id"], "65-plus", "walk")
    await expect(page.locator('li.hbar[data-key="bike"]')).to_have_attribute(
        "data-marker", re.compile(r"^\d"), timeout=10_000
    )
    for mode in ("poll", "breakdown", "themes", "demographics", "join"):
        await producer_send(s, {"type": "screen", "mode": mode})
        await expect(page.locator(f"#view-{mode}")).to_be_visible(timeout=10_000)
        found += await axe_violations(page, f"screen {mode}")
        if mode == "breakdown":
            await expect(page.locator(".grid-row").first).to_be_visible(timeout=10_000)
            found += await axe_violations(page, "screen results by group")
    await ctx.close()
    assert not found, "\n".join(found)
    assert errors == []
