"""One consistent read of an event, for the report and the exports.

A handful of bulk queries in one session (one snapshot), turned into plain
data: the report and the exports are pure functions of an ``EventData``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from server.core.ballots import poll_spec
from server.core.tally import Ballot, PollSpec
from server.storage.budget_store import table_amounts
from server.storage.db import Database
from server.storage.evaluation_store import EvaluationData
from server.storage.evaluation_store import load as load_evaluation
from server.storage.models import (
    Comment,
    CurationLog,
    DemographicAnswer,
    DemographicOption,
    DemographicQuestion,
    Event,
    EventTable,
    EventText,
    Participant,
    Poll,
    PollOption,
    Question,
    Round,
    Site,
    Theme,
    ThemeMembership,
    ThemeState,
    Vote,
    utcnow,
)

SITE_KEY = "site"  # pseudo demographic question: the participant's site


class EventExists(Exception):
    """An event with this slug is already in the database."""


class UnknownEvent(LookupError):
    """No such event; ``known`` lists (slug, title) of the events that exist."""

    def __init__(self, wanted: object, known: list[tuple[str, str]]) -> None:
        listing = ", ".join(f"{slug} ({title})" for slug, title in known) or "none"
        super().__init__(f"no event {wanted!r} in this database; events: {listing}")
        self.known = known


@dataclass
class PollData:
    poll: Poll
    options: list[PollOption]
    spec: PollSpec
    votes: list[tuple[int, list[str]]]  # (participant id, choice), in vote order
    amounts: dict[int, dict[str, int]] = field(default_factory=dict)  # allocation ballots
    tables: dict[str, dict[str, int]] = field(default_factory=dict)  # table name -> allocation

    def ballots(self, demographics: Mapping[int, Mapping[str, str]]) -> list[Ballot]:
        return [Ballot(str(pid), choice, demographics.get(pid, {})) for pid, choice in self.votes]


@dataclass
class DemoQuestion:
    question: DemographicQuestion
    options: list[DemographicOption]

    @property
    def labels(self) -> dict[str, str]:
        return {o.key: o.label for o in self.options}

    @property
    def census(self) -> dict[str, float]:
        return {o.key: o.census_share for o in self.options if o.census_share is not None}


@dataclass
class EventData:
    event: Event
    as_of: datetime
    sites: dict[int, Site]
    tables: dict[int, EventTable]
    rounds: list[Round]
    questions: list[Question]
    polls: list[PollData]
    demographics: list[DemoQuestion]
    participants: dict[int, int | None]  # participant id -> site id
    answers: dict[int, dict[str, str]]  # participant id -> {question key: option key}
    comments: list[Comment]
    themes: list[Theme]
    members: dict[int, list[int]]  # theme id -> comment ids
    discarded: dict[int, dict[int, str]]  # question id -> {comment id: reason}
    curation: list[CurationLog]
    _site_answers: dict[int, dict[str, str]] = field(default_factory=dict)
    evaluation: EvaluationData | None = None  # the end-of-meeting survey, if the event has one
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> source -> text

    @property
    def languages(self) -> list[str]:
        return [x for x in self.event.languages.split(",") if x] or ["en"]

    @property
    def census(self) -> dict[str, dict[str, float]]:
        return {d.question.key: d.census for d in self.demographics if d.census}

    def with_site(self) -> dict[int, dict[str, str]]:
        """Each participant's answers plus their site key (absent when unknown)."""
        if not self._site_answers:
            keys = {sid: s.key for sid, s in self.sites.items()}
            for pid, site_id in self.participants.items():
                row = dict(self.answers.get(pid, {}))
                if site_id in keys:
                    row[SITE_KEY] = keys[site_id]
                self._site_answers[pid] = row
        return self._site_answers

    def question_by_id(self) -> dict[int, Question]:
        return {q.id: q for q in self.questions if q.id is not None}


async def find_event(s: Any, wanted: int | str) -> Event:
    ev = None
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        ev = await s.get(Event, int(wanted))
    if ev is None and isinstance(wanted, str):
        ev = (await s.exec(select(Event).where(Event.slug == wanted))).first()
    if ev is None:
        rows = (await s.exec(select(Event.slug, Event.title).order_by(col(Event.id)))).all()
        raise UnknownEvent(wanted, [(slug, title) for slug, title in rows])
    return ev


async def load_event_data(db: Database, wanted: int | str) -> EventData:
    async with db.session() as s:
        ev = await find_event(s, wanted)
        assert ev.id is not None
        as_of = utcnow()
        sites, tables, rounds, questions = await _agenda(s, ev.id)
        polls = await _polls(s, ev.id)
        demographics, participants, answers = await _people(s, ev.id)
        comments, themes, members, discarded, curation = await _themes(s, ev.id)
        evaluation = await load_evaluation(s, ev.id)
        texts = await _texts(s, ev.id)
    return EventData(
        event=ev,
        as_of=as_of,
        sites={x.id: x for x in sites if x.id is not None},
        tables={t.id: t for t in tables if t.id is not None},
        rounds=rounds,
        questions=questions,
        polls=polls,
        demographics=demographics,
        participants=participants,
        answers=answers,
        comments=comments,
        themes=themes,
        members=members,
        discarded=discarded,
        curation=curation,
        evaluation=evaluation,
        texts=texts,
    )


async def _rows(s: Any, stmt: Any) -> list[Any]:
    return list((await s.exec(stmt)).all())


async def _agenda(s: Any, eid: int) -> tuple[list[Site], list[EventTable], list[Round], list[Any]]:
    """Sites, tables, rounds, and the questions in agenda order."""
    sites = await _rows(s, select(Site).where(Site.event_id == eid).order_by(col(Site.id)))
    tables = await _rows(
        s, select(EventTable).where(EventTable.event_id == eid).order_by(col(EventTable.number))
    )
    rounds = await _rows(
        s, select(Round).where(Round.event_id == eid).order_by(col(Round.position))
    )
    questions = await _rows(
        s, select(Question).where(Question.event_id == eid).order_by(col(Question.position))
    )
    order = {r.id: r.position for r in rounds}
    questions.sort(key=lambda q: (order.get(q.round_id, 0), q.position))
    return sites, tables, rounds, questions


async def _polls(s: Any, eid: int) -> list[PollData]:
    """Every poll with options, its ballots in vote order, and tables' allocations."""
    polls = await _rows(s, select(Poll).where(Poll.event_id == eid).order_by(col(Poll.position)))
    poll_ids = [p.id for p in polls]
    options = await _rows(
        s,
        select(PollOption)
        .where(col(PollOption.poll_id).in_(poll_ids))
        .order_by(col(PollOption.position)),
    )
    votes = await _rows(
        s,
        select(Vote.poll_id, Vote.participant_id, Vote.choice, Vote.amounts)
        .where(col(Vote.poll_id).in_(poll_ids))
        .order_by(col(Vote.updated_at), col(Vote.id)),
    )
    allocations = {p.id: await table_amounts(s, p.id) for p in polls if p.kind == "allocation"}
    by_poll: dict[int, list[PollOption]] = defaultdict(list)
    for o in options:
        by_poll[o.poll_id].append(o)
    poll_votes: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
    poll_amounts: dict[int, dict[int, dict[str, int]]] = defaultdict(dict)
    for poll_id, pid, choice, amounts in votes:
        poll_votes[poll_id].append((pid, json.loads(choice)))
        if amounts:
            poll_amounts[poll_id][pid] = json.loads(amounts)
    return [
        PollData(
            p,
            by_poll[p.id],
            poll_spec(p, by_poll[p.id]),
            poll_votes[p.id],
            poll_amounts[p.id],
            allocations.get(p.id, {}),
        )
        for p in polls
        if by_poll[p.id]
    ]


async def _people(
    s: Any, eid: int
) -> tuple[list[DemoQuestion], dict[int, int | None], dict[int, dict[str, str]]]:
    """The demographic questions, each participant's site, and their answers by key."""
    dqs = await _rows(
        s,
        select(DemographicQuestion)
        .where(DemographicQuestion.event_id == eid)
        .order_by(col(DemographicQuestion.position)),
    )
    dopts = await _rows(
        s,
        select(DemographicOption)
        .where(col(DemographicOption.question_id).in_([q.id for q in dqs]))
        .order_by(col(DemographicOption.position)),
    )
    participants = await _rows(
        s, select(Participant.id, Participant.site_id).where(Participant.event_id == eid)
    )
    answers = await _rows(
        s,
        select(
            DemographicAnswer.participant_id,
            DemographicAnswer.question_id,
            DemographicAnswer.option_key,
        )
        .join(Participant, col(DemographicAnswer.participant_id) == Participant.id)
        .where(Participant.event_id == eid),
    )
    by_dq: dict[int, list[DemographicOption]] = defaultdict(list)
    for o in dopts:
        by_dq[o.question_id].append(o)
    dq_key = {q.id: q.key for q in dqs}
    answer_map: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, qid, option_key in answers:
        answer_map[pid][dq_key[qid]] = option_key
    return (
        [DemoQuestion(q, by_dq[q.id]) for q in dqs],
        {pid: site_id for pid, site_id in participants},
        dict(answer_map),
    )


async def _themes(s: Any, eid: int) -> tuple[
    list[Comment], list[Theme], dict[int, list[int]], dict[int, dict[int, str]], list[CurationLog]
]:
    """Comments, themes with their members, discarded comments, and the curation log."""
    comments = await _rows(
        s, select(Comment).where(Comment.event_id == eid).order_by(col(Comment.id))
    )
    themes = await _rows(s, select(Theme).where(Theme.event_id == eid).order_by(col(Theme.id)))
    members = await _rows(
        s,
        select(ThemeMembership.theme_id, ThemeMembership.comment_id)
        .join(Theme, col(ThemeMembership.theme_id) == Theme.id)
        .where(Theme.event_id == eid),
    )
    states = await _rows(
        s,
        select(ThemeState.question_id, ThemeState.state)
        .join(Question, col(ThemeState.question_id) == Question.id)
        .where(Question.event_id == eid),
    )
    curation = await _rows(
        s,
        select(CurationLog)
        .where(CurationLog.event_id == eid)
        .order_by(col(CurationLog.at), col(CurationLog.id)),
    )
    member_map: dict[int, list[int]] = defaultdict(list)
    for theme_id, comment_id in members:
        member_map[theme_id].append(comment_id)
    members_sorted = {k: sorted(v) for k, v in member_map.items()}
    discarded = {qid: _discarded(state) for qid, state in states}
    return comments, themes, members_sorted, discarded, curation


async def _texts(s: Any, eid: int) -> dict[str, dict[str, str]]:
    """The event's own texts in its other languages: lang -> first-language text -> text."""
    rows = await _rows(
        s, select(EventText.lang, EventText.source, EventText.text).where(EventText.event_id == eid)
    )
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for lang, source, text in rows:
        out[lang][source] = text
    return dict(out)


def _discarded(state: str) -> dict[int, str]:
    try:
        raw = json.loads(state).get("discarded", {})
    except (ValueError, AttributeError):
        return {}
    return {int(k): str(v) for k, v in raw.items() if str(k).isdigit()}
