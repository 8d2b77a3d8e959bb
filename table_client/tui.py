"""The facilitator's terminal: type a comment, press Enter, watch it arrive.

The app never talks to the network itself: Enter saves to the outbox through
the sender (so a comment is safe the moment it leaves the input), and every
change the sender reports is posted back as a message and drawn from there.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static

from table_client.events import CommentChanged, Event, Hello, Link, Question, QuestionChanged
from table_client.outbox import MAX_TEXT, Comment, State
from table_client.sender import Sender


def state_label(c: Comment) -> str:
    if c.state is State.ACKED:
        return "sent ✓"
    if c.state is State.REFUSED:
        return f"refused: {c.error or 'no reason given'}"
    return "waiting"


def star_label(c: Comment) -> str:
    if not c.star:
        return "" if c.star_synced or c.state is not State.ACKED else "☆…"
    return "★" if c.star_synced or c.state is not State.ACKED else "★…"


def question_label(q: Question | None) -> str:
    if q is None:
        return "No question is open right now — comments are still saved."
    return f"Round {q.round}: {q.text}" if q.round else q.text


class SenderEvent(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class TableApp(App[int]):
    TITLE = "townhall table"
    CSS = """
    #top { height: 1; background: $primary; color: $text; }
    #title { width: 1fr; padding: 0 1; }
    #status { width: auto; padding: 0 1; }
    #status.offline { background: $warning; color: $text; }
    #status.refused { background: $error; }
    #question { padding: 1 1; border: round $accent; height: auto; }
    #comments { height: 1fr; }
    #comment { dock: bottom; margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "star", "Star/unstar selected comment"),
        Binding("ctrl+up", "select(-1)", "Select previous", show=False),
        Binding("ctrl+down", "select(1)", "Select next", show=False),
        Binding("escape", "focus_input", "Back to typing"),
        Binding("ctrl+q", "quit", "Quit (comments stay saved)"),
    ]

    def __init__(self, sender: Sender) -> None:
        super().__init__()
        self.sender = sender
        self.comments: dict[str, Comment] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static("", id="title")
            yield Static("", id="status")
        yield Static(question_label(self.sender.question), id="question")
        table: DataTable[str] = DataTable(id="comments", cursor_type="row", zebra_stripes=True)
        table.add_column("#", key="seq")
        table.add_column("state", key="state")
        table.add_column("★", key="star")
        table.add_column("comment", key="text")
        yield table
        yield Input(
            placeholder="Type the table's comment — Enter sends it",
            max_length=MAX_TEXT,
            id="comment",
        )
        yield Footer()

    def on_mount(self) -> None:
        for comment in self.sender.outbox.all():
            self._show(comment)
        if self.sender.hello is not None:
            self._show_hello(self.sender.hello)
        self._show_status()
        self.sender.subscribe(self._relay)
        self.run_worker(self.sender.run(), name="sender", exit_on_error=True)
        self.query_one("#comment", Input).focus()

    def _relay(self, event: Event) -> None:
        # Called from inside the sender; draw later, from the app's own queue.
        self.post_message(SenderEvent(event))

    # -- input -----------------------------------------------------------

    def on_input_submitted(self, message: Input.Submitted) -> None:
        try:
            comment = self.sender.submit(message.value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        message.input.value = ""
        self._show(comment)
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(comment.uuid))

    def action_star(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.notify("No comment to star yet.")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None and (comment := self.sender.toggle_star(key)) is not None:
            self._show(comment)

    def action_select(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def action_focus_input(self) -> None:
        self.query_one("#comment", Input).focus()

    # -- sender events ---------------------------------------------------

    def on_sender_event(self, message: SenderEvent) -> None:
        event = message.event
        if isinstance(event, CommentChanged):
            self._show(event.comment)
        elif isinstance(event, QuestionChanged):
            self.query_one("#question", Static).update(question_label(event.question))
        elif isinstance(event, Hello):
            self._show_hello(event)
        self._show_status()
        if self.sender.status.link is Link.REFUSED and not isinstance(event, CommentChanged):
            self.notify(
                "The server refused this table's token. Comments stay saved on this laptop; "
                "ask the organisers for a new link.",
                severity="error",
                timeout=30,
            )

    def _show_hello(self, hello: Hello) -> None:
        where = f" ({hello.site})" if hello.site else ""
        title = f"{hello.event_title} — {hello.table_name}{where}"
        self.query_one("#title", Static).update(title)
        self.query_one("#question", Static).update(question_label(hello.question))

    def _show_status(self) -> None:
        status = self.sender.status
        widget = self.query_one("#status", Static)
        widget.update(status.label)
        widget.set_class(status.link in (Link.OFFLINE, Link.CONNECTING), "offline")
        widget.set_class(status.link is Link.REFUSED, "refused")

    def _show(self, c: Comment) -> None:
        table = self.query_one(DataTable)
        cells = (str(c.seq), state_label(c), star_label(c), c.text)
        if c.uuid in self.comments and c.uuid in table.rows:
            for column, value in zip(("seq", "state", "star", "text"), cells, strict=True):
                table.update_cell(c.uuid, column, value)
        else:
            table.add_row(*cells, key=c.uuid)
        self.comments[c.uuid] = c
