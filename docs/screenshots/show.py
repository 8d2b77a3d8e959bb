"""Regenerate the README's screenshots of the big screen, the producer console and
the phone against a real server with the example event and a filled room:
``python docs/screenshots/show.py`` (needs Chromium; themes use the real model).
Each screen shot is also checked as the browser tests check it (nothing spills,
QR codes loaded, bars match their figures) and problems are printed."""

from __future__ import annotations

import asyncio
import csv
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from take import ARGS, CHROMIUM, HERE, ROOT, load_example, start_server

sys.path.insert(0, str(ROOT))
from websockets.asyncio.client import connect

from server.cli.simulation import SAMPLE
from tests.support.room import Room, fill_room, recv, write
from tests.support.screen_checks import (
    SETTLED,
    bars_out_of_proportion,
    spills,
    unloaded_qr_codes,
)
from tests.support.server import LiveServer

ENV = {
    "TOWNHALL_THEMING": "true",
    "TOWNHALL_EMBEDDER": "minilm",
    "TOWNHALL_BREAKDOWN_INTERVAL": "1",
}
# (file, width, height, language, screen mode, poll key or None)
SCREENS = [
    ("screen-poll.png", 1920, 1080, "en", "poll", "top-priorities"),
    ("screen-ranking-720.png", 1280, 720, "en", "poll", "cut-order"),
    ("screen-budget-es.png", 1920, 1080, "es", "poll", "capital-projects"),
    ("screen-by-group.png", 1920, 1080, "en", "breakdown", "spread-100"),
    ("screen-themes.png", 1920, 1080, "en", "themes", None),
    ("screen-room-720.png", 1280, 720, "en", "demographics", None),
    ("screen-join.png", 1920, 1080, "en", "join", None),
]


def values_comments() -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f) if r["question"] == "values-love"]


async def show(room: Room, mode: str, key: str | None) -> None:
    target: dict[str, Any] = {}
    if key:
        target["poll_id"] = room.poll(key)["id"]
    if mode == "themes":
        target["question_id"] = room.question_id
    async with producer(room.server) as ws:
        await recv(ws, "hello")
        await write(ws, type="screen", mode=mode, **target)


def producer(server: LiveServer) -> Any:
    return connect(server.ws_url("producer", server.tokens.producer))


async def screens(browser: Any, room: Room) -> None:
    for name, width, height, lang, mode, key in SCREENS:
        await show(room, mode, key)
        page = await browser.new_page(viewport={"width": width, "height": height})
        await page.goto(f"{room.server.base}/screen?token={room.server.tokens.display}&lang={lang}")
        await page.wait_for_selector(f'body[data-view="{mode}"]', timeout=30_000)
        await asyncio.sleep(1.5)  # breakdowns and figures arrive after the first paint
        await page.wait_for_function(SETTLED)
        problems = await spills(page) + await unloaded_qr_codes(page)
        if mode in ("poll", "breakdown", "demographics"):
            problems += await bars_out_of_proportion(page)
        await page.screenshot(path=str(HERE / name))
        print(name, "ok" if not problems else problems)
        await page.close()


async def console(browser: Any, room: Room) -> None:
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    await page.goto(f"{room.server.base}/producer?token={room.server.tokens.producer}")
    await page.wait_for_selector("#polls li")
    await asyncio.sleep(1.0)
    await page.screenshot(path=str(HERE / "console.png"))
    print("console.png")
    await page.close()


async def phone(browser: Any, room: Room) -> None:
    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await ctx.new_page()
    await page.goto(f"{room.server.base}/j/{room.server.tokens.code}")
    await page.screenshot(path=str(HERE / "phone-join.png"))
    await page.get_by_role("button", name="Join").click()
    await page.wait_for_selector("#demographics:not([hidden])")
    await page.get_by_label("30–44").check()
    await page.get_by_label("Rent").check()
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_selector("#keypad[data-state=voting]")
    await page.get_by_label("Affordable housing").fill("40")
    await page.get_by_label("Public transport").fill("25")
    await page.screenshot(path=str(HERE / "phone-poll.png"))
    print("phone-join.png, phone-poll.png")
    await ctx.close()


async def open_the_budget_poll(room: Room) -> None:
    """For the console and the phone: the allocation poll open, the screens following."""
    async with producer(room.server) as ws:
        await recv(ws, "hello")
        await write(ws, type="close_poll", poll_id=room.event["polls"][-1]["id"])
        await write(ws, type="screen_follow", follow=True)
        await write(ws, type="open_poll", poll_id=room.poll("spread-100")["id"], seconds=300)


async def shoot(room: Room) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        await screens(browser, room)
        await open_the_budget_poll(room)
        await console(browser, room)
        await phone(browser, room)
        await browser.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="townhall-shots-"))
    db_url = f"sqlite+aiosqlite:///{tmp / 'shots.db'}"
    tokens = load_example(db_url)
    log = tmp / "server.log"
    proc, base = start_server(db_url, log, ENV)
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, ENV)
    try:
        room = asyncio.run(fill_room(server, values_comments(), long_labels=False))
        asyncio.run(shoot(room))
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"screenshots written to {HERE}")


if __name__ == "__main__":
    main()
