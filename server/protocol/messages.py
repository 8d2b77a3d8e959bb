"""Incoming websocket messages, validated. Documented in docs/protocol.md."""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from server.core.errors import InvalidMessage, UnknownMessage

MAX_COMMENT = 2000
MAX_AT_ONCE = 500  # comments moved or discarded by one team op
# A row's id (poll, question, comment): the keys are 32-bit; PostgreSQL fails on a
# larger number (server_error, "send it again"), so it is invalid on every database.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Write(_Msg):
    id: str

    @field_validator("id")
    @classmethod
    def _uuid(cls, v: str) -> str:
        try:
            return str(uuid.UUID(v))
        except ValueError as exc:
            raise ValueError("id must be a UUID") from exc


class Ping(_Msg):
    type: Literal["ping"]


class CommentMsg(_Write):
    type: Literal["comment"]
    seq: int = Field(ge=1)
    text: str
    question_id: RowId | None = None
    star: bool = False

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("the comment is empty")
        if len(v) > MAX_COMMENT:
            raise ValueError(f"the comment is longer than {MAX_COMMENT} characters")
        return v


class StarMsg(_Write):
    type: Literal["star"]
    comment: str
    star: bool


class DemographicsMsg(_Write):
    type: Literal["demographics"]
    answers: dict[str, str]


class VoteMsg(_Write):
    type: Literal["vote"]
    poll_id: RowId
    seq: int = Field(ge=1)
    # Allocation polls send ``amounts`` instead (docs/budgeting.md); values are
    # checked in server/core/budget.py so a refusal can say what is wrong in words.
    choice: list[str] = Field(default_factory=list, max_length=50)
    amounts: dict[str, Any] | None = Field(None, max_length=50)


class TableAllocationMsg(_Write):
    type: Literal["table_allocation"]
    poll_id: RowId
    amounts: dict[str, Any] = Field(max_length=50)


class SetQuestionMsg(_Write):
    type: Literal["set_question"]
    question_id: RowId | None


class OpenPollMsg(_Write):
    type: Literal["open_poll"]
    poll_id: RowId
    seconds: int | None = Field(None, ge=5, le=3600)


class ClosePollMsg(_Write):
    type: Literal["close_poll"]
    poll_id: RowId


class ScreenMsg(_Write):
    type: Literal["screen"]
    mode: Literal["poll", "breakdown", "themes", "demographics", "join"]
    # Which poll (poll, breakdown) or question (themes) to show; none keeps the last one.
    poll_id: RowId | None = None
    question_id: RowId | None = None


class ScreenFollowMsg(_Write):
    """Pin the screens (false) or let them follow the room again (true)."""

    type: Literal["screen_follow"]
    follow: bool


# -- theme-team workbench and themes → poll (see docs/workbench.md) ---------


class _TeamOp(_Write):
    """Every curation op names its question and, optionally, the member's
    display name (typed once on the page) so the log says who did it."""

    question_id: RowId
    name: str = Field("", max_length=60)


class SyncMsg(_TeamOp):
    type: Literal["sync"]


class RenameMsg(_TeamOp):
    type: Literal["rename"]
    theme: str
    version: int
    label: str = Field(min_length=1, max_length=200)


class MergeMsg(_TeamOp):
    type: Literal["merge"]
    themes: list[str] = Field(min_length=1, max_length=50)
    into: str
    versions: dict[str, int]
    label: str | None = Field(None, max_length=200)


class SplitMsg(_TeamOp):
    type: Literal["split"]
    theme: str
    version: int
    comments: list[RowId] | None = Field(None, max_length=5000)
    label: str | None = Field(None, max_length=200)


class _OnComments(_TeamOp):
    """An op on one ``comment`` or on several ``comments`` at once (a drag of a
    multi-selection): several are applied as one step, one log row, one undo."""

    comment: RowId | None = None
    comments: list[RowId] | None = Field(None, min_length=1, max_length=MAX_AT_ONCE)

    @model_validator(mode="after")
    def _one_or_many(self) -> _OnComments:
        if (self.comment is None) == (self.comments is None):
            raise ValueError("give either comment or comments")
        return self

    @property
    def ids(self) -> list[int]:
        """The comments acted on, in the order given, each once."""
        given = self.comments if self.comments is not None else [self.comment]
        return list(dict.fromkeys(c for c in given if c is not None))


class MoveMsg(_OnComments):
    type: Literal["move"]
    to: str | None
    version: int | None = None


class DiscardMsg(_OnComments):
    type: Literal["discard"]
    reason: str = Field(min_length=1, max_length=500)
    version: int | None = None


class RestoreMsg(_TeamOp):
    type: Literal["restore"]
    comment: RowId


class PinQuoteMsg(_TeamOp):
    type: Literal["pin_quote"]
    theme: str
    comment: RowId
    version: int


class UndoMsg(_TeamOp):
    type: Literal["undo"]


class RethemeMsg(_TeamOp):
    type: Literal["retheme"]


class PublishMsg(_TeamOp):
    type: Literal["publish"]
    themes: dict[str, int] = Field(max_length=100)


class PollFromThemesMsg(_Write):
    type: Literal["poll_from_themes"]
    question_id: RowId
    kind: Literal["multi", "ranking"]
    max_choices: int | None = Field(None, ge=1, le=50)
    prompt: str | None = Field(None, max_length=300)


# -- evaluation survey and follow-up contacts (docs/evaluation.md) ----------


class EvaluationMsg(_Write):
    type: Literal["evaluation"]
    answers: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict)
    # absent: unchanged; null: would rather not say
    table: int | None = Field(None, ge=1, le=100_000)


class FollowupMsg(_Write):
    type: Literal["followup"]
    email: str = Field(min_length=3, max_length=254)
    remove: bool = False


class OpenEvaluationMsg(_Write):
    type: Literal["open_evaluation"]


class CloseEvaluationMsg(_Write):
    type: Literal["close_evaluation"]


# -- token administration, producer only (docs/protocol.md) ---------------


class _AdminMsg(_Write):
    role: Literal["table", "team", "display", "producer"]
    table: int | None = Field(None, ge=1, le=100_000)


class ReissueTokenMsg(_AdminMsg):
    type: Literal["reissue_token"]


class RevokeTokenMsg(_AdminMsg):
    type: Literal["revoke_token"]


TEAM_OPS = {
    "sync",
    "rename",
    "merge",
    "split",
    "move",
    "discard",
    "restore",
    "pin_quote",
    "undo",
    "retheme",
    "publish",
}


Incoming = Annotated[
    Ping
    | CommentMsg
    | StarMsg
    | DemographicsMsg
    | VoteMsg
    | TableAllocationMsg
    | SetQuestionMsg
    | OpenPollMsg
    | ClosePollMsg
    | ScreenMsg
    | ScreenFollowMsg
    | SyncMsg
    | RenameMsg
    | MergeMsg
    | SplitMsg
    | MoveMsg
    | DiscardMsg
    | RestoreMsg
    | PinQuoteMsg
    | UndoMsg
    | RethemeMsg
    | PublishMsg
    | PollFromThemesMsg
    | EvaluationMsg
    | FollowupMsg
    | OpenEvaluationMsg
    | CloseEvaluationMsg
    | ReissueTokenMsg
    | RevokeTokenMsg,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[Any] = TypeAdapter(Incoming)


def _types(union: Any) -> frozenset[str]:
    """The ``type`` of every message in the union: the list of known types is the schema's."""
    members = get_args(get_args(union)[0])
    return frozenset(get_args(m.model_fields["type"].annotation)[0] for m in members)


KNOWN_TYPES = _types(Incoming)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _no_constants(name: str) -> Any:
    raise InvalidMessage(f"{name} is not a number a message may carry")


def loads(text: str) -> Any:
    """JSON as the database can store it: no NaN or Infinity, no integer of more
    digits than Python converts (a ValueError json.loads does not wrap), no integer
    beyond 64 bits, and no string or key with a NUL or a lone surrogate (neither
    SQLite nor PostgreSQL stores those). Refused here, before any write, a resend
    can never succeed, so the client is told ``invalid``, not to send it again."""
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc.msg}") from exc
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise InvalidMessage("a number in the message is too long") from exc
    _check_storable(data)
    return data


def _check_storable(data: Any) -> None:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if _UNSTORABLE.search(item):
                raise InvalidMessage(
                    "the text contains a character that cannot be stored "
                    "(a NUL or a lone surrogate); remove it and send again"
                )
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise InvalidMessage("a number in the message is out of range (64-bit integers)")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidMessage("a number in the message is out of range")


def parse(text: str) -> Any:
    """Parse one frame; raise InvalidMessage/UnknownMessage with a clear message."""
    data = loads(text)
    if not isinstance(data, dict):
        raise InvalidMessage("a message is a JSON object with a 'type'")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:  # a list type is unhashable
        raise UnknownMessage(f"unknown message type {kind!r}"[:200])
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise InvalidMessage(f"{where}: {first['msg'].removeprefix('Value error, ')}") from exc


def message_id(text: str) -> str | None:
    """The client id of a frame, if it has one, so even a refused write can be answered."""
    try:
        data = json.loads(text, parse_constant=float)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])[:64]
    return None
