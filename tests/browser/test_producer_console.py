"""The producer console in headless Chromium against the real server: polls made
from published themes, the evaluation survey with its flagged tables, live turnout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, expect
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import join, recv_until
from tests.support.server import LiveServer
from tests.support.workbench import THEMING, biggest, op, seed

pytestmark = pytest.mark.browser


async def producer_page(s: LiveServer, browser: Any, errors: list[str]) -> Page:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page: Page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/producer?token={s.tokens.producer}")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    return page


@pytest.mark.parametrize("live_server", [THEMING], indirect=True)
async def test_poll_from_published_themes_appears_and_opens(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    errors: list[str] = []
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        themes = await seed(s, team, 40)
        q = themes["question_id"]
        chosen = biggest(themes, 3)
        ack = await op(team, "publish", q, themes={t["key"]: t["version"] for t in chosen})
        assert ack["type"] == "ack" and ack["published"] == 3, ack
    page = await producer_page(s, browser, errors)
    item = page.locator(f'#from-themes li[data-question="{q}"]')
    await expect(item).to_contain_text("3 published themes")
    polls_before = await page.locator("#polls li").count()
    await item.locator("select.ft-kind").select_option("ranking")
    await item.locator("button.ft-make").click()
    await expect(page.locator("#status")).to_contain_text("made from the published themes")
    # The new draft is in the poll list (pushed as a `poll` message) and can be opened.
    await expect(page.locator("#polls li")).to_have_count(polls_before + 1)
    new = page.locator("#polls li").last
    await expect(new.locator(".poll-kind")).to_have_text("ranking")
    await expect(new).to_have_attribute("data-status", "draft")
    await new.get_by_role("button", name="Open poll").click()
    await expect(new).to_have_attribute("data-status", "open")
    async with connect(s.ws_url("producer", s.tokens.producer)) as prod:
        hello = await recv_until(prod, "hello")
    made = next(p for p in hello["event"]["polls"] if p["status"] == "open")
    assert made["kind"] == "ranking"
    assert {o["key"] for o in made["options"]} == {t["key"] for t in chosen}
    # Too many choices for a multi poll: the server's refusal is shown.
    await item.locator("select.ft-kind").select_option("multi")
    await item.locator("input.ft-max").fill("9")
    await item.locator("button.ft-make").click()
    await expect(page.locator("#status")).to_contain_text("Refused")
    assert errors == []


async def test_evaluation_survey_opens_shows_summary_and_flags_tables(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    errors: list[str] = []
    page = await producer_page(s, browser, errors)
    await expect(page.locator("#evaluation-status")).to_have_text("draft")
    await expect(page.locator("#evaluation-close")).to_be_disabled()
    await page.locator("#evaluation-open").click()
    await expect(page.locator("#evaluation-status")).to_have_text("open")
    await expect(page.locator("#evaluation-open")).to_be_disabled()

    # Four people at table 3 say the themes missed their views; two at table 5 are happy.
    for table, themes_score in ((3, 1), (3, 2), (3, 1), (3, 2), (5, 5), (5, 4)):
        async with connect(s.ws_url("phone", join(s))) as phone:
            hello = await recv_until(phone, "hello")
            keys = [q["key"] for q in hello["evaluation"]["questions"]]
            assert "themes" in keys
            msg = {"type": "evaluation", "id": new_id(), "answers": {"themes": themes_score}}
            await phone.send(json.dumps(msg | {"table": table}))
            assert (await recv_until(phone, "ack", "error"))["type"] == "ack"

    await expect(page.locator("#evaluation-respondents")).to_have_text("6")
    await expect(page.locator("#evaluation-flagged")).to_contain_text("1 table(s) flagged")
    flagged = page.locator("#evaluation-flagged-tables li")
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_have_text("Table 3 — mean 1.50 from 4 answers")
    themes_row = page.locator('#evaluation-questions tr[data-key="themes"]')
    await expect(themes_row).to_contain_text("2.50")  # (1+2+1+2+5+4) / 6

    await page.locator("#evaluation-close").click()
    await expect(page.locator("#evaluation-status")).to_have_text("closed")
    assert errors == []


async def test_turnout_per_poll_is_live_and_survives_a_reload(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    errors: list[str] = []
    page = await producer_page(s, browser, errors)
    first = page.locator("#polls li").first
    await first.get_by_role("button", name="Open poll").click()
    await expect(first).to_have_attribute("data-status", "open")
    poll_id = int(await first.get_attribute("data-poll") or 0)
    for _ in range(2):
        async with connect(s.ws_url("phone", join(s))) as phone:
            hello = await recv_until(phone, "hello")
            poll = hello["poll"]
            assert poll["id"] == poll_id
            choice = [poll["options"][0]["key"]]
            if poll["kind"] == "scale":
                choice = [poll["options"][-1]["key"]]
            vote = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": choice}
            await phone.send(json.dumps(vote))
            assert (await recv_until(phone, "ack", "error"))["type"] == "ack"
    await expect(first.locator(".turnout")).to_have_text("2 votes")
    # A re-render (another poll change) keeps the count, and so does a fresh hello.
    await page.reload()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    await expect(page.locator(f'#polls li[data-poll="{poll_id}"] .turnout')).to_have_text("2 votes")
    assert errors == []


@pytest.mark.parametrize("width", [390, 1440])
async def test_the_poll_list_reads_on_a_phone_and_a_laptop(
    live_server: LiveServer, browser: Any, width: int, tmp_path: Any
) -> None:
    """Seen on a phone (390 px): the poll list ran 67 px off the page, each prompt one
    word per line under a status chip, the buttons cut off; on a laptop the chip
    "not opened yet" wrapped onto three lines."""
    s = live_server
    errors: list[str] = []
    ctx = await browser.new_context(viewport={"width": width, "height": 844})
    page: Page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{s.base}/producer?token={s.tokens.producer}")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#polls li").first).to_be_visible()
    sizes = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"the page is {sizes[0]} px wide in a {sizes[1]} px view"
    rows = page.locator("#polls li")
    for i in range(await rows.count()):
        row = rows.nth(i)
        prompt = await row.locator(".poll-prompt").bounding_box()
        chip = await row.locator(".chip").bounding_box()
        buttons = await row.locator("button").evaluate_all(
            "bs => bs.map(b => b.getBoundingClientRect().right)"
        )
        assert prompt and prompt["width"] >= min(300, width * 0.8), f"row {i}: {prompt}"
        assert chip and chip["height"] < 30, f"row {i}: the status chip wraps ({chip})"
        assert max(buttons) <= width, f"row {i}: a button is cut off at {max(buttons)} px"
    await page.screenshot(path=str(tmp_path / f"producer-{width}.png"), full_page=True)
    assert errors == []
