"""Regenerate the README's screenshots of the facilitator's two clients against a
real server: ``python docs/screenshots/take.py`` (needs Chromium for the page)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from table_client.endpoint import table_ws_base  # noqa: E402
from table_client.outbox import Outbox, table_key  # noqa: E402
from table_client.sender import Sender  # noqa: E402
from table_client.tui import TableApp  # noqa: E402
from tests.support.browser import ARGS, CHROMIUM  # noqa: E402
from tests.support.example import load_example  # noqa: E402
from tests.support.server import start_server  # noqa: E402

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


def main() -> None:
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
