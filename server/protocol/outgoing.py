"""Messages the server sends, as models: the other half of the contract.

The server builds these messages as plain dicts (for speed on the fan-out path);
these models exist so the machine-readable spec (``server/protocol/asyncapi.py``,
served at ``/protocol/asyncapi.json``) describes every message a client can
receive. ``tests/protocol/test_asyncapi.py`` checks every message a representative
run sends against them, so a field added in the code and not here fails a test.

Every object is closed (``additionalProperties: false``): a new field is a
change to the contract and must be written down here first. Deep result shapes
that only the big screen draws (budget results, shifts, the evaluation summary)
are described in docs/protocol.md and left open below their top level.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from server.protocol.views import (
    Breakdown,
    Closed,
    Comment,
    Demographic,
    DemographicQuestion,
    Event,
    Open,
    Poll,
    Question,
    Screen,
    Shift,
    Site,
    Tally,
    Theme,
)

# -- hello: the first message on every connection ----------------------------


class TableInfo(Closed):
    id: int
    name: str
    site: str


class EventTitle(Closed):
    title: str


class TableComment(Closed):
    id: str = Field(description="the client's uuid the comment was sent with")
    comment_id: int
    seq: int
    text: str
    question_id: int | None
    star: bool


class TableHello(Closed):
    type: Literal["hello"]
    role: Literal["table"]
    table: TableInfo
    event: EventTitle
    question: Question | None
    questions: list[Question] = Field(
        description="the agenda's questions, so the table can name the question each of "
        "its earlier comments answered"
    )
    last_seq: int = Field(description="the highest seq the server has committed for this table")
    poll: Poll | None = Field(description="the open allocation poll, or null")
    comments: list[TableComment] = Field(
        description="the table's latest stored comments (at most 300), in seq order, "
        "whichever device sent them"
    )


class EventCode(Closed):
    title: str
    code: str


class Ballot(Closed):
    choice: list[str]
    seq: int
    amounts: dict[str, int] | None = None


class PhoneHello(Closed):
    type: Literal["hello"]
    role: Literal["participant"]
    event: EventCode
    demographics: list[DemographicQuestion]
    answers: dict[str, str]
    poll: Poll | None = Field(description="the open poll (at most one is open), or null")
    ballot: Ballot | None
    evaluation: Open | None = Field(description="the open survey (EVAL), or null")


class ScreenHello(Closed):
    """The hello of a display, the theme team and the producer."""

    type: Literal["hello"]
    role: Literal["display", "team", "producer"]
    site: Site | None
    event: Event
    breakdowns: list[Breakdown]
    tallies: list[Tally]
    demographics: list[Demographic]
    themes: list[Theme]
    hub_healthy: bool
    shifts: list[Shift]
    version: int = Field(description="server clock (ms) when this hello was read")
    comments: list[Comment] | None = Field(None, description="team and producer only")
    evaluation_summary: Open | None = Field(None, description="team and producer only")


# -- answers to a client's frame ----------------------------------------------


class Ack(Closed):
    """A write is committed. Extra fields depend on the write (docs/protocol.md)."""

    type: Literal["ack"]
    id: str
    comment_id: int | None = Field(None, description="comment")
    seq: int | None = Field(None, description="comment, vote")
    poll_id: int | None = Field(None, description="vote, table_allocation, poll_from_themes")
    applied: bool | None = Field(None, description="vote: false if a newer ballot stands")
    version: int | None = Field(
        None, description="vote: a tally with a higher version includes this ballot"
    )
    amounts: dict[str, int] | None = Field(None, description="table_allocation")
    theme: str | None = Field(None, description="curation ops")
    new_theme: str | None = Field(None, description="split")
    comments: list[int] | None = Field(
        None, description="move, discard: every comment moved, near-duplicates included"
    )
    log_id: int | None = Field(None, description="curation ops")
    undone: int | None = Field(None, description="undo")
    published: int | None = Field(None, description="publish")
    themes: Open | None = Field(None, description="sync: the question's `themes` message")
    role: str | None = Field(None, description="reissue_token, revoke_token")
    table: int | None = Field(None, description="reissue_token, revoke_token")
    token: str | None = Field(None, description="reissue_token")
    link: str | None = Field(None, description="reissue_token")
    revoked: int | None = Field(None, description="reissue_token, revoke_token")
    closed: list[int] | None = Field(
        None, description="open_poll: the polls it closed (one poll is open at a time)"
    )


class Error(Closed):
    """A refused frame. ``id`` is the frame's id, or null."""

    type: Literal["error"]
    id: str | None
    code: Literal[
        "invalid",
        "unknown_type",
        "forbidden",
        "not_found",
        "conflict",
        "poll_closed",
        "rate_limited",
        "server_error",
    ]
    message: str = Field(description="fit to show to a person")
    retry_after: float | None = Field(None, description="rate_limited only: seconds")


class Pong(Closed):
    type: Literal["pong"]


# -- pushed ---------------------------------------------------------------------

BY = "the label of the producer link whose write caused this notice (not on others)"


class QuestionPush(Closed):
    type: Literal["question"]
    question: Question | None
    by: str | None = Field(None, description=BY)


class PollPush(Closed):
    type: Literal["poll"]
    poll: Poll
    by: str | None = Field(None, description=BY)


class TallyPush(Tally):
    type: Literal["tally"]


class DemographicsPush(Closed):
    type: Literal["demographics"]
    questions: list[Demographic]
    version: int = Field(description="server clock (ms) when read")


class ScreenChanged(Screen):
    type: Literal["screen_changed"]
    by: str | None = Field(None, description=BY)


class HubHealth(Closed):
    type: Literal["hub"]
    healthy: bool


class CommentPush(Closed):
    type: Literal["comment"]
    comment: Comment


class StarPush(Closed):
    type: Literal["star"]
    comment_id: int
    star: bool


class TableCommentPush(Closed):
    """To every connection of one table: a comment of the table was stored or its
    star changed, from whichever of the table's devices (the sender's included)."""

    type: Literal["table_comment"]
    comment: TableComment


class Discarded(Closed):
    id: int
    reason: str


class Retired(Closed):
    """A theme a live re-clustering dissolved, and where most of its comments went."""

    theme: str
    label: str
    size: int
    into: str | None
    into_label: str | None


class ThemesPush(Closed):
    type: Literal["themes"]
    question_id: int
    themes: list[Theme]
    unassigned: list[int]
    discarded: list[Discarded]
    counts: dict[str, int]
    retired: list[Retired] | None = Field(
        None, description="after a live re-clustering: the themes it dissolved"
    )


class PublishedPush(Closed):
    type: Literal["published"]
    themes: list[Theme]


class EvaluationPush(Closed):
    type: Literal["evaluation"]
    evaluation: Open | None
    by: str | None = Field(None, description=BY)


class EvaluationSummaryPush(Closed):
    type: Literal["evaluation_summary"]
    summary: Open


# What each role can receive (the endpoint's "receive" operation in the spec).
# (`event:` topic pushes reach every role, the survey's opening included.)
_COMMON: list[type[BaseModel]] = [
    Ack,
    Error,
    Pong,
    PollPush,
    QuestionPush,
    ScreenChanged,
    EvaluationPush,
]
_SCREEN: list[type[BaseModel]] = [
    ScreenHello,
    TallyPush,
    Breakdown,
    Shift,
    DemographicsPush,
    HubHealth,
    PublishedPush,
]
RECEIVES: dict[str, list[type[BaseModel]]] = {
    "table": [TableHello, *_COMMON, TableCommentPush],
    "participant": [PhoneHello, *_COMMON],
    "display": [*_SCREEN, *_COMMON],
    "team": [
        ScreenHello,
        *_COMMON,
        CommentPush,
        StarPush,
        ThemesPush,
        HubHealth,
        EvaluationSummaryPush,
    ],
    "producer": [
        *_SCREEN,
        *_COMMON,
        CommentPush,
        StarPush,
        EvaluationSummaryPush,
    ],
}


class ProtocolBreach(Exception):
    """The server was about to send a message the spec does not describe."""


def message_type(model: type[BaseModel]) -> str:
    """The ``type`` a message model stands for (its Literal)."""
    return str(model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


def check(role: str, message: dict[str, object]) -> None:
    """Validate one outgoing message against the spec's models for ``role``
    (``TOWNHALL_CHECK_PROTOCOL``; the test suite runs with it on)."""
    models = [m for m in RECEIVES[role] if message_type(m) == message.get("type")]
    if not models:
        raise ProtocolBreach(f"{role} is not meant to receive {message.get('type')!r}")
    errors = []
    for model in models:
        try:
            model.model_validate(message)
            return
        except ValidationError as exc:
            errors.append(f"{model.__name__}: {exc}")
    raise ProtocolBreach("; ".join(errors)[:2000])
