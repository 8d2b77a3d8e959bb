"""Regenerate the README's screenshots against a real server:
``python docs/screenshots/take.py`` (needs Chromium for the pages).

The facilitator's two clients, then the theme team's workbench and the
traceability page at 1440×900 with a full hall: 500 tables type 5,000 comments
(the Polis town conversations, each typed by several tables) through the real
embedding model, curated to 50 themes (several minutes).
``--hall DIR`` reuses a hall kept by ``bench/workbench_render.py --keep DIR``;
``--only workbench`` skips the facilitator's clients."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect  # noqa: E402

from table_client.endpoint import table_ws_base  # noqa: E402
from table_client.outbox import Outbox, table_key  # noqa: E402
from table_client.sender import Sender  # noqa: E402
from table_client.tui import TableApp  # noqa: E402
from tests.support.browser import ARGS, CHROMIUM  # noqa: E402
from tests.support.example import load_example  # noqa: E402
from tests.support.server import start_server  # noqa: E402
from tests.support.hall import (  # noqa: E402
    MAX_SIZE,
    current,
    fill_hall,
    hall_event,
    hall_texts,
    recv_type,
    team_op,
    type_comments,
)

STAFF = {"width": 1440, "height": 900}

COMMENTS = [
    "Night buses after 11pm so shift workers can get home",
    "Keep the libraries open on Sundays, families use them",
    "Safer crossings near the primary schools on Elm Road",
]


async def tui(base: str, token: str, tmp: Path) -> None:
    ws_base = table_ws_base(base)
    sender = Sender(ws_base, token, Outbox(tmp / "outbox.sqlite3", table_key(ws_base, token)))
    app = TableApp(sender)
    async with app.run_test(size=(100, 30)) as pilot:
        await asyncio.sleep(1.5)
        for text in COMMENTS:
            await pilot.press(*text)
            await pilot.press("enter")
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        app.save_screenshot(filename="table-tui.svg", path=str(HERE))


async def page(base: str, token: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = await browser.new_page(viewport={"width": 900, "height": 640})
        await tab.goto(f"{base}/t/{token}")
        await asyncio.sleep(1.0)
        box = tab.locator("textarea, input[type=text]").first
        for text in COMMENTS[:2]:
            await box.fill(text)
            await box.press("Enter")
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        await tab.screenshot(path=str(HERE / "table-page.png"))
        # The terminal UI's SVG, rendered to PNG for viewers that don't show SVG.
        await tab.set_viewport_size({"width": 1240, "height": 760})
        await tab.goto((HERE / "table-tui.svg").as_uri())
        await tab.screenshot(path=str(HERE / "table-tui.png"))
        await browser.close()


async def hall_shots(base: str, tokens: Any) -> None:
    """A member at work on a full hall, and the trace page after a publish."""
    from playwright.async_api import async_playwright

    team_token = tokens.team
    ws_base = base.replace("http", "ws", 1)
    async with connect(f"{ws_base}/ws/team?token={team_token}", max_size=MAX_SIZE) as team:
        hello = await recv_type(team, "hello", 60)
        q = hello["event"]["rounds"][0]["questions"][0]["id"]
        themes = sorted((await current(team, q))["themes"], key=lambda t: -t["size"])
        # Two themes published, so the list shows both kinds.
        await team_op(
            team, "publish", q, name="Ana", themes={t["key"]: t["version"] for t in themes[:2]}
        )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport=STAFF)
        await page.goto(f"{base}/team?token={team_token}")
        await page.fill("#member-name", "Ana")
        await page.wait_for_selector("#comments li.crow")
        # Comments still arriving: some themes show what is new since Ana looked.
        some = dict(list(tokens.tables.items())[:40])
        await type_comments(ws_base, some, hall_texts(5040, civic=True)[-40:])
        await asyncio.sleep(3)
        rows = page.locator("#comments li.crow")
        for i in (2, 3):
            await rows.nth(i).locator("input.sel").check()
        await rows.nth(5).locator("input.sel").focus()
        await asyncio.sleep(0.5)
        await page.screenshot(path=str(HERE / "workbench.png"))
        trace = await browser.new_page(viewport=STAFF)
        await trace.goto(f"{base}/trace?token={tokens.display}")
        await trace.screenshot(path=str(HERE / "trace.png"))
        await browser.close()


def hall(kept: str | None) -> tuple[str, Any, Path]:
    """The hall's database URL, its team and table tokens, and a folder for the log."""
    if kept:
        tmp = Path(kept)
        saved = json.loads((tmp / "tokens.json").read_text())
        tokens = argparse.Namespace(
            team=saved["team"],
            tables={int(k): v for k, v in saved["tables"].items()},
            display=saved["display"],
        )
        return f"sqlite+aiosqlite:///{tmp / 'hall.db'}", tokens, tmp
    tmp = Path(tempfile.mkdtemp(prefix="townhall-hall-"))
    db_url = f"sqlite+aiosqlite:///{tmp / 'hall.db'}"
    return db_url, load_example(db_url, hall_event(tmp)), tmp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hall", help="a hall kept by bench/workbench_render.py --keep DIR")
    ap.add_argument("--only", choices=["workbench"], help="only the workbench and trace shots")
    args = ap.parse_args()
    if args.only is None:
        tables()
    db_url, tokens, tmp = hall(args.hall)
    env = {"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "minilm"}
    proc, base = start_server(db_url, tmp / "server.log", env)
    try:
        if not args.hall:
            asyncio.run(fill_hall(base.replace("http", "ws", 1), tokens, 5000, 50, civic=True))
        asyncio.run(hall_shots(base, tokens))
    finally:
        proc.terminate()
        proc.wait(60)
    print(f"wrote workbench.png and trace.png in {HERE}")


def tables() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="townhall-shots-"))
    db_url = f"sqlite+aiosqlite:///{tmp / 'shots.db'}"
    tokens = load_example(db_url)
    proc, base = start_server(db_url, tmp / "server.log")
    try:
        asyncio.run(tui(base, tokens.tables[3], tmp))
        asyncio.run(page(base, tokens.tables[4]))
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"wrote table-tui.svg, table-tui.png and table-page.png in {HERE}")


if __name__ == "__main__":
    main()
