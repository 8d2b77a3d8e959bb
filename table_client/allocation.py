"""The table's consensus allocation for an allocation poll (docs/protocol.md,
"Participatory budgeting ballots"): what the sender and the terminal app share.

The table agrees how it would spread the budget; the facilitator types one
whole number per option and sends it as ``table_allocation``. The server has
the final word on the rules (whole numbers, total 1…budget); the form only
keeps a running total and turns what was typed into numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AllocationPoll:
    id: int
    prompt: str
    status: str  # "open" or "closed" (a table may still report after the phones vote)
    budget: int
    unit: str
    options: tuple[tuple[str, str], ...]  # (key, label) in the poll's order

    @classmethod
    def parse(cls, raw: Any) -> AllocationPoll | None:
        """An allocation poll that has been opened; None for anything else (never crash)."""
        if not isinstance(raw, dict) or raw.get("kind") != "allocation":
            return None
        if raw.get("status") not in ("open", "closed"):
            return None
        try:
            options = tuple(
                (str(o["key"]), str(o.get("label") or o["key"])) for o in raw["options"]
            )
            return cls(
                id=int(raw["id"]),
                prompt=str(raw.get("prompt", "")),
                status=str(raw["status"]),
                budget=int(raw["budget"]),
                unit=str(raw.get("unit") or "points"),
                options=options,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def amount_text(self, amount: int) -> str:
        """'40 points', or '£40' for a currency symbol."""
        if self.unit and not self.unit[0].isalpha() and len(self.unit) <= 3:
            return f"{self.unit}{amount:,}"
        return f"{amount:,} {self.unit}"


@dataclass(frozen=True, slots=True)
class AllocationPollChanged:
    poll: AllocationPoll | None


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """The server's answer to the table's allocation (or a temporary failure)."""

    poll_id: int
    accepted: bool
    message: str
    amounts: dict[str, int] | None = None


AllocationEvent = AllocationPollChanged | AllocationResult


class AllocationChannel:
    """The sender's side of the table's allocation: the allocation poll the table can
    answer (from hello or a ``poll`` push), the allocation waiting for its answer,
    and who listens. Not kept in the outbox: latest wins on the server, and the form
    still shows what was typed if it is lost."""

    def __init__(self, poll: AllocationPoll | None) -> None:
        self.poll = poll
        self.waiting: dict[str, Any] | None = None  # the message, resent until answered
        self._listeners: list[Callable[[AllocationEvent], None]] = []

    def subscribe(self, listener: Callable[[AllocationEvent], None]) -> None:
        self._listeners.append(listener)

    def submit(self, amounts: dict[str, int]) -> str:
        """Queue the table's allocation for the current allocation poll; returns its id.

        Raises ValueError when there is no allocation poll to answer. The server
        checks the amounts and answers with an ack or a refusal (an
        ``AllocationResult``); a later allocation replaces an unsent one.
        """
        if self.poll is None:
            raise ValueError("No allocation poll is open for the tables.")
        msg_id = str(uuid.uuid4())
        self.waiting = {
            "type": "table_allocation",
            "id": msg_id,
            "poll_id": self.poll.id,
            "amounts": dict(amounts),
        }
        return msg_id

    def owns(self, msg: dict[str, Any]) -> bool:
        """Whether an ack or error answers the allocation waiting."""
        return self.waiting is not None and msg.get("id") == self.waiting["id"]

    def settle(self, msg: dict[str, Any]) -> None:
        """The server's final answer to the waiting allocation: tell the listeners."""
        assert self.waiting is not None
        poll_id = int(self.waiting["poll_id"])
        self.waiting = None
        if msg.get("type") == "ack":
            amounts = msg.get("amounts") if isinstance(msg.get("amounts"), dict) else None
            result = AllocationResult(poll_id, True, "Allocation received", amounts)
        else:
            text = str(msg.get("message") or msg.get("code") or "error")
            result = AllocationResult(poll_id, False, text)
        self._emit(result)

    def poll_changed(self, raw: Any, *, from_hello: bool = False) -> None:
        """A ``poll`` push (or the hello's poll): follow the allocation poll the table
        can answer. Another kind of poll opening leaves the last one: the table can
        still report on it."""
        poll = AllocationPoll.parse(raw)
        current = self.poll
        if poll is None or poll == current:
            return
        if from_hello or poll.status == "open" or (current is not None and current.id == poll.id):
            self.poll = poll
            self._emit(AllocationPollChanged(poll))

    def _emit(self, event: AllocationEvent) -> None:
        for listener in self._listeners:
            listener(event)


def parse_amounts(poll: AllocationPoll, typed: dict[str, str]) -> dict[str, int]:
    """What was typed per option key as whole numbers (empty = 0). Raises ValueError
    with a message for the facilitator. Totals are the server's to judge."""
    out: dict[str, int] = {}
    for key, label in poll.options:
        text = typed.get(key, "").strip().replace(",", "")
        if not text:
            continue
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{label}: use whole numbers only (got {text!r})") from None
        if value < 0:
            raise ValueError(f"{label}: amounts can't be negative")
        if value:
            out[key] = value
    return out


def total_label(poll: AllocationPoll, typed: dict[str, str]) -> str:
    """The running total under the form."""
    try:
        total = sum(parse_amounts(poll, typed).values())
    except ValueError as exc:
        return str(exc)
    text = f"Total {poll.amount_text(total)} of {poll.amount_text(poll.budget)}"
    if total > poll.budget:
        return f"{text} — over by {poll.amount_text(total - poll.budget)}"
    return f"{text} — {poll.amount_text(poll.budget - total)} left"
