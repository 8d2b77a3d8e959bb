"""A figure the small-groups rule hides reads as hidden on the big screen, never as a
number: not "0 voted" on a site's screen while its votes are suppressed, and not
"under 10" for a demographic answer (a suppressed group may be bigger: its partner)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import join_at, recv_until
from tests.support.screen_checks import spills
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1280, 720)]
SITE = "north-library"


async def producer_says(s: LiveServer, **msg: Any) -> dict[str, Any]:
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        hello = await recv_until(producer, "hello")
        if msg:
            await producer.send(json.dumps({"id": new_id(), **msg}))
            assert (await recv_until(producer, "ack", "error"))["type"] == "ack"
        return hello


async def one_voter_at_the_site(s: LiveServer, poll_id: int) -> None:
    """One phone at the site answers its age and votes: one voter, so the site's
    votes are suppressed on its screen, and the age answers everywhere."""
    token = await asyncio.to_thread(join_at, s.base, s.tokens.code, SITE)
    async with connect(s.ws_url("phone", token)) as phone:
        await recv_until(phone, "hello")
        answers = {"type": "demographics", "id": new_id(), "answers": {"age": "30-44"}}
        await phone.send(json.dumps(answers))
        await recv_until(phone, "ack")
        vote = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": ["bike"]}
        await phone.send(json.dumps(vote))
        assert (await recv_until(phone, "ack", "error"))["type"] == "ack"


async def screen(
    browser: Any, s: LiveServer, token: str, size: tuple[int, int], errors: list[str]
) -> Page:
    ctx = await browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/screen?token={token}")
    return page


async def test_a_suppressed_site_tally_and_hidden_answers_read_as_hidden(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    s = live_server
    hello = await producer_says(s)
    poll = next(p for p in hello["event"]["polls"] if p["kind"] == "single")
    await producer_says(s, type="open_poll", poll_id=poll["id"])
    await one_voter_at_the_site(s, poll["id"])
    errors: list[str] = []

    for width, height in SIZES:
        page = await screen(browser, s, s.tokens.site_displays[SITE], (width, height), errors)
        await page.wait_for_selector('body[data-view="poll"] #bars .hbar')
        await page.screenshot(path=str(tmp_path / f"site-poll-hidden-{width}x{height}.png"))
        assert await page.locator("#turnout").text_content() == "–"
        words = await page.locator("#turnout-words").text_content()
        assert words is not None and "hidden" in words and "voted" not in words, words
        values = await page.locator("#bars .bar-value").all_text_contents()
        assert len(values) == len(poll["options"]) and all(v == "hidden" for v in values), values
        assert await page.locator("#bars [data-value]").count() == 0  # no bar has a figure
        assert "hidden" in (await page.locator("#poll-legend").text_content() or "")
        assert await spills(page) == []
        await page.context.close()

    # The whole event's screen shows the vote; its room view hides the one age answer.
    await producer_says(s, type="screen", mode="demographics")
    for width, height in SIZES:
        page = await screen(browser, s, s.tokens.display, (width, height), errors)
        await page.wait_for_selector('body[data-view="demographics"] .demo-q .hbar')
        await page.screenshot(path=str(tmp_path / f"room-hidden-{width}x{height}.png"))
        age, housing = page.locator(".demo-q").nth(0), page.locator(".demo-q").nth(1)
        values = await age.locator(".bar-value").all_text_contents()
        assert values and all(v.startswith("hidden") for v in values), values
        # Nobody answered this one: its figures are shown, and they are zeros.
        values = await housing.locator(".bar-value").all_text_contents()
        assert values and all(v.startswith("0%") for v in values), values
        assert "under 10" not in await page.locator("#view-demographics").inner_text()
        help_text = await page.locator("#demographics-help").text_content()
        assert help_text == "Too few people have answered yet to show how many.", help_text
        assert await spills(page) == []
        await page.context.close()
    assert errors == []
