"""The event model, as database tables.

Every row a client causes carries the client's UUID (``client_id``) so a
resend is recognised and acked again instead of being stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """A stored time for a client or a file: the database gives it back without its
    zone, and it is UTC."""
    return dt.replace(tzinfo=UTC).isoformat() if dt is not None else None


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True)
    title: str
    code: str = Field(index=True, unique=True, description="Short code participants type")
    languages: str = "en"
    timezone: str = "UTC"  # IANA name; the report's dates and times are local to the event
    current_question_id: int | None = None
    screen_mode: str = "poll"  # what every big screen shows: poll, themes, demographics, join
    # Which poll / question's themes the screens show, and whether they follow the
    # producer's actions (poll opened or closed, themes published) by themselves.
    screen_poll_id: int | None = None
    screen_question_id: int | None = None
    screen_follow: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    key: str
    name: str


class EventTable(SQLModel, table=True):
    __tablename__ = "event_table"
    __table_args__ = (UniqueConstraint("event_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    number: int
    name: str
    last_seq: int = Field(default=0, sa_type=BigInteger)  # 64-bit, as the protocol's seq


class AccessToken(SQLModel, table=True):
    """Only a hash of each token is kept: a copied database grants nothing."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    role: str  # producer, team, table, display, participant
    token_hash: str = Field(index=True, unique=True)
    table_id: int | None = Field(default=None, foreign_key="event_table.id")
    participant_id: int | None = Field(default=None, foreign_key="participant.id")
    # A display token for one site's screens shows that site's figures only.
    site_id: int | None = Field(default=None, foreign_key="site.id")
    label: str = ""
    revoked: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Round(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    position: int
    key: str
    title: str


class Question(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    round_id: int = Field(foreign_key="round.id")
    position: int
    key: str
    text: str


class Comment(SQLModel, table=True):
    # A client id is the sender's (docs/security.md): two tables may send the same UUID.
    __table_args__ = (
        UniqueConstraint("table_id", "seq"),
        UniqueConstraint("table_id", "client_id", name="uq_comment_table_client"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    table_id: int = Field(foreign_key="event_table.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id", index=True)
    client_id: str = Field(index=True)
    seq: int = Field(sa_type=BigInteger)
    text: str = Field(sa_column=Column(Text, nullable=False))
    star: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Theme(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("question_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    key: str  # the theming engine's stable theme id
    label: str
    quotes: str = "[]"  # JSON list of comment ids, most representative first
    published: bool = False
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ThemeMembership(SQLModel, table=True):
    theme_id: int = Field(foreign_key="theme.id", primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", primary_key=True)


class ThemeState(SQLModel, table=True):
    """The theming engine's whole state for one question, so a restart resumes it."""

    question_id: int = Field(foreign_key="question.id", primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class EmbeddingCacheEntry(SQLModel, table=True):
    __tablename__ = "embedding_cache"
    key: str = Field(primary_key=True)  # sha256 of the normalised text
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CurationLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id", index=True)
    actor: str
    action: str
    theme_key: str | None = None
    before: str = "{}"
    after: str = "{}"
    at: datetime = Field(default_factory=utcnow)


class Poll(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("event_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    key: str
    round_id: int | None = Field(default=None, foreign_key="round.id")
    kind: str  # single, multi, ranking, scale
    prompt: str
    max_choices: int | None = None
    status: str = "draft"  # draft, open, closed
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    position: int = 0
    # A poll asked twice (event file ``twice = true``) is two rows sharing a
    # pair_key, phase "before" and "after"; see server/core/shift.py.
    pair_key: str | None = Field(default=None, index=True)
    phase: str | None = None
    # Budgeting ballots (server/core/budget.py): allocation/projects budget, tradeoff deficit.
    budget: int | None = Field(default=None, sa_type=BigInteger)
    unit: str | None = None
    deficit: int | None = Field(default=None, sa_type=BigInteger)


class PollOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    position: int
    key: str
    label: str
    cost: int | None = Field(default=None, sa_type=BigInteger)  # projects ballots
    delta: int | None = Field(default=None, sa_type=BigInteger)  # tradeoff ballots


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    joined_at: datetime = Field(default_factory=utcnow)
    # Optional, given with the evaluation survey: checks the theme team's synthesis per table.
    table_number: int | None = None


class DemographicQuestion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    position: int
    key: str
    prompt: str


class DemographicOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="demographicquestion.id", index=True)
    position: int
    key: str
    label: str
    census_share: float | None = None


class DemographicAnswer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("participant_id", "question_id"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    question_id: int = Field(foreign_key="demographicquestion.id")
    option_key: str  # "prefer_not" when the participant chose not to say
    client_id: str


class Vote(SQLModel, table=True):
    """One ballot per participant per poll; a later ``seq`` replaces an earlier one."""

    __table_args__ = (UniqueConstraint("poll_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    choice: str  # JSON list of option keys
    seq: int = Field(sa_type=BigInteger)  # the phone page sends milliseconds since 1970
    client_id: str
    updated_at: datetime = Field(default_factory=utcnow)
    amounts: str | None = None  # allocation polls: JSON {option key: amount}


class TableAllocation(SQLModel, table=True):
    """A table's consensus allocation for a poll: one per table and poll, the latest wins."""

    __tablename__ = "table_allocation"
    __table_args__ = (UniqueConstraint("poll_id", "table_id"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    table_id: int = Field(foreign_key="event_table.id")
    amounts: str  # JSON {option key: amount}
    client_id: str
    updated_at: datetime = Field(default_factory=utcnow)


class Evaluation(SQLModel, table=True):
    """The end-of-meeting evaluation survey of one event (server/core/evaluation.py)."""

    event_id: int = Field(foreign_key="event.id", primary_key=True)
    status: str = "draft"  # draft, open, closed
    ask_table: bool = True
    followup: bool = True
    synthesis_key: str | None = None  # the question checking the themes, per table
    flag_mean: float = 2.5
    flag_min_answers: int = 3


class EvaluationQuestion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("event_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    position: int
    key: str
    text: str


class EvaluationAnswer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("participant_id", "question_id"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    question_id: int = Field(foreign_key="evaluationquestion.id", index=True)
    value: int  # 1..5
    client_id: str


class FollowupContact(SQLModel, table=True):
    """An email left for a later survey. Deliberately no participant id, no client
    id and no time of day: nothing joins it to a ballot (server/live/followup.py)."""

    __tablename__ = "followup_contact"
    __table_args__ = (UniqueConstraint("event_id", "email"),)
    id: str = Field(primary_key=True)  # random, so the row order says nothing about join order
    event_id: int = Field(foreign_key="event.id", index=True)
    email: str
    created_on: str  # ISO date only


class EventText(SQLModel, table=True):
    """One of the event file's texts in another of the event's languages, keyed by its
    first-language wording like a msgid (server/event/localtext.py)."""

    __tablename__ = "event_text"
    __table_args__ = (UniqueConstraint("event_id", "lang", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    lang: str
    source: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))


class HealthProbe(SQLModel, table=True):
    """One row /healthz writes to, to know the database still takes writes."""

    __tablename__ = "health_probe"
    id: int | None = Field(default=None, primary_key=True)
    checked: int = 0
