"""A full hall on the workbench, in Chromium against the real server and the real
embedding model: 500 tables have typed 5,000 comments, curated to 50 themes. A
member drags a comment into another theme, merges two themes by dropping one on
the other, publishes after the page says what it will publish — and the big
screen shows the theme without anyone touching the producer console. axe-core
finds nothing serious on the page in that state."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.a11y import axe_violations
from tests.support.example import load_example
from tests.support.hall import MAX_SIZE, current, fill_hall, hall_event, recv_type
from tests.support.server import FAILED, LiveServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.model]
COMMENTS = 5000
THEMES = 50
WAIT = 20_000  # ms, for each step on the page: a shared two-core machine


@dataclass
class Hall:
    server: LiveServer
    question_id: int


@pytest.fixture(scope="module")
def hall(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Hall]:
    tmp = tmp_path_factory.mktemp("hall")
    db_url = f"sqlite+aiosqlite:///{tmp / 'hall.db'}"
    tokens = load_example(db_url, hall_event(tmp))
    env = {"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "minilm"}
    log = tmp / "server.log"
    proc, base = start_server(db_url, log, env)
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, env)
    try:
        # The Polis town conversations, each comment typed by several tables: a town
        # meeting's words, and the model embeds ~1,100 distinct texts, not 5,000.
        themes = asyncio.run(fill_hall(server.ws, tokens, COMMENTS, THEMES, civic=True))
        yield Hall(server, themes["question_id"])
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if any(item.stash.get(FAILED, False) for item in request.session.items):
            print(f"--- server log ---\n{server.log_text()[-20000:]}")


async def themes_now(s: LiveServer, q: int) -> dict[str, dict[str, Any]]:
    async with connect(s.ws_url("team", s.tokens.team), max_size=MAX_SIZE) as team:
        await recv_type(team, "hello", 60)
        return {t["key"]: t for t in (await current(team, q))["themes"]}


def row(page: Any, key: str) -> Any:
    return page.locator(f'#themes li.trow[data-key="{key}"]')


@pytest.mark.timeout(2400)  # seeding 5,000 comments through the model takes minutes here
async def test_a_full_hall_drag_merge_and_publish_reach_the_big_screen_without_the_producer(
    hall: Hall, browser: Any
) -> None:
    s, q = hall.server, hall.question_id
    trouble: list[str] = []
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(WAIT)
    page.on("pageerror", lambda e: trouble.append(str(e)))
    await page.goto(f"{s.base}/team?token={s.tokens.team}")
    await page.fill("#member-name", "Noor")
    await page.dispatch_event("#member-name", "change")
    await expect(page.locator("#themes li.trow")).to_have_count(THEMES, timeout=60_000)
    await expect(page.locator('li.trow[data-key="_all"] .t-size .n')).to_have_text("5,000")

    screen_ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    screen = await screen_ctx.new_page()
    screen.on("pageerror", lambda e: trouble.append("screen: " + str(e)))
    await screen.goto(f"{s.base}/screen?token={s.tokens.display}")
    await expect(screen.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)

    keys = await page.locator("#themes li.trow").evaluate_all("els => els.map(e => e.dataset.key)")
    before = await themes_now(s, q)
    # 1. A comment of the open theme (the first) dragged onto another theme.
    comment = page.locator("#comments li.crow").first
    cid = int(await comment.get_attribute("data-id") or 0)
    target = before[keys[4]]
    await comment.drag_to(row(page, target["key"]))
    await expect(page.locator("#status")).to_contain_text("Moved ", timeout=WAIT)
    moved = set((await themes_now(s, q))[target["key"]]["members"]) - set(target["members"])
    assert cid in moved
    # Its near-duplicates (the same words typed at other tables) go with it, and the
    # page says so.
    also = len(moved) - 1
    said = f" ({also} near-duplicate{'s' if also > 1 else ''} of it included)" if also else ""
    await expect(page.locator("#status")).to_have_text(
        f"Moved {len(moved)} comment{'s' if also else ''}{said} to “{target['label']}”."
    )
    await expect(page.locator(f'#comments li.crow[data-id="{cid}"]')).to_have_count(0)
    await expect(row(page, target["key"]).locator(".t-size .n")).to_have_text(
        f"{target['size'] + len(moved):,}"
    )

    # 2. One theme dropped on another: merged.
    source, into = before[keys[6]], before[keys[7]]
    await row(page, source["key"]).drag_to(row(page, into["key"]))
    await expect(page.locator("#status")).to_have_text(
        f"Merged “{source['label']}” into “{into['label']}” (u undoes it).", timeout=WAIT
    )
    await expect(row(page, source["key"])).to_have_count(0)
    merged = (await themes_now(s, q))[into["key"]]
    assert merged["size"] == source["size"] + into["size"]
    await expect(row(page, into["key"]).locator(".t-size .n")).to_have_text(f"{merged['size']:,}")

    # 3. Publish: the page says exactly what goes to the screens and asks first.
    await row(page, into["key"]).locator("input.pick").check()
    await page.click("#publish")
    dialog = page.locator("#publish-dialog")
    await expect(dialog.locator("#publish-h")).to_have_text("Publish 1 theme to the screens?")
    # (a machine label is recomputed when its theme's members change: read it now)
    await expect(dialog.locator("#publish-list li.adding .p-label")).to_have_text([merged["label"]])
    await dialog.locator("#publish-confirm").click()
    await expect(page.locator("#status")).to_contain_text("Published 1 theme", timeout=WAIT)
    await expect(row(page, into["key"]).locator(".badge.on-screens")).to_be_visible()

    # 4. The big screen puts the theme up by itself: nobody touched the producer console.
    await expect(screen.locator("#view-themes")).to_be_visible(timeout=WAIT)
    await expect(screen.locator("#view-themes")).to_contain_text(merged["label"], timeout=WAIT)

    # 5. axe on the workbench as it is now (its own context: axe needs bypass_csp).
    axe_ctx = await browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    checked = await axe_ctx.new_page()
    await checked.goto(f"{s.base}/team?token={s.tokens.team}")
    await expect(checked.locator("#themes li.trow")).to_have_count(THEMES - 1, timeout=60_000)
    found = await axe_violations(checked, "workbench, full hall")
    assert not found, "\n".join(found)
    assert trouble == []
    for c in (ctx, screen_ctx, axe_ctx):
        await c.close()
