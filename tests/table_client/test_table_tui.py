"""What the facilitator sees in the terminal app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from table_client.endpoint import table_ws_base
from table_client.outbox import Outbox, table_key
from table_client.sender import Sender
from table_client.tui import TableApp
from tests.support.table import TOKEN, FakeServer, Stored, text_of, until_ui

Start = Callable[..., Sender]


def cell(app: TableApp, row: int, column: str) -> str:
    table = app.query_one(DataTable)
    return str(table.get_cell(table.coordinate_to_cell_key((row, 0)).row_key, column))


async def test_comment_marked_sent_after_server_ack(
    server: FakeServer, start_sender: Start
) -> None:
    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: "connected" in text_of(app, "#status"))
        assert "Rehearsal — Table 7 (Main hall)" in text_of(app, "#title")
        await pilot.press(*"Night buses")
        await pilot.press("enter")

        await until_ui(pilot, lambda: cell(app, 0, "state") == "sent ✓")
        assert cell(app, 0, "text") == "Night buses"
        assert [c.text for c in server.comments.values()] == ["Night buses"]
        assert "all sent" in text_of(app, "#status")


async def test_question_updates_when_producer_moves_agenda(
    server: FakeServer, start_sender: Start
) -> None:
    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: "What matters most?" in text_of(app, "#question"))
        await server.push_question({"id": 2, "text": "Which trade-offs?", "round": "Priorities"})
        await until_ui(pilot, lambda: "Which trade-offs?" in text_of(app, "#question"))
        assert text_of(app, "#question") == "Priorities — Which trade-offs?"


async def test_once_the_agenda_moves_on_rows_say_their_question_and_earlier_ones_dim(
    server: FakeServer, start_sender: Start
) -> None:
    server.agenda = [
        {"id": 1, "text": "What matters most?", "round": "1"},
        {"id": 2, "text": "Which trade-offs?", "round": "Priorities"},
    ]
    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: "connected" in text_of(app, "#status"))
        await pilot.press(*"Night buses", "enter")
        await until_ui(pilot, lambda: cell(app, 0, "state") == "sent ✓")
        assert cell(app, 0, "question") == "1" and not dimmed(app, 0)
        await server.push_question(server.agenda[1])
        await until_ui(pilot, lambda: dimmed(app, 0))
        assert text_of(app, "#question") == "Q2 · Priorities — Which trade-offs?"
        await pilot.press(*"Fewer car parks", "enter")
        await until_ui(pilot, lambda: cell(app, 1, "state") == "sent ✓")
        assert [cell(app, i, "question") for i in range(2)] == ["1", "2"]
        assert not dimmed(app, 1)


def dimmed(app: TableApp, row: int) -> bool:
    table = app.query_one(DataTable)
    text = table.get_cell(table.coordinate_to_cell_key((row, 0)).row_key, "text")
    return isinstance(text, Text) and "dim" in str(text.style)


async def test_previous_comments_show_on_start_and_offline_shows_waiting(
    server: FakeServer, start_sender: Start, outbox_path: Path
) -> None:
    await server.stop()
    outbox = Outbox(outbox_path, table_key(table_ws_base(server.url), TOKEN))
    outbox.add_many([("from yesterday", None, False, None), ("and this", None, False, None)])
    outbox.close()

    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: "offline" in text_of(app, "#status"))
        assert text_of(app, "#status") == "○ offline — 2 waiting"
        assert [cell(app, i, "text") for i in range(2)] == ["from yesterday", "and this"]
        assert cell(app, 1, "state") == "waiting"

        await server.start()
        await until_ui(pilot, lambda: cell(app, 1, "state") == "sent ✓")
        assert len(server.comments) == 2


async def test_star_key_marks_selected_comment_on_server(
    server: FakeServer, start_sender: Start
) -> None:
    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: "connected" in text_of(app, "#status"))
        await pilot.press(*"Idea worth starring", "enter")
        await until_ui(pilot, lambda: cell(app, 0, "state") == "sent ✓")
        await pilot.press("ctrl+t")
        await until_ui(pilot, lambda: cell(app, 0, "star") == "★")
        (stored,) = server.comments.values()
        assert stored.star is True


async def test_empty_comment_is_not_sent(server: FakeServer, start_sender: Start) -> None:
    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await pilot.press("space", "enter")
        await pilot.pause()
        assert app.query_one(DataTable).row_count == 0
        assert app.sender.outbox.all() == []


async def test_another_laptops_comments_show_in_seq_order_marked(
    server: FakeServer, start_sender: Start, outbox_path: Path
) -> None:
    """The table's first two comments came from another laptop; this one's own,
    typed offline, is numbered after them and listed after them."""
    server.hello_comments = True
    server.comments = {
        "aaaaaaaa-0000-4000-8000-000000000001": Stored(501, 1, "pool in winter", 1, True),
        "aaaaaaaa-0000-4000-8000-000000000002": Stored(502, 2, "benches", 1, False),
    }
    server.last_seq = 2
    outbox = Outbox(outbox_path, table_key(table_ws_base(server.url), TOKEN))
    outbox.add_many([("typed here", 1, False, None)])
    outbox.close()

    app = TableApp(start_sender(run=False))
    async with app.run_test() as pilot:
        await until_ui(pilot, lambda: app.query_one(DataTable).row_count == 3)
        await until_ui(pilot, lambda: cell(app, 2, "state") == "sent ✓")
        rows = [
            (cell(app, i, "seq"), cell(app, i, "text"), cell(app, i, "state")) for i in range(3)
        ]
        assert rows == [
            ("1", "pool in winter", "sent ✓ (other device)"),
            ("2", "benches", "sent ✓ (other device)"),
            ("3", "typed here", "sent ✓"),
        ]
        assert cell(app, 0, "star") == "★"
