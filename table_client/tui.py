"""The facilitator's terminal: type a comment, press Enter, watch it arrive.

The app never talks to the network itself: Enter saves to the outbox through
the sender (so a comment is safe the moment it leaves the input), and every
change the sender reports is posted back as a message and drawn from there.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static

from table_client.allocation import (
    AllocationEvent,
    AllocationPoll,
    AllocationPollChanged,
    AllocationResult,
    parse_amounts,
    total_label,
)
from table_client.events import CommentChanged, Event, Hello, Link, Question, QuestionChanged
from table_client.outbox import MAX_TEXT, Comment, State
from table_client.sender import Sender


def state_label(c: Comment) -> str:
    if c.state is State.ACKED:
        return "sent ✓ (other device)" if c.elsewhere else "sent ✓"
    if c.state is State.REFUSED:
        return f"refused: {c.error or 'no reason given'}"
    return "waiting"


def star_label(c: Comment) -> str:
    if not c.star:
        return "" if c.star_synced or c.state is not State.ACKED else "☆…"
    return "★" if c.star_synced or c.state is not State.ACKED else "★…"


def question_label(q: Question | None, agenda: dict[int, int] | None = None) -> str:
    """The open question; "Q2 · …" when its number on the ``agenda`` is known (the
    comments' "Q" column)."""
    if q is None:
        return "No question is open right now — comments are still saved."
    # q.round is the round's title ("Budget priorities for next year"), not a number.
    text = f"{q.round} — {q.text}" if q.round else q.text
    number = (agenda or {}).get(q.id)
    return f"Q{number} · {text}" if number else text


class SenderEvent(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class AllocationEventMessage(Message):
    def __init__(self, event: AllocationEvent) -> None:
        super().__init__()
        self.event = event


def allocation_title(poll: AllocationPoll) -> str:
    state = "open" if poll.status == "open" else "closed on the phones; tables can still send"
    return (
        f"Table's allocation ({state}): {poll.prompt} — spread "
        f"{poll.amount_text(poll.budget)}; Ctrl+S sends"
    )


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
    #allocation { height: auto; border: round $secondary; display: none; }
    #allocation.shown { display: block; }
    #alloc-fields { height: auto; }
    .amount-row { height: 3; }
    .amount-label { width: 1fr; padding: 1 1 0 1; }
    .amount { width: 16; }
    #alloc-total, #alloc-result { padding: 0 1; }
    #alloc-result.refused { background: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "star", "Star/unstar selected comment"),
        Binding("ctrl+s", "send_allocation", "Send the table's allocation", priority=True),
        Binding("ctrl+up", "select(-1)", "Select previous", show=False),
        Binding("ctrl+down", "select(1)", "Select next", show=False),
        Binding("escape", "focus_input", "Back to typing"),
        Binding("ctrl+q", "quit", "Quit (comments stay saved)"),
    ]

    def __init__(self, sender: Sender) -> None:
        super().__init__()
        self.sender = sender
        self.comments: dict[str, Comment] = {}
        self.agenda: dict[int, int] = {}  # question id -> its number on the agenda
        self.amount_keys: dict[str, str] = {}  # input id -> option key

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static("", id="title")
            yield Static("", id="status")
        yield Static(question_label(self.sender.question), id="question")
        with Vertical(id="allocation"):
            yield Static("", id="alloc-title")
            yield Vertical(id="alloc-fields")
            yield Static("", id="alloc-total")
            yield Static("", id="alloc-result")
        table: DataTable[str] = DataTable(id="comments", cursor_type="row", zebra_stripes=True)
        table.add_column("#", key="seq")
        table.add_column("Q", key="question")
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
        self.sender.subscribe_allocation(self._relay_allocation)
        if self.sender.allocation_poll is not None:
            self._show_allocation_poll(self.sender.allocation_poll)
        self.run_worker(self.sender.run(), name="sender", exit_on_error=True)
        self.query_one("#comment", Input).focus()

    def _relay(self, event: Event) -> None:
        # Called from inside the sender; draw later, from the app's own queue.
        self.post_message(SenderEvent(event))

    def _relay_allocation(self, event: AllocationEvent) -> None:
        self.post_message(AllocationEventMessage(event))

    # -- input -----------------------------------------------------------

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id in self.amount_keys:
            self.action_send_allocation()
            return
        try:
            comment = self.sender.submit(message.value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        message.input.value = ""
        self._show(comment)
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(comment.uuid))

    def on_input_changed(self, message: Input.Changed) -> None:
        if message.input.id in self.amount_keys and self.sender.allocation_poll is not None:
            self.query_one("#alloc-total", Static).update(
                total_label(self.sender.allocation_poll, self._typed())
            )

    def _typed(self) -> dict[str, str]:
        return {
            key: self.query_one(f"#{input_id}", Input).value
            for input_id, key in self.amount_keys.items()
        }

    def action_send_allocation(self) -> None:
        poll = self.sender.allocation_poll
        if poll is None:
            self.notify("No allocation poll is open for the tables.", severity="warning")
            return
        try:
            amounts = parse_amounts(poll, self._typed())
            self.sender.submit_allocation(amounts)
        except ValueError as exc:
            self._show_allocation_result(str(exc), refused=True)
            return
        self._show_allocation_result("Sending the table's allocation…", refused=False)

    def _show_allocation_result(self, text: str, *, refused: bool) -> None:
        widget = self.query_one("#alloc-result", Static)
        widget.update(text)
        widget.set_class(refused, "refused")

    def on_allocation_event_message(self, message: AllocationEventMessage) -> None:
        event = message.event
        if isinstance(event, AllocationPollChanged) and event.poll is not None:
            self._show_allocation_poll(event.poll)
        elif isinstance(event, AllocationResult):
            if event.accepted:
                poll = self.sender.allocation_poll
                given = event.amounts or {}
                parts = (
                    ", ".join(
                        f"{label} {given[key]}" for key, label in poll.options if key in given
                    )
                    if poll is not None
                    else ""
                )
                self._show_allocation_result(f"sent ✓ {parts}".rstrip(), refused=False)
            else:
                self._show_allocation_result(f"refused: {event.message}", refused=True)

    def _show_allocation_poll(self, poll: AllocationPoll) -> None:
        panel = self.query_one("#allocation", Vertical)
        panel.add_class("shown")
        self.query_one("#alloc-title", Static).update(allocation_title(poll))
        wanted = {f"amount-{poll.id}-{i}": key for i, (key, _) in enumerate(poll.options)}
        fresh = wanted != self.amount_keys
        if fresh:  # a new poll: a fresh form (same poll: keep what's typed)
            fields = self.query_one("#alloc-fields", Vertical)
            fields.remove_children()
            rows = []
            for input_id, (_, label) in zip(wanted, poll.options, strict=True):
                rows.append(
                    Horizontal(
                        Static(label, classes="amount-label"),
                        Input(
                            placeholder="0",
                            type="integer",
                            id=input_id,
                            classes="amount",
                            tooltip=f"{label} ({poll.unit})",
                        ),
                        classes="amount-row",
                    )
                )
            fields.mount(*rows)
            self.amount_keys = wanted
            self._show_allocation_result("", refused=False)
        typed = {} if fresh else self._typed()
        self.query_one("#alloc-total", Static).update(total_label(poll, typed))

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
            self.query_one("#question", Static).update(question_label(event.question, self.agenda))
            self._restyle()
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
        self.agenda = {q.id: n for n, q in enumerate(hello.questions, start=1)}
        self.query_one("#question", Static).update(question_label(hello.question, self.agenda))
        self._restyle()

    def _restyle(self) -> None:
        """Every row again: which question it answered, the earlier ones dimmed."""
        for comment in list(self.comments.values()):
            self._show(comment)

    def _show_status(self) -> None:
        status = self.sender.status
        widget = self.query_one("#status", Static)
        widget.update(status.label)
        widget.set_class(status.link in (Link.OFFLINE, Link.CONNECTING), "offline")
        widget.set_class(status.link is Link.REFUSED, "refused")

    def _show(self, c: Comment) -> None:
        table = self.query_one(DataTable)
        # Once the producer moved on, the last question's comments are dimmed and
        # each row says which agenda question it answered ("Q" column).
        current = self.sender.question
        earlier = current is not None and c.question_id != current.id
        number = self.agenda.get(c.question_id) if c.question_id is not None else None
        text = Text(c.text, style="dim" if earlier else "")
        cells = (str(c.seq), str(number or "–"), state_label(c), star_label(c), text)
        if c.uuid in self.comments and c.uuid in table.rows:
            columns = ("seq", "question", "state", "star", "text")
            for column, value in zip(columns, cells, strict=True):
                table.update_cell(c.uuid, column, value)
        else:
            table.add_row(*cells, key=c.uuid)
            # Another device's comments come after this laptop's own: keep seq order.
            if any(other.seq > c.seq for other in self.comments.values()):
                table.sort("seq", key=int)
        self.comments[c.uuid] = c
