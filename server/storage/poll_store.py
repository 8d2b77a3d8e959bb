"""The agenda, polls and ballots as stored: what every client's snapshot starts from,
and the rows the results are computed from."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import ballots as ballots_rules
from server.core import tally as tallying
from server.storage.models import (
    DemographicAnswer,
    DemographicOption,
    DemographicQuestion,
    Event,
    Participant,
    Poll,
    PollOption,
    Question,
    Round,
    Vote,
    iso,
)
from server.storage.screen_state import screen_state


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
        **ballots_rules.poll_fields(p, options),
        # A poll asked twice: its pair key and "before" / "after" (else both null).
        "pair_key": p.pair_key,
        "phase": p.phase,
    }


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


async def answers_of(s: AsyncSession, participant_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each participant's demographic answers (question key -> answer); every id
    asked for is in the result, with {} if they answered nothing."""
    answers: dict[int, dict[str, str]] = {pid: {} for pid in participant_ids}
    for start in range(0, len(participant_ids), 900):  # SQLite's bound-parameter limit
        rows = await s.exec(
            select(
                DemographicAnswer.participant_id,
                DemographicQuestion.key,
                DemographicAnswer.option_key,
            )
            .join(DemographicQuestion, col(DemographicQuestion.id) == DemographicAnswer.question_id)
            .where(col(DemographicAnswer.participant_id).in_(participant_ids[start : start + 900]))
        )
        for pid, key, answer in rows.all():
            answers[pid][key] = answer
    return answers


async def ballots_with_demographics(s: AsyncSession, poll_id: int) -> list[tallying.Ballot]:
    votes = (
        await s.exec(select(Vote.participant_id, Vote.choice).where(Vote.poll_id == poll_id))
    ).all()
    demo = await voter_demographics(s, poll_id)
    return [
        tallying.Ballot(
            participant_id=str(pid), choice=json.loads(c), demographics=demo.get(pid, {})
        )
        for pid, c in votes
    ]


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
