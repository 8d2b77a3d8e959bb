"""The phone's evaluation page in headless Chromium against the real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.database import db_rows
from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


async def test_phone_rates_the_day_gives_a_table_and_leaves_an_email(
    live_server: LiveServer, browser: Any
) -> None:
    s = live_server
    errors: list[str] = []
    ctx = await browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone = await ctx.new_page()
    phone.on("pageerror", lambda e: errors.append(str(e)))
    await phone.goto(f"{s.base}/j/{s.tokens.code}")
    await phone.get_by_role("button", name="Join").click()
    await phone.get_by_role("button", name="Continue").click()  # demographics skipped
    await expect(phone.locator("#conn")).to_have_attribute("data-state", "connected")
    await expect(phone.locator("#evaluation")).to_be_hidden()

    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        await recv_until(producer, "hello")
        await producer.send(json.dumps({"type": "open_evaluation", "id": new_id()}))
        await recv_until(producer, "ack")

    section = phone.locator("#evaluation")
    await expect(section).to_be_visible(timeout=10_000)
    themes = section.get_by_role("group", name="The themes reflected my table's views")
    await themes.get_by_label("2 · Disagree").check()
    fair = section.get_by_role("group", name="I had a fair chance to speak")
    await fair.get_by_label("5 · Strongly agree").check()
    await section.get_by_label("Which table are you at?").select_option("7")
    await section.get_by_role("button", name="Send my answers").click()
    await expect(phone.locator("#eval-status")).to_contain_text("answers were received")

    await section.get_by_label("Email for a later survey (optional)").fill("kim@example.org")
    await section.get_by_role("button", name="Keep me in touch").click()
    await expect(section.get_by_text("✓ Saved.")).to_be_visible()

    answers = db_rows(
        s.db_url,
        "SELECT q.key, a.value, p.table_number FROM evaluationanswer a "
        "JOIN evaluationquestion q ON q.id = a.question_id "
        "JOIN participant p ON p.id = a.participant_id ORDER BY q.key",
    )
    contacts = db_rows(s.db_url, "SELECT email FROM followup_contact")
    assert answers == [("fair-chance", 5, 7), ("themes", 2, 7)]
    assert contacts == [("kim@example.org",)]
    assert errors == []
    await ctx.close()
