"""The facilitator's terminal sends the table's consensus allocation for the
open allocation poll, against the real server: the poll comes in the table's
hello or as a `poll` push, the form keeps a running total, and the server's
refusals are shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input
from websockets.asyncio.client import connect

from server.storage.db import Database
from server.storage.models import TableAllocation
from table_client.backoff import Backoff
from table_client.endpoint import table_ws_base
from table_client.outbox import Outbox, table_key
from table_client.sender import Sender
from table_client.tui import TableApp
from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer
from tests.support.table import text_of, until_ui

POLL_KEY = "spread-100"
SIZE = (120, 50)


def table_app(server: LiveServer, table: int, tmp_path: Path) -> TableApp:
    token = server.tokens.tables[table]
    base = table_ws_base(server.base)
    outbox = Outbox(tmp_path / f"table{table}.sqlite3", table_key(base, token))
    return TableApp(Sender(base, token, outbox, backoff=Backoff(base=0.05, cap=0.5)))


async def open_poll(server: LiveServer, key: str = POLL_KEY) -> dict[str, Any]:
    async with connect(server.ws_url("producer", server.tokens.producer)) as prod:
        hello = await recv_until(prod, "hello")
        poll: dict[str, Any] = next(p for p in hello["event"]["polls"] if p["key"] == key)
        await prod.send(json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]}))
        assert (await recv_until(prod, "ack", "error"))["type"] == "ack"
        return poll


async def stored(server: LiveServer, poll_id: int) -> list[dict[str, int]]:
    db = Database(server.db_url)
    try:
        async with db.session() as s:
            rows = (
                await s.exec(select(TableAllocation).where(TableAllocation.poll_id == poll_id))
            ).all()
            return [json.loads(r.amounts) for r in rows]
    finally:
        await db.dispose()


async def type_amount(app: TableApp, pilot: Pilot[int], key: str, text: str) -> None:
    input_id = next(i for i, k in app.amount_keys.items() if k == key)
    box = app.query_one(f"#{input_id}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)


def shown(app: TableApp) -> bool:
    return app.query_one("#allocation").has_class("shown") and bool(app.query(".amount"))


async def test_allocation_poll_from_hello_refusal_then_accepted(
    live_server: LiveServer, tmp_path: Path
) -> None:
    poll = await open_poll(live_server)
    app = table_app(live_server, 3, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until_ui(pilot, lambda: shown(app))
        assert poll["prompt"] in text_of(app, "#alloc-title")
        assert len(app.query(".amount")) == len(poll["options"])
        await type_amount(app, pilot, "housing", "70")
        await type_amount(app, pilot, "parks", "50")
        await until_ui(pilot, lambda: "over by 20 points" in text_of(app, "#alloc-total"))
        assert "Total 120 points of 100 points" in text_of(app, "#alloc-total")
        await pilot.press("ctrl+s")
        await until_ui(pilot, lambda: "refused" in text_of(app, "#alloc-result"))
        assert text_of(app, "#alloc-result") == (
            "refused: That adds up to 120 points, over the budget of 100 points"
        )
        await type_amount(app, pilot, "parks", "30")
        await until_ui(pilot, lambda: "0 points left" in text_of(app, "#alloc-total"))
        await pilot.press("enter")  # Enter in an amount box sends too
        await until_ui(pilot, lambda: "sent ✓" in text_of(app, "#alloc-result"))
        assert "Affordable housing 70" in text_of(app, "#alloc-result")
        # Comments still go through the outbox as before.
        app.query_one("#comment", Input).focus()
        await pilot.press(*"we agreed on housing", "enter")
    assert await stored(live_server, poll["id"]) == [{"housing": 70, "parks": 30}]


async def test_allocation_poll_pushed_while_the_app_runs(
    live_server: LiveServer, tmp_path: Path
) -> None:
    app = table_app(live_server, 4, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until_ui(pilot, lambda: app.sender.hello is not None)
        assert not app.query_one("#allocation").has_class("shown")
        await pilot.press("ctrl+s")  # nothing to answer yet: a notice, no crash
        poll = await open_poll(live_server)
        await until_ui(pilot, lambda: shown(app))
        await type_amount(app, pilot, "transit", "60")
        await type_amount(app, pilot, "libraries", "40")
        await pilot.press("ctrl+s")
        await until_ui(pilot, lambda: "sent ✓" in text_of(app, "#alloc-result"))
        # The phones' poll closes: the form stays and a new allocation replaces the old one.
        async with connect(live_server.ws_url("producer", live_server.tokens.producer)) as prod:
            await recv_until(prod, "hello")
            msg = {"type": "close_poll", "id": new_id(), "poll_id": poll["id"]}
            await prod.send(json.dumps(msg))
            assert (await recv_until(prod, "ack", "error"))["type"] == "ack"
        await until_ui(pilot, lambda: "closed on the phones" in text_of(app, "#alloc-title"))
        await type_amount(app, pilot, "libraries", "30")
        await pilot.press("ctrl+s")
        await until_ui(pilot, lambda: "Libraries 30" in text_of(app, "#alloc-result"))
    assert await stored(live_server, poll["id"]) == [{"transit": 60, "libraries": 30}]
