"""A participant can join and vote with the keyboard alone, and the phone pages reflow to
320 CSS px (WCAG 1.4.10: the width of a 1280 px screen at 400 % zoom) without sideways
scrolling, with touch targets of at least 44 × 44 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.a11y import open_poll, tab_to
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def no_sideways_scroll(page: Any, state: str) -> None:
    sizes = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{state}: page is {sizes[0]} px wide in a {sizes[1]} px view"


async def small_targets(page: Any) -> list[str]:
    """Visible buttons, text fields and choice rows smaller than 44 × 44 CSS px."""
    small: list[str] = await page.evaluate(
        """() => Array.from(document.querySelectorAll(
                'button, input:not([type=radio]):not([type=checkbox]), select, label.choice'))
            .filter(el => el.offsetParent !== null)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.width < 44 || r.height < 44)
            .map(([el, r]) => `${el.tagName} ${el.id || el.textContent.trim().slice(0, 30)}`
                              + ` ${Math.round(r.width)}×${Math.round(r.height)}`)"""
    )
    return small


async def test_keyboard_only_participant_joins_skips_demographics_and_votes(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 360, "height": 740})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/join")
    code = page.get_by_label("Event code")
    await tab_to(page, code)
    await page.keyboard.type(s.tokens.code)
    await page.keyboard.press("Enter")

    await page.wait_for_selector("#demographics:not([hidden])")
    await tab_to(page, page.get_by_role("button", name="Continue"))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#keypad:not([hidden])")

    poll = await open_poll(s, "warmup")
    await expect(page.locator("#poll-prompt")).to_have_text(poll["prompt"], timeout=10_000)
    first = page.get_by_label(poll["options"][0]["label"])
    await tab_to(page, first)
    await page.keyboard.press("Space")
    await expect(first).to_be_checked()
    await tab_to(page, page.get_by_role("button", name="Vote"))
    await page.keyboard.press("Enter")
    await expect(page.locator("#vote-status")).to_contain_text("Vote received")

    await page.keyboard.press("Shift+Tab")  # the focus ring is drawn (not outline: none)
    outline = await page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert errors == []
    await ctx.close()


async def test_phone_pages_reflow_at_320_px_with_44_px_targets(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    ctx = await browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    page = await ctx.new_page()
    found: list[str] = []
    await page.goto(f"{s.base}/join")
    await no_sideways_scroll(page, "join")
    found += await small_targets(page)
    await page.get_by_label("Event code").fill(s.tokens.code)
    await page.get_by_role("button", name="Join").click()
    await page.wait_for_selector("#demographics:not([hidden])")
    await no_sideways_scroll(page, "demographics")
    found += await small_targets(page)
    await page.get_by_role("button", name="Continue").click()
    for key in ("top-priorities", "cut-order", "spread-100", "capital-projects"):
        poll = await open_poll(s, key)
        await expect(page.locator("#poll-prompt")).to_have_text(poll["prompt"], timeout=10_000)
        await no_sideways_scroll(page, key)
        found += [f"{key}: {t}" for t in await small_targets(page)]
    await ctx.close()
    assert not found, "touch targets under 44 px:\n" + "\n".join(found)
