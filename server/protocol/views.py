"""The objects inside the server's messages (``POLL``, ``RESULT``, ``THEME``… in
docs/protocol.md), as closed models for the AsyncAPI document; the messages
themselves are in ``server/protocol/outgoing.py``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Open = dict[str, Any]  # an object described in docs/protocol.md, not field by field here


class Closed(BaseModel):
    """Every object is closed: a field the code sends and the model lacks fails the tests."""

    model_config = ConfigDict(extra="forbid")


class Option(Closed):
    key: str
    label: str


class Poll(Closed):
    """A poll as every role sees it (``POLL`` in docs/protocol.md)."""

    id: int
    key: str
    kind: Literal["single", "multi", "ranking", "scale", "allocation", "projects", "tradeoff"]
    prompt: str
    max_choices: int | None
    status: Literal["draft", "open", "closed"]
    closes_at: str | None = Field(description="ISO 8601 time the timer closes it, or null")
    options: list[Option]
    pair_key: str | None
    phase: Literal["before", "after"] | None
    budget: int | None = Field(None, description="allocation/projects polls only")
    unit: str | None = None
    deficit: int | None = None
    costs: dict[str, int] | None = None
    deltas: dict[str, int] | None = None


class Question(Closed):
    id: int
    text: str
    round: str


class Round(Closed):
    id: int
    title: str
    questions: list[Question]


class Screen(Closed):
    """What the big screens show, and whether they follow the room by themselves."""

    mode: Literal["poll", "breakdown", "themes", "demographics", "join"]
    poll_id: int | None = Field(description="the poll shown (poll, breakdown); null: the latest")
    question_id: int | None = Field(description="the question whose themes are shown (themes)")
    follow: bool = Field(
        description="true: a poll opened or closed, or themes published, come up by themselves"
    )


class Event(Closed):
    """``EVENT``: the agenda and every poll, for screens, the team and the producer."""

    id: int
    title: str
    code: str
    screen_mode: str
    screen: Screen
    current_question: Question | None
    rounds: list[Round]
    polls: list[Poll]


class ResultOption(Closed):
    key: str
    label: str
    count: int
    percent: float
    borda: float | None = Field(None, description="ranking polls only")
    first_preferences: int | None = Field(None, description="ranking polls only")
    weighted_count: float | None = Field(None, description="weighted results only")
    weighted_percent: float | None = Field(None, description="weighted results only")


class Result(Closed):
    """``RESULT``: one poll's counts."""

    kind: str
    turnout: int = Field(description="valid ballots counted")
    rejected: int
    options: list[ResultOption]
    mean: float | None = Field(None, description="scale polls only")
    median: float | None = Field(None, description="scale polls only")
    effective_sample_size: float | None = Field(None, description="weighted results only")
    weighted_mean: float | None = Field(None, description="weighted scale results only")


class Tally(Closed):
    """A poll's live count; in a display's ``hello`` and pushed as ``tally``."""

    poll: Poll
    result: Result | None = Field(description="null while the site is suppressed")
    participants: int = Field(description="participants joined (at the site, for a site screen)")
    site_id: int | None
    version: int = Field(
        description="the server clock (ms since 1970) when the count was read; a vote acked "
        "with a lower `version` is in it. Show the highest version you have seen."
    )
    turnout: int | None = Field(
        description="ballots counted in this tally (= result.turnout); null when suppressed"
    )
    suppressed: bool | None = Field(
        None, description="true on a site screen while the small-groups rule hides the site"
    )
    budget: Open | None = Field(None, description="budget kinds only; see docs/budgeting.md")


class CrosstabRow(Closed):
    key: str
    label: str
    participants: int | None
    suppressed: bool
    result: Result | None


class Crosstab(Closed):
    prompt: str
    question_key: str
    threshold: int
    rows: list[CrosstabRow]
    total: Result | None


class Breakdown(Closed):
    type: Literal["breakdown"]
    poll_id: int
    weighted: Result | None
    crosstabs: list[Crosstab]
    version: int = Field(description="server clock (ms) when read, as a tally's")
    turnout: int = Field(description="ballots counted")
    budget: list[Open] | None = Field(None, description="budget kinds only")


class DemoOption(Closed):
    key: str
    label: str
    census: float | None
    count: int | None = Field(description="null for groups smaller than TOWNHALL_SMALL_CELL")


class Demographic(Closed):
    """``DEMO``: one demographic question with the room's answers against the census."""

    key: str
    prompt: str
    options: list[DemoOption]
    representativeness: float | None
    room_shares: dict[str, float] | None
    answered: int | None = Field(description="null while too few have answered to show")


class DemographicQuestion(Closed):
    key: str
    prompt: str
    options: list[Option]


class Comment(Closed):
    """``COMMENT``: one table comment, for the theme team and the producer."""

    id: int
    table: str | None
    table_id: int
    site: str | None
    question_id: int | None
    text: str
    star: bool
    at: str | None


class Quote(Closed):
    id: int
    text: str
    table_id: int


class SplitOffer(Closed):
    comments: list[int]
    example: str = Field(description="the most central of them")


class Theme(Closed):
    """``THEME``: a theme with the comments behind it."""

    id: int
    key: str = Field(description="stable across re-theming")
    question_id: int
    label: str
    size: int
    members: list[int]
    quotes: list[Quote]
    published: bool
    version: int
    keywords: list[str] | None = Field(
        None,
        description="in a themes message: up to five words or word pairs frequent in the "
        "theme and rare in the others",
    )
    suggested_label: str | None = Field(
        None,
        description="in a themes message, for a published theme whose members changed: the "
        "label they would give it now, when another than its own (only a rename applies it)",
    )
    split_offer: SplitOffer | None = Field(
        None,
        description="in a themes message, for a published or curated theme whose comments "
        "now form a distinct second group: the comments a split would take out (only a "
        "split applies it)",
    )


class Site(Closed):
    key: str
    name: str


class Shift(Closed):
    """How a poll asked twice moved (docs/protocol.md, "Polls asked twice")."""

    type: Literal["shift"]
    pair_key: str | None
    before_poll_id: int
    after_poll_id: int
    prompt: str
    shift: Open
    groups: list[Open]
