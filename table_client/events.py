"""What the sender tells its UIs: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from table_client.outbox import Comment


class Link(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    OFFLINE = "offline"
    REFUSED = "refused"  # token refused: the sender has stopped for good


@dataclass(frozen=True, slots=True)
class Status:
    link: Link
    waiting: int
    detail: str | None = None

    @property
    def label(self) -> str:
        if self.link is Link.REFUSED:
            return f"✖ token refused{': ' + self.detail if self.detail else ''}"
        if self.link is Link.CONNECTED:
            return (
                "● connected — all sent"
                if not self.waiting
                else (f"● connected — sending {self.waiting}")
            )
        word = "connecting" if self.link is Link.CONNECTING else "offline"
        return f"○ {word} — {self.waiting} waiting" if self.waiting else f"○ {word}"


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    text: str
    round: str

    @classmethod
    def parse(cls, raw: Any) -> Question | None:
        """None for "no question open", and for anything malformed: never crash on a push."""
        if not isinstance(raw, dict):
            return None
        try:
            qid = int(raw["id"])
        except (KeyError, TypeError, ValueError):
            return None
        return cls(id=qid, text=str(raw.get("text", "")), round=str(raw.get("round", "")))


@dataclass(frozen=True, slots=True)
class Hello:
    table_name: str
    site: str
    event_title: str
    question: Question | None
    questions: tuple[Question, ...] = ()  # the agenda, in order

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Hello:
        table = raw.get("table") or {}
        event = raw.get("event") or {}
        agenda = raw.get("questions")
        return cls(
            table_name=str(table.get("name", "")),
            site=str(table.get("site", "")),
            event_title=str(event.get("title", "")),
            question=Question.parse(raw.get("question")),
            questions=tuple(
                q for q in map(Question.parse, agenda if isinstance(agenda, list) else []) if q
            ),
        )


@dataclass(frozen=True, slots=True)
class QuestionChanged:
    question: Question | None


@dataclass(frozen=True, slots=True)
class CommentChanged:
    comment: Comment


Event = Status | Hello | QuestionChanged | CommentChanged
