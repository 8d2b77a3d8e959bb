"""Read side: the snapshots each kind of client is sent, built from the database."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import tally as tallying
from server.models import (
    Comment,
    DemographicAnswer,
    DemographicOption,
    DemographicQuestion,
    Event,
    EventTable,
    Participant,
    Poll,
    PollOption,
    Question,
    Round,
    Site,
    Theme,
    ThemeMembership,
    Vote,
)
from server.screen import screen_state
from server.weighting import representativeness


def iso(dt: Any) -> str | None:
    return dt.replace(tzinfo=UTC).isoformat() if dt is not None else None


async def event_view(s: AsyncSession, event_id: int) -> dict[str, Any]:
    ev = await s.get(Event, event_id)
    assert ev is not None
    rounds = (
        await s.exec(select(Round).where(Round.event_id == event_id).order_by(col(Round.position)))
    ).all()
    questions = (
        await s.exec(
            select(Question).where(Question.event_id == event_id).order_by(col(Question.position))
        )
    ).all()
    polls = (
        await s.exec(select(Poll).where(Poll.event_id == event_id).order_by(col(Poll.position)))
    ).all()
    return {
        "id": ev.id,
        "title": ev.title,
        "code": ev.code,
        "screen_mode": ev.screen_mode,
        "screen": screen_state(ev),
        "current_question": question_view(
            next((q for q in questions if q.id == ev.current_question_id), None), rounds
        ),
        "rounds": [
            {
                "id": r.id,
                "title": r.title,
                "questions": [question_view(q, rounds) for q in questions if q.round_id == r.id],
            }
            for r in rounds
        ],
        "polls": [await poll_view(s, p) for p in polls],
    }


def question_view(q: Question | None, rounds: Any) -> dict[str, Any] | None:
    if q is None:
        return None
    rnd = next((r for r in rounds if r.id == q.round_id), None)
    return {"id": q.id, "text": q.text, "round": rnd.title if rnd else ""}


async def current_question(s: AsyncSession, event_id: int) -> dict[str, Any] | None:
    ev = await s.get(Event, event_id)
    if ev is None or ev.current_question_id is None:
        return None
    q = await s.get(Question, ev.current_question_id)
    rnd = await s.get(Round, q.round_id) if q else None
    return question_view(q, [rnd] if rnd else [])


async def poll_options(s: AsyncSession, poll_id: int) -> list[PollOption]:
    rows = await s.exec(
        select(PollOption).where(PollOption.poll_id == poll_id).order_by(col(PollOption.position))
    )
    return list(rows.all())


async def poll_view(s: AsyncSession, p: Poll) -> dict[str, Any]:
    assert p.id is not None
    from server.budget_views import poll_fields  # imports this module

    options = await poll_options(s, p.id)
    return {
        "id": p.id,
        "key": p.key,
        "kind": p.kind,
        "prompt": p.prompt,
        "max_choices": p.max_choices,
        "status": p.status,
        "closes_at": iso(p.closes_at),
        "options": [{"key": o.key, "label": o.label} for o in options],
        **poll_fields(p, options),
        # A poll asked twice: its pair key and "before" / "after" (else both null).
        "pair_key": p.pair_key,
        "phase": p.phase,
    }


def poll_spec(p: Poll, options: list[PollOption]) -> tallying.PollSpec:
    return tallying.PollSpec(
        kind=p.kind,  # type: ignore[arg-type]
        options=[(o.key, o.label) for o in options],
        max_choices=p.max_choices,
    )


async def ballots(
    s: AsyncSession, poll_id: int, site_id: int | None = None
) -> list[tallying.Ballot]:
    q = select(Vote.participant_id, Vote.choice).where(Vote.poll_id == poll_id)
    if site_id is not None:
        q = q.join(Participant, col(Participant.id) == Vote.participant_id).where(
            Participant.site_id == site_id
        )
    rows = (await s.exec(q)).all()
    return [tallying.Ballot(participant_id=str(pid), choice=json.loads(c)) for pid, c in rows]


async def tally_view(s: AsyncSession, poll_id: int, site_id: int | None = None) -> dict[str, Any]:
    """A poll's live result for the whole event, or for one site's participants."""
    p = await s.get(Poll, poll_id)
    assert p is not None
    options = await poll_options(s, poll_id)
    result = tallying.tally(poll_spec(p, options), await ballots(s, poll_id, site_id))
    q = select(func.count()).select_from(Participant).where(Participant.event_id == p.event_id)
    if site_id is not None:
        q = q.where(Participant.site_id == site_id)
    participants = int((await s.exec(q)).one())  # a count, not 5,000 ids per tally
    from server.budget_views import budget_result  # imports this module

    out = {
        "poll": await poll_view(s, p),
        "result": result.to_dict(),
        "participants": participants,
        "site_id": site_id,
    }
    budget = await budget_result(s, p, site_id)
    if budget is not None:
        out["budget"] = budget
    return out


async def demographic_questions_with_options(
    s: AsyncSession, event_id: int
) -> list[tuple[DemographicQuestion, list[DemographicOption]]]:
    """The event's demographic questions in order, each with its options in order
    (two queries, whatever the number of questions)."""
    questions = (
        await s.exec(
            select(DemographicQuestion)
            .where(DemographicQuestion.event_id == event_id)
            .order_by(col(DemographicQuestion.position))
        )
    ).all()
    options: dict[int, list[DemographicOption]] = defaultdict(list)
    ids = [q.id for q in questions]
    if ids:
        rows = await s.exec(
            select(DemographicOption)
            .where(col(DemographicOption.question_id).in_(ids))
            .order_by(col(DemographicOption.position))
        )
        for o in rows.all():
            options[o.question_id].append(o)
    return [(q, options[q.id]) for q in questions if q.id is not None]


async def voter_demographics(s: AsyncSession, poll_id: int) -> dict[int, dict[str, str]]:
    """Each voter of a poll's demographic answers: participant id -> {question key: answer}."""
    rows = await s.exec(
        select(
            DemographicAnswer.participant_id, DemographicQuestion.key, DemographicAnswer.option_key
        )
        .join(DemographicQuestion, col(DemographicQuestion.id) == DemographicAnswer.question_id)
        .join(Vote, col(Vote.participant_id) == DemographicAnswer.participant_id)
        .where(Vote.poll_id == poll_id)
    )
    demo: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, key, answer in rows.all():
        demo[pid][key] = answer
    return demo


async def demographics_view(s: AsyncSession, event_id: int, threshold: int) -> list[dict[str, Any]]:
    out = []
    for q, options in await demographic_questions_with_options(s, event_id):
        answers = (
            await s.exec(
                select(DemographicAnswer.option_key).where(DemographicAnswer.question_id == q.id)
            )
        ).all()
        counts: dict[str, int] = defaultdict(int)
        for a in answers:
            counts[a] += 1
        census = {o.key: o.census_share for o in options if o.census_share is not None}
        rep = representativeness(dict(counts), census) if census else None
        out.append(
            {
                "key": q.key,
                "prompt": q.prompt,
                "options": [
                    {
                        "key": o.key,
                        "label": o.label,
                        "census": o.census_share,
                        # Small groups are not shown as counts anywhere public.
                        "count": counts.get(o.key, 0)
                        if counts.get(o.key, 0) >= threshold
                        else None,
                    }
                    for o in options
                ],
                "representativeness": rep["representativeness"] if rep else None,
                "room_shares": rep["room_shares"] if rep else None,
                "answered": sum(counts.values()),
            }
        )
    return out


async def demographic_questions(s: AsyncSession, event_id: int) -> list[dict[str, Any]]:
    out = []
    for q, options in await demographic_questions_with_options(s, event_id):
        out.append(
            {
                "key": q.key,
                "prompt": q.prompt,
                "options": [{"key": o.key, "label": o.label} for o in options],
            }
        )
    return out


def comment_view(
    c: Comment, table: EventTable | None = None, site: Site | None = None
) -> dict[str, Any]:
    return {
        "id": c.id,
        "table": table.name if table else None,
        "table_id": c.table_id,
        "site": site.name if site else None,
        "question_id": c.question_id,
        "text": c.text,
        "star": c.star,
        "at": iso(c.created_at),
    }


async def comments_view(
    s: AsyncSession, event_id: int, question_id: int | None = None
) -> list[dict[str, Any]]:
    q = (
        select(Comment, EventTable, Site)
        .join(EventTable, col(Comment.table_id) == EventTable.id)
        .join(Site, col(EventTable.site_id) == Site.id)
        .where(Comment.event_id == event_id)
    )
    if question_id is not None:
        q = q.where(Comment.question_id == question_id)
    rows = (await s.exec(q.order_by(col(Comment.id)))).all()
    return [comment_view(c, t, site) for c, t, site in rows]


async def themes_view(
    s: AsyncSession,
    event_id: int,
    published_only: bool = False,
    question_id: int | None = None,
) -> list[dict[str, Any]]:
    """Themes with members and quotes, in three queries whatever their number
    (this runs after every theming batch, with thousands of comments)."""
    q = select(Theme).where(Theme.event_id == event_id)
    if published_only:
        q = q.where(Theme.published == True)  # noqa: E712
    if question_id is not None:
        q = q.where(Theme.question_id == question_id)
    themes = (await s.exec(q.order_by(col(Theme.id)))).all()
    ids = [t.id for t in themes]
    members: dict[int, list[int]] = defaultdict(list)
    if ids:
        rows = await s.exec(
            select(ThemeMembership.theme_id, ThemeMembership.comment_id).where(
                col(ThemeMembership.theme_id).in_(ids)
            )
        )
        for tid, cid in rows.all():
            members[tid].append(cid)
    quote_ids = {t.id: json.loads(t.quotes)[:3] for t in themes}
    wanted = {cid for qs in quote_ids.values() for cid in qs}
    texts: dict[int, Comment] = {}
    if wanted:
        found = await s.exec(select(Comment).where(col(Comment.id).in_(wanted)))
        texts = {c.id: c for c in found.all() if c.id is not None}
    out = []
    for t in themes:
        assert t.id is not None
        quotes = [
            {"id": c.id, "text": c.text, "table_id": c.table_id}
            for cid in quote_ids[t.id]
            if (c := texts.get(cid)) is not None
        ]
        out.append(
            {
                "id": t.id,
                "key": t.key,
                "question_id": t.question_id,
                "label": t.label,
                "size": len(members[t.id]),
                "members": sorted(members[t.id]),
                "quotes": quotes,
                "published": t.published,
                "version": t.version,
            }
        )
    return out
