"""The event model, as database tables.

Every row a client causes carries the client's UUID (``client_id``) so a
resend is recognised and acked again instead of being stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True)
    title: str
    code: str = Field(index=True, unique=True, description="Short code participants type")
    languages: str = "en"
    current_question_id: int | None = None
    screen_mode: str = "poll"  # what every big screen shows: poll, themes, demographics, join
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
    last_seq: int = 0


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
    __table_args__ = (UniqueConstraint("table_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    table_id: int = Field(foreign_key="event_table.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id", index=True)
    client_id: str = Field(unique=True, index=True)
    seq: int
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


class PollOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    position: int
    key: str
    label: str


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    joined_at: datetime = Field(default_factory=utcnow)


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
    seq: int
    client_id: str
    updated_at: datetime = Field(default_factory=utcnow)
