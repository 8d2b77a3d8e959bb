"""The browser page for facilitators, in headless Chromium under a strict CSP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    WebSocketRoute,
    expect,
)

import table_client
from tests.support.a11y import producer_send
from tests.support.database import db_rows
from tests.support.server import LiveServer
from tests.support.table import TOKEN, WAIT, FakeServer, Stored, stored_seqs

PACKAGE = Path(table_client.__file__).parent
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:"

pytestmark = pytest.mark.browser


class PageHandler(SimpleHTTPRequestHandler):
    """Serves /t/<token> like the lead's server will, and /static/table/ files."""

    page = ""

    def do_GET(self) -> None:
        if self.path.startswith("/t/"):
            data = self.page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path.startswith("/static/table/"):
            self.path = "/" + self.path.removeprefix("/static/table/")
            super().do_GET()
            return
        if self.path == "/favicon.ico":  # browsers ask; not part of this page
            self.send_response(204)
            self.end_headers()
            return
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page_url(server: FakeServer) -> Iterator[str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE / "templates"), autoescape=True)
    ws_url = f"ws://127.0.0.1:{server.port}/ws/table"
    handler = type(
        "Handler",
        (PageHandler,),
        {"page": env.get_template("table.html").render(token=TOKEN, ws_url=ws_url)},
    )
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(PACKAGE / "static"))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/t/{TOKEN}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 390, "height": 800})  # a phone
    pg = await context.new_page()
    pg.set_default_timeout(WAIT * 1000)
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Chromium itself reports each failed reconnect while the server is down.
        # A favicon 404 is the server's business, not this page's.
        if msg.location.get("url", "").endswith("/favicon.ico"):
            return
        if msg.type == "error" and not msg.text.startswith("WebSocket connection to"):
            problems.append(msg.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    yield pg
    await context.close()
    assert problems == [], "the page logged errors (CSP violation?)"


async def type_comment(page: Page, text: str) -> None:
    box = page.get_by_label("The table's comment")
    await box.fill(text)
    await box.press("Enter")
    # The page empties the box once the comment is saved; typing the next one
    # before that would be emptied with it.
    await expect(box).to_have_value("")


@contextlib.asynccontextmanager
async def second_laptop(browser: Browser, url: str) -> AsyncIterator[tuple[Page, list[str]]]:
    """The table's link open on another laptop (its own storage), and the page
    errors it raised; closed on the way out."""
    other = await browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        laptop = await other.new_page()
        laptop.set_default_timeout(WAIT * 1000)
        errors: list[str] = []
        laptop.on("pageerror", lambda exc: errors.append(str(exc)))
        yield laptop, errors
    finally:
        await other.close()


async def test_comment_sent_with_enter_is_marked_sent_after_ack(
    server: FakeServer, page_url: str, page: Page
) -> None:
    await page.goto(page_url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    await expect(page.locator("#event-title")).to_have_text("Rehearsal")
    await expect(page.locator("#question")).to_have_text("1 — What matters most?")

    hostile = '<img src=x onerror="document.title=1"> & more'
    await type_comment(page, hostile)
    row = page.locator("#comments li").first
    await expect(row.locator(".state")).to_have_text("sent ✓")
    await expect(row.locator(".text")).to_have_text(hostile)  # shown as text, not HTML
    assert await page.locator("#comments img").count() == 0
    assert [c.text for c in server.comments.values()] == [hostile]
    await expect(page.get_by_label("The table's comment")).to_have_value("")

    await row.get_by_role("button", name="Star comment 1").click()
    await expect(row.locator(".star")).to_have_text("★")
    (stored,) = server.comments.values()
    assert stored.star is True


async def test_comments_typed_offline_survive_reload_and_go_out_in_order(
    server: FakeServer, page_url: str, page: Page
) -> None:
    await page.goto(page_url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    server.crash()
    await expect(page.locator("#status")).to_contain_text("offline")

    for text in ("first while offline", "second while offline"):
        await type_comment(page, text)
    await expect(page.locator("#status")).to_contain_text("2 waiting")

    await page.reload()  # the laptop's browser was closed and reopened
    await expect(page.locator("#comments li .state")).to_have_text(["waiting", "waiting"])
    await server.start()
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("#comments li .state")).to_have_text(["sent ✓", "sent ✓"])
    assert [server.comments[u].text for u in server.commit_order] == [
        "first while offline",
        "second while offline",
    ]
    assert [server.comments[u].seq for u in server.commit_order] == [1, 2]


async def test_lost_ack_keeps_its_number_and_only_taken_numbers_move(
    server: FakeServer, page_url: str, page: Page
) -> None:
    """The 5th was stored without its ack, then a spare laptop took 6..8: the 5th
    is acked where it is, the rest follow the spare's, with no gap and no resync."""
    await page.goto(page_url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    server.crash()
    await expect(page.locator("#status")).to_contain_text("offline")
    for i in range(1, 11):
        await type_comment(page, f"comment {i}")
    await expect(page.locator("#status")).to_contain_text("10 waiting")

    server.crash_after_commits = 5  # the 5th is committed but its ack never leaves
    await server.start()
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await server.wait_for(lambda: server._server is None)
    for seq in (6, 7, 8):
        server.comments[f"spare {seq}"] = Stored(900 + seq, seq, "spare", 1, False)
    server.last_seq = 8
    await server.start()
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("#comments li .state")).to_have_text(
        ["sent ✓"] * 10, timeout=3 * WAIT * 1000
    )

    uuids = [
        str(await li.get_attribute("data-uuid")) for li in await page.locator("#comments li").all()
    ]
    assert [server.comments[u].seq for u in uuids] == [1, 2, 3, 4, 5, 9, 10, 11, 12, 13]
    assert [server.comments[u].text for u in uuids] == [f"comment {i}" for i in range(1, 11)]
    assert server.out_of_order == [6, 7, 8], "asked about once each, then renumbered"
    assert server.connections_seen == 3, "a conflict while settling needs no reconnect"
    await expect(page.locator("#comments li .seq")).to_have_text(
        ["1", "2", "3", "4", "5", "9", "10", "11", "12", "13"]
    )


async def test_question_push_updates_page(server: FakeServer, page_url: str, page: Page) -> None:
    await page.goto(page_url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    async with asyncio.timeout(WAIT):
        await server.push_question(
            {"id": 3, "text": "What would you trade?", "round": "What we value about Riverton"}
        )
    await expect(page.locator("#question")).to_have_text(
        "What we value about Riverton — What would you trade?"
    )


async def test_page_served_by_the_real_server_sends_a_comment(
    live_server: LiveServer, page: Page
) -> None:
    """The lead's /t/{token} route, its CSP and static mount, with this page."""
    await page.goto(f"{live_server.base}/t/{live_server.tokens.tables[6]}")
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    await expect(page.locator("#table-name")).to_contain_text("Table 6")
    await type_comment(page, "Sent from a phone browser")
    await expect(page.locator("#comments li .state")).to_have_text(["sent ✓"])


class VenueLink:
    """The page's websocket as routed by the test: a venue network that can
    swallow what the server says of stored comments (acks, the table's pushes),
    go down, and come back."""

    def __init__(self) -> None:
        self.up = True
        self.drop_acks = False
        self.dropped: list[str] = []  # comment ids the server acked, the page never heard
        self._open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self._changed = asyncio.Event()

    async def route(self, page_side: WebSocketRoute) -> None:
        if not self.up:
            await page_side.close(code=1001, reason="no network")
            return
        server_side = page_side.connect_to_server()

        def to_page(message: str | bytes) -> None:
            kind = json.loads(message).get("type")
            if self.drop_acks and kind == "table_comment":  # it too would tell "stored"
                return
            if self.drop_acks and kind == "ack":
                self.dropped.append(json.loads(message)["id"])
                self._changed.set()
                return
            page_side.send(message)

        server_side.on_message(to_page)  # page -> server still forwards by itself
        self._open.append((page_side, server_side))

    async def cut(self) -> None:
        self.up = False
        for page_side, server_side in self._open:
            await server_side.close()
            await page_side.close(code=1001, reason="no network")
        self._open.clear()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def test_comment_stored_before_its_lost_ack_keeps_its_number(
    live_server: LiveServer, page: Page
) -> None:
    """Acks lost with the link, more typed offline: once back, the table's comments
    are numbered 1..10 on the server and on the page, each stored once, in order."""
    link = VenueLink()
    await page.route_web_socket(re.compile(r"/ws/table"), link.route)
    await page.goto(f"{live_server.base}/t/{live_server.tokens.tables[6]}")
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    typed = [f"before the drop {i}" for i in range(1, 4)]
    for text in typed:
        await type_comment(page, text)
    await expect(page.locator("#comments li .state")).to_have_text(["sent ✓"] * 3)

    link.drop_acks = True  # the server stores these; their acks die with the link
    for text in (lost := [f"ack lost {i}" for i in range(4, 7)]):
        await type_comment(page, text)
    await link.wait_for(lambda: len(link.dropped) == 3)
    await link.cut()
    typed += lost
    await expect(page.locator("#status")).to_contain_text("offline")
    for text in (offline := [f"typed offline {i}" for i in range(7, 11)]):
        await type_comment(page, text)
    typed += offline
    await expect(page.locator("#status")).to_contain_text("7 waiting")

    link.drop_acks = False
    link.up = True
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    # Reconnecting may wait out one backoff step (capped at 10 s).
    await expect(page.locator("#comments li .state")).to_have_text(
        ["sent ✓"] * 10, timeout=3 * WAIT * 1000
    )
    await expect(page.locator("#status")).to_have_text("● connected — all sent")

    uuids = [
        str(await li.get_attribute("data-uuid")) for li in await page.locator("#comments li").all()
    ]
    assert stored_seqs(live_server.db_url, uuids) == list(range(1, 11))
    rows = db_rows(
        live_server.db_url,
        "SELECT text FROM comment WHERE client_id IN :ids ORDER BY seq",
        ids=uuids,
    )
    texts = [t for (t,) in rows]
    assert texts == typed  # each once, in typing order
    await expect(page.locator("#comments li .seq")).to_have_text([str(n) for n in range(1, 11)])


async def test_a_second_laptop_at_the_table_shows_the_tables_comments(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    """The facilitator moves to another laptop (a flat battery): the table's link
    there lists what the table said, in order, marked as from another device; a
    star given there reaches the first laptop, and numbers go on after the last."""
    url = f"{live_server.base}/t/{live_server.tokens.tables[7]}"
    await page.goto(url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    first = ["Keep the pool open in winter", "More benches along the river"]
    for text in first:
        await type_comment(page, text)
    await expect(page.locator("#comments li .state")).to_have_text(["sent ✓"] * 2)

    async with second_laptop(browser, url) as (laptop, errors):
        await laptop.goto(url)
        await expect(laptop.locator("#status")).to_have_text("● connected — all sent")
        await expect(laptop.locator("#comments li .text")).to_have_text(first)
        await expect(laptop.locator("#comments li .state")).to_have_text(
            ["sent ✓ (other device)"] * 2
        )
        await expect(laptop.locator("#comments li .seq")).to_have_text(["1", "2"])
        await laptop.get_by_role("button", name="Star comment 1").click()
        await type_comment(laptop, "A bus to the hospital on Sundays")
        await expect(laptop.locator("#comments li .seq")).to_have_text(["1", "2", "3"])
        await expect(laptop.locator("#status")).to_have_text("● connected — all sent")
        assert errors == []

    rows = db_rows(
        live_server.db_url,
        "SELECT c.seq, c.star FROM comment c JOIN event_table t ON c.table_id = t.id"
        " WHERE t.name = 'Table 7' ORDER BY c.seq",
    )
    assert [(seq, bool(star)) for seq, star in rows] == [(1, True), (2, False), (3, False)]
    await page.reload()
    await expect(page.locator("#comments li .text")).to_have_text(
        [*first, "A bus to the hospital on Sundays"]
    )
    await expect(page.locator("#comments li .state")).to_have_text(
        ["sent ✓", "sent ✓", "sent ✓ (other device)"]
    )
    await expect(page.get_by_role("button", name="Unstar comment 1")).to_have_text("★")


async def test_once_the_question_moves_on_each_question_heads_its_comments(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    """The producer moves to the next question: the table's list keeps what it said
    to the last one, under that question's text and muted, and heads the new
    question's comments with its own; another laptop sees the same from its hello."""
    event = await producer_send(live_server, {})
    first_q, second_q = [q for r in event["rounds"] for q in r["questions"]][:2]
    await producer_send(live_server, {"type": "set_question", "question_id": first_q["id"]})
    url = f"{live_server.base}/t/{live_server.tokens.tables[5]}"
    await page.goto(url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    for text in ("The library's evening hours", "Trees along Front Street"):
        await type_comment(page, text)
    # One question so far: no heads, nothing muted.
    await expect(page.locator("#comments li .state")).to_have_text(["sent ✓"] * 2)
    await expect(page.locator("#comments .qhead")).to_have_count(0)
    await producer_send(live_server, {"type": "set_question", "question_id": second_q["id"]})
    await expect(page.locator("#question")).to_contain_text(second_q["text"])
    await type_comment(page, "Fix the potholes on Mill Road")
    heads = [f"Earlier question: {first_q['text']}", f"This question: {second_q['text']}"]
    await expect(page.locator("#comments .qhead")).to_have_text(heads)
    assert await muted(page) == [True, True, False]
    # Which rows the heads open: the first of each question's run.
    assert await page.locator("#comments > li").evaluate_all(
        "(rows) => rows.map((li) => li.querySelector('.qhead') !== null)"
    ) == [True, False, True]
    async with second_laptop(browser, url) as (laptop, errors):
        await laptop.goto(url)
        await expect(laptop.locator("#status")).to_have_text("● connected — all sent")
        await expect(laptop.locator("#comments .qhead")).to_have_text(heads)
        assert await muted(laptop) == [True, True, False] and errors == []


async def muted(page: Page) -> list[bool]:
    return list(
        await page.locator("#comments > li").evaluate_all(
            "(rows) => rows.map((li) => li.classList.contains('earlier'))"
        )
    )


async def test_two_laptops_open_at_once_see_each_others_comments_live(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    """Both laptops of a table stay open: what one sends shows on the other as it
    is stored, without a reload or a reconnect, a star too; what the second types
    next is numbered after it."""
    url = f"{live_server.base}/t/{live_server.tokens.tables[8]}"
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.goto(url)
    await expect(page.locator("#status")).to_have_text("● connected — all sent")
    async with second_laptop(browser, url) as (laptop, errors):
        laptop.on("websocket", lambda ws: sockets.append(ws.url))
        await laptop.goto(url)
        await expect(laptop.locator("#status")).to_have_text("● connected — all sent")

        await type_comment(page, "Keep the pool open in winter")
        await expect(laptop.locator("#comments li .text")).to_have_text(
            ["Keep the pool open in winter"]
        )
        await expect(laptop.locator("#comments li .state")).to_have_text(["sent ✓ (other device)"])
        await type_comment(laptop, "A bus to the hospital on Sundays")
        await expect(laptop.locator("#comments li .seq")).to_have_text(["1", "2"])
        await expect(page.locator("#comments li .text")).to_have_text(
            ["Keep the pool open in winter", "A bus to the hospital on Sundays"]
        )
        await expect(page.locator("#comments li .state")).to_have_text(
            ["sent ✓", "sent ✓ (other device)"]
        )
        await laptop.get_by_role("button", name="Star comment 1").click()
        await expect(page.get_by_role("button", name="Unstar comment 1")).to_have_text("★")
        await expect(laptop.locator("#status")).to_have_text("● connected — all sent")
        assert errors == []
    assert len(sockets) == 2, f"a page reconnected: {sockets}"
    rows = db_rows(
        live_server.db_url,
        "SELECT c.seq, c.star FROM comment c JOIN event_table t ON c.table_id = t.id"
        " WHERE t.name = 'Table 8' ORDER BY c.seq",
    )
    assert [(seq, bool(star)) for seq, star in rows] == [(1, True), (2, False)]
