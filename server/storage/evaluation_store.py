"""The evaluation survey on the database side: its questions, the phone's view,
and the summary (per-table synthesis check) the producer, the theme team and the
report see. Its writes are ``server.live.evaluation_service``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import evaluation as ev
from server.storage.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationQuestion,
    EventTable,
    Participant,
)


async def questions(s: AsyncSession, event_id: int) -> list[EvaluationQuestion]:
    rows = await s.exec(
        select(EvaluationQuestion)
        .where(EvaluationQuestion.event_id == event_id)
        .order_by(col(EvaluationQuestion.position))
    )
    return list(rows.all())


async def table_numbers(s: AsyncSession, event_id: int) -> list[int]:
    rows = await s.exec(
        select(EventTable.number).where(EventTable.event_id == event_id).order_by(
            col(EventTable.number)
        )
    )
    return list(rows.all())


async def public_view(s: AsyncSession, row: Evaluation) -> dict[str, Any]:
    """What every phone is sent when the survey opens (no one's answers in it)."""
    return {
        "status": row.status,
        "questions": [{"key": q.key, "text": q.text} for q in await questions(s, row.event_id)],
        "scale": list(ev.SCALE_LABELS),
        "ask_table": row.ask_table,
        "tables": await table_numbers(s, row.event_id) if row.ask_table else [],
        "followup": row.followup,
    }


async def phone_views(
    s: AsyncSession, event_id: int, participant_ids: list[int]
) -> dict[int, dict[str, Any] | None]:
    """The survey for these participants' ``hello`` messages, read together (a
    hall's phones reconnect by thousands): None for each unless it is open."""
    row = await s.get(Evaluation, event_id)
    if row is None or row.status != "open" or not participant_ids:
        return dict.fromkeys(participant_ids)
    given: dict[int, dict[str, int]] = {p: {} for p in participant_ids}
    answers = await s.exec(
        select(EvaluationAnswer.participant_id, EvaluationQuestion.key, EvaluationAnswer.value)
        .join(EvaluationQuestion, col(EvaluationQuestion.id) == EvaluationAnswer.question_id)
        .where(col(EvaluationAnswer.participant_id).in_(participant_ids))
    )
    for participant_id, key, value in answers.all():
        given[participant_id][key] = value
    tables = dict(
        (
            await s.exec(
                select(Participant.id, Participant.table_number).where(
                    col(Participant.id).in_(participant_ids)
                )
            )
        ).all()
    )
    public = await public_view(s, row)
    return {
        p: public | {"answers": given[p], "table": tables.get(p)} for p in participant_ids
    }


@dataclass
class EvaluationData:
    """Everything the report needs; table numbers are never shown next to answers."""

    status: str
    questions: dict[str, str]  # key -> text
    answers: list[ev.Answer]
    synthesis_key: str | None
    flag_mean: float
    min_answers: int


async def load(s: AsyncSession, event_id: int) -> EvaluationData | None:
    row = await s.get(Evaluation, event_id)
    if row is None:
        return None
    qs = await questions(s, event_id)
    key_of = {q.id: q.key for q in qs}
    rows = (
        await s.exec(
            select(
                EvaluationAnswer.participant_id,
                EvaluationAnswer.question_id,
                EvaluationAnswer.value,
                Participant.table_number,
            )
            .join(Participant, col(Participant.id) == EvaluationAnswer.participant_id)
            .where(col(EvaluationAnswer.question_id).in_(list(key_of)))
        )
    ).all()
    return EvaluationData(
        status=row.status,
        questions={q.key: q.text for q in qs},
        answers=[ev.Answer(pid, key_of[qid], value, table) for pid, qid, value, table in rows],
        synthesis_key=row.synthesis_key,
        flag_mean=row.flag_mean,
        min_answers=row.flag_min_answers,
    )


def summarise(data: EvaluationData, small_cell: int) -> ev.Summary:
    return ev.summarise(
        data.questions,
        data.answers,
        synthesis_key=data.synthesis_key,
        flag_mean=data.flag_mean,
        min_answers=data.min_answers,
        small_cell=small_cell,
    )


async def summary_view(s: AsyncSession, event_id: int, small_cell: int) -> dict[str, Any] | None:
    data = await load(s, event_id)
    if data is None:
        return None
    return {"status": data.status, **summarise(data, small_cell).to_dict()}
