"""The table's consensus allocation for an allocation poll (docs/protocol.md,
"Participatory budgeting ballots"): what the sender and the terminal app share.

The table agrees how it would spread the budget; the facilitator types one
whole number per option and sends it as ``table_allocation``. The server has
the final word on the rules (whole numbers, total 1…budget); the form only
keeps a running total and turns what was typed into numbers.
"""

from __future__ import annotations

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
    final: bool = True  # False: not sent yet; the sender retries on the next connection


AllocationEvent = AllocationPollChanged | AllocationResult


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
