"""What handling one client message produced: the extra ack fields, and what to
push once the write is committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def table_topic(event_id: int, table_id: int) -> str:
    """The hub topic every connection of one table listens to (its other laptops)."""
    return f"table:{event_id}:{table_id}"


@dataclass
class Outcome:
    ack: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    dirty_poll: int | None = None
    new_comment: int | None = None
    comment_row: Any = None  # the stored comment, to announce without a re-read
    # A ballot this write stored: (poll id, participant id, normalised choice),
    # for the live tally once the commit is done.
    ballot: tuple[int, int, list[str]] | None = None
    # A poll this write opened with a timer: (poll id, when it closes, as stored).
    timer: tuple[int, datetime] | None = None
    # Published once the reply is sent: a revocation must not close the connection
    # that asked for it before its ack (with the new link) is on its way.
    after_reply: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
