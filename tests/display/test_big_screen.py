"""The big screen in headless Chromium with a full room (twelve options, long labels,
English and Spanish): every view fits 1280×720 and 1920×1080 without scrolling or
spilling, its QR codes load, and its bars are as long as their figures say."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page
from websockets.asyncio.client import connect

from tests.support.live import join
from tests.support.room import Room, recv, write
from tests.support.screen_checks import (
    SETTLED,
    bars_out_of_proportion,
    spills,
    unloaded_qr_codes,
)

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1920, 1080)]
LANGUAGES = ["en", "es"]
POLLS = [
    "priority",
    "pick-three",
    "rank-all",
    "confidence-before",
    "confidence-after",
    "spread",
    "projects",
    "gap",
]
BY_GROUP = ["priority", "rank-all", "spread", "projects", "gap"]


@pytest.fixture
async def screens(room: Room, browser: Any) -> AsyncIterator[list[tuple[str, Page]]]:
    """One screen per size and language, all on the same display link."""
    pages = []
    for width, height in SIZES:
        for lang in LANGUAGES:
            ctx = await browser.new_context(viewport={"width": width, "height": height})
            page = await ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            url = f"{room.server.base}/screen?token={room.server.tokens.display}&lang={lang}"
            await page.goto(url)
            await page.wait_for_selector("body[data-view]", timeout=30_000)
            pages.append((f"{width}×{height} {lang}", page, errors))
    yield [(name, page) for name, page, _ in pages]
    for name, page, errors in pages:
        assert errors == [], f"{name}: {errors}"
        await page.context.close()


async def show(room: Room, screens: list[tuple[str, Page]], mode: str, **target: int) -> None:
    """The producer puts a view on the screens; wait until every screen shows it, drawn."""
    async with connect(room.server.ws_url("producer", room.server.tokens.producer)) as producer:
        await recv(producer, "hello")
        assert (await write(producer, type="screen", mode=mode, **target))["type"] == "ack"
    for _, page in screens:
        await page.wait_for_selector(f'body[data-view="{mode}"]', timeout=10_000)
        if "poll_id" in target:
            await page.wait_for_function(
                "() => document.querySelectorAll('.view:not([hidden]) [data-value]').length > 0",
                timeout=15_000,
            )
        await page.wait_for_function(SETTLED, timeout=10_000)


async def check(name: str, page: Page) -> list[str]:
    found = [f"{name}: {p}" for p in await spills(page)]
    found += [f"{name}: QR not loaded: {q}" for q in await unloaded_qr_codes(page)]
    return found


async def test_every_poll_fits_the_screen_and_its_bars_match_its_figures(
    room: Room, screens: list[tuple[str, Page]]
) -> None:
    found: list[str] = []
    for key in POLLS:
        await show(room, screens, "poll", poll_id=room.poll(key)["id"])
        for name, page in screens:
            where = f"{key} @ {name}"
            found += await check(where, page)
            found += [f"{where}: {b}" for b in await bars_out_of_proportion(page)]
            if room.poll(key)["kind"] == "multi":
                found += await says_once(where, page)
    assert not found, "\n".join(found)


async def says_once(where: str, page: Page) -> list[str]:
    """How many to pick is said once: by the hint beside the prompt, or by the
    prompt itself when the producer wrote it there ("… Pick up to three.")."""
    shown = " ".join(
        [await page.locator(f"#poll-{part}").inner_text() for part in ("prompt", "help")]
    ).lower()
    said = shown.count("pick up to") + shown.count("elija hasta")
    return [] if said == 1 else [f"{where}: says how many to pick {said} times: {shown!r}"]


async def test_results_by_group_fit_and_their_bars_match_their_figures(
    room: Room, screens: list[tuple[str, Page]]
) -> None:
    found: list[str] = []
    for key in BY_GROUP:
        await show(room, screens, "breakdown", poll_id=room.poll(key)["id"])
        for name, page in screens:
            await page.wait_for_selector(".grid-row", timeout=15_000)
            await page.wait_for_function(SETTLED, timeout=10_000)
            where = f"{key} by group @ {name}"
            found += await check(where, page)
            found += [f"{where}: {b}" for b in await bars_out_of_proportion(page)]
            # Groups of fewer than 10 never get a column, and say so.
            heads = await page.locator(".grid-head span small").all_text_contents()
            assert heads and all(int("".join(c for c in h if c.isdigit())) >= 10 for h in heads), (
                heads
            )
    assert not found, "\n".join(found)


async def test_room_themes_and_join_views_fit_and_show_their_figures(
    room: Room, screens: list[tuple[str, Page]]
) -> None:
    found: list[str] = []
    await show(room, screens, "demographics")
    for name, page in screens:
        found += await check(f"demographics @ {name}", page)
        found += [f"demographics @ {name}: {b}" for b in await bars_out_of_proportion(page)]
    await show(room, screens, "themes", question_id=room.question_id)
    for name, page in screens:
        await page.wait_for_selector(".theme-card", timeout=10_000)
        found += await check(f"themes @ {name}", page)
        cards = await page.locator(".theme-card h2").all_text_contents()
        assert (
            len(cards) >= 4
            and "Buses that run late enough for shift workers to get home safely" in cards
        )
    await show(room, screens, "join")
    for name, page in screens:
        found += await check(f"join @ {name}", page)
        big = await page.locator(".qr-large").bounding_box()
        assert big and big["height"] >= 0.55 * page.viewport_size["height"], big  # type: ignore[index]
        url = await page.locator(".join-url-large").text_content()
        assert url == f"{room.server.base.removeprefix('http://')}/j/{room.server.tokens.code}"
    assert not found, "\n".join(found)


async def test_bars_grow_smoothly_as_votes_arrive(room: Room, browser: Any) -> None:
    """A vote changes a bar's length by a transition, not a jump (the same element)."""
    page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    open_poll = room.poll("confidence-after")
    await page.goto(f"{room.server.base}/screen?token={room.server.tokens.display}")
    await show(room, [("1280", page)], "poll", poll_id=open_poll["id"])
    before = await page.evaluate("() => document.querySelector('#bars .hbar').dataset.value")
    await page.evaluate("() => { window.firstBar = document.querySelector('#bars .hbar'); }")
    token = await asyncio.to_thread(join, room.server)
    async with connect(room.server.ws_url("phone", token)) as phone:
        await recv(phone, "hello")
        key = open_poll["options"][0]["key"]
        reply = await write(phone, type="vote", poll_id=open_poll["id"], seq=1, choice=[key])
        assert reply["type"] == "ack", reply
    await page.wait_for_function(
        "v => document.querySelector('#bars .hbar').dataset.value !== v", arg=before, timeout=10_000
    )
    moving = await page.evaluate(
        "() => document.querySelector('#bars .hbar .bar-fill').getAnimations().length"
    )
    same = await page.evaluate("() => window.firstBar === document.querySelector('#bars .hbar')")
    assert same and moving >= 1
    await page.context.close()
