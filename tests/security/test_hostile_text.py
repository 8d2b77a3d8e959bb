"""Hostile text is shown as text on every page: comments on the theme team's
page, and event, question, poll and demographic text (from a hostile event
file) on the big screen, the table page and the phone. No script ever runs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from websockets.asyncio.client import connect

from tests.support.example import EVENT_FILE, load_example
from tests.support.live import HOSTILE, recv_json, reply_to
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.browser

IMG, SCRIPT, SVG = HOSTILE
TITLE = f"Riverton {SCRIPT}"
QUESTION = f"{IMG} What do you value?"
PROMPT = f"How did you get here? {SVG}"
AGE_PROMPT = f"How old are you? {IMG}"


def hostile_event_file(tmp_path: Path) -> Path:
    text = EVENT_FILE.read_text(encoding="utf-8")
    swaps = {
        '"Riverton: Our City, Our Budget"': TITLE,
        '"What do you value most about living in Riverton, and what should the city protect?"': (
            QUESTION
        ),
        '"How did you get here today?"': PROMPT,
        '"Car"': IMG,
        '"Bike"': SVG,
        '"How old are you?"': AGE_PROMPT,
    }
    for old, new in swaps.items():
        assert old in text, old
        text = text.replace(old, f"'{new}'")  # TOML literal strings: no escapes needed
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hostile_server(tmp_path: Path, db_url: str) -> Iterator[LiveServer]:
    tokens = load_example(db_url, hostile_event_file(tmp_path))
    log = tmp_path / "server.log"
    proc, base = start_server(db_url, log)
    yield LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, {})
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


async def open_page(browser: Any, url: str, dialogs: list[str]) -> Page:
    page: Page = await (await browser.new_context()).new_page()
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(url)
    return page


async def assert_inert(page: Page) -> None:
    """The markup in the text did not become elements."""
    assert await page.locator("img[src=x]").count() == 0
    assert await page.locator("svg[onload]").count() == 0
    assert await page.locator("script:not([src])").count() == 0


async def test_hostile_comments_show_literally_on_the_team_page(
    hostile_server: LiveServer, browser: Any
) -> None:
    s = hostile_server
    dialogs: list[str] = []
    page = await open_page(browser, f"{s.base}/team?token={s.tokens.team}", dialogs)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    async with connect(s.ws_url("table", s.tokens.tables[1])) as table:
        await recv_json(table)
        for seq, text in enumerate(HOSTILE, start=1):
            mid = f"00000000-0000-4000-8000-00000000000{seq}"
            await table.send(json.dumps({"type": "comment", "id": mid, "seq": seq, "text": text}))
            assert (await reply_to(table, mid))["type"] == "ack"
    comments = page.locator("#comments")
    for text in HOSTILE:
        await expect(comments).to_contain_text(text, timeout=10_000)
    await expect(page.locator("#event-title")).to_have_text(TITLE)
    await assert_inert(page)
    assert dialogs == []


async def test_hostile_event_text_shows_literally_on_screen_table_and_phone(
    hostile_server: LiveServer, browser: Any
) -> None:
    s = hostile_server
    dialogs: list[str] = []
    screen = await open_page(browser, f"{s.base}/screen?token={s.tokens.display}", dialogs)
    table = await open_page(browser, f"{s.base}/t/{s.tokens.tables[2]}", dialogs)
    phone = await open_page(browser, f"{s.base}/j/{s.tokens.code}", dialogs)
    await phone.get_by_role("button", name="Join").click()
    await expect(phone.locator("#demographics")).to_contain_text(AGE_PROMPT, timeout=10_000)
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event = (await recv_json(producer))["event"]
        poll = next(p for p in event["polls"] if p["key"] == "warmup")
        mid = "00000000-0000-4000-8000-0000000000aa"
        await producer.send(json.dumps({"type": "open_poll", "id": mid, "poll_id": poll["id"]}))
        assert (await reply_to(producer, mid))["type"] == "ack"
    await expect(screen.locator("#event-title")).to_have_text(TITLE, timeout=10_000)
    await expect(screen.locator("#poll-prompt")).to_have_text(PROMPT, timeout=10_000)
    await expect(screen.locator("#bars")).to_contain_text(IMG)
    await expect(screen.locator("#bars")).to_contain_text(SVG)
    await expect(table.locator("body")).to_contain_text(QUESTION, timeout=10_000)
    await expect(phone.locator("#event-title")).to_have_text(TITLE)
    await expect(phone.locator("#demographics")).to_contain_text(AGE_PROMPT)
    for page in (screen, table, phone):
        await assert_inert(page)
    assert dialogs == []
