"""A table's comments as the outbox keeps them and its UIs show them."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_TEXT = 2000  # the server refuses longer comments; catch it before saving


class State(StrEnum):
    QUEUED = "queued"  # saved, never written to a socket
    SENT = "sent"  # maybe written (marked just before the write), no ack yet
    ACKED = "acked"  # committed by the server
    REFUSED = "refused"  # the server said it will never accept it as is


WAITING = (State.QUEUED, State.SENT)


@dataclass(frozen=True, slots=True)
class Comment:
    uuid: str
    seq: int
    text: str
    question_id: int | None
    star: bool
    star_initial: bool
    star_synced: bool
    created_at: str
    state: State
    comment_id: int | None
    error: str | None
    elsewhere: bool = False  # typed on another device of the table (``Outbox.adopt``)

    @property
    def waiting(self) -> bool:
        return self.state in WAITING


@dataclass(frozen=True, slots=True)
class StarOp:
    id: str
    comment: str
    star: bool


def table_key(server_url: str, token: str) -> str:
    """Stable per-table key; a hash so the token never lands in the file."""
    return hashlib.sha256(f"{server_url}\n{token}".encode()).hexdigest()[:32]


COLUMNS = (
    "uuid, seq, text, question_id, star, star_initial, star_server, created_at, state, "
    "comment_id, error, source"
)
ELSEWHERE = "server:"  # the source of a comment another device typed, before its uuid


def comment_row(r: sqlite3.Row) -> Comment:
    return Comment(
        uuid=r["uuid"],
        seq=r["seq"],
        text=r["text"],
        question_id=r["question_id"],
        star=bool(r["star"]),
        star_initial=bool(r["star_initial"]),
        star_synced=r["star_server"] is not None and bool(r["star_server"]) == bool(r["star"]),
        created_at=r["created_at"],
        state=State(r["state"]),
        comment_id=r["comment_id"],
        error=r["error"],
        elsewhere=(r["source"] or "").startswith(ELSEWHERE),
    )


def validate_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("comment is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"comment is {len(text)} characters; the limit is {MAX_TEXT}")
    return text


def is_stored_comment(s: Any) -> bool:
    """Whether an entry of a hello's ``comments`` has what ``Outbox.adopt`` stores."""
    return (
        isinstance(s, dict)
        and isinstance(s.get("id"), str)
        and isinstance(s.get("seq"), int)
        and isinstance(s.get("text"), str)
    )
