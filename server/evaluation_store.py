"""The evaluation survey on the database side: loading it from the event file,
the phone's view, the participant's and the producer's writes, and the summary
(per-table synthesis check) the producer and theme team see live."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import evaluation as ev
from server.errors import InvalidMessage, NotFound, PollClosed
from server.i18n import N_
from server.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationQuestion,
    EventTable,
    Participant,
)
from server.tokens import Principal
from server.writes import Outcome

if TYPE_CHECKING:
    from server.meeting import Meeting

log = logging.getLogger("townhall.evaluation")


async def add_evaluation(s: AsyncSession, event_id: int, spec: ev.EvaluationSpec) -> None:
    """Called by the loader: the survey starts as a draft the producer opens."""
    s.add(
        Evaluation(
            event_id=event_id,
            ask_table=spec.ask_table,
            followup=spec.followup,
            synthesis_key=spec.synthesis,
            flag_mean=spec.flag_mean,
            flag_min_answers=spec.flag_min_answers,
        )
    )
    for pos, q in enumerate(spec.statements):
        s.add(EvaluationQuestion(event_id=event_id, position=pos, key=q.key, text=q.text))


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


async def phone_view(
    s: AsyncSession, event_id: int, participant_id: int | None
) -> dict[str, Any] | None:
    """The survey for this participant's ``hello``: None unless it is open."""
    row = await s.get(Evaluation, event_id)
    if row is None or row.status != "open" or participant_id is None:
        return None
    given = (
        await s.exec(
            select(EvaluationQuestion.key, EvaluationAnswer.value)
            .join(EvaluationQuestion, col(EvaluationQuestion.id) == EvaluationAnswer.question_id)
            .where(EvaluationAnswer.participant_id == participant_id)
        )
    ).all()
    person = await s.get(Participant, participant_id)
    return await public_view(s, row) | {
        "answers": dict(given),
        "table": person.table_number if person else None,
    }


async def answer(s: AsyncSession, who: Principal, msg: Any) -> Outcome:
    """``evaluation``: store (or replace) this participant's ratings and table number."""
    assert who.participant_id is not None
    row = await s.get(Evaluation, who.event_id)
    if row is None:
        raise NotFound("this event has no evaluation survey")
    if row.status != "open":
        raise PollClosed(N_("The evaluation survey is not open; your answers were not saved."))
    known = {q.key: q for q in await questions(s, who.event_id)}
    for key in msg.answers:
        if key not in known:
            raise InvalidMessage(f"unknown evaluation question {key!r}")
    if "table" in msg.model_fields_set and msg.table is not None:
        if not row.ask_table or msg.table not in await table_numbers(s, who.event_id):
            raise InvalidMessage(N_("There is no table {n} at this event."), n=msg.table)
    for key, value in msg.answers.items():
        qid = known[key].id
        assert qid is not None
        stored = (
            await s.exec(
                select(EvaluationAnswer).where(
                    EvaluationAnswer.participant_id == who.participant_id,
                    EvaluationAnswer.question_id == qid,
                )
            )
        ).first()
        if stored is None:
            stored = EvaluationAnswer(
                participant_id=who.participant_id, question_id=qid, value=value, client_id=msg.id
            )
        stored.value, stored.client_id = value, msg.id
        s.add(stored)
    if "table" in msg.model_fields_set:  # absent: unchanged; null: "I'd rather not say"
        person = await s.get(Participant, who.participant_id)
        assert person is not None
        person.table_number = msg.table
        s.add(person)
    await s.commit()
    return Outcome()


async def set_status(s: AsyncSession, who: Principal, status: str) -> Outcome:
    row = await s.get(Evaluation, who.event_id)
    if row is None:
        raise NotFound("this event has no evaluation survey (add [evaluation] to the event file)")
    row.status = status
    s.add(row)
    await s.commit()
    view = await public_view(s, row) if status == "open" else None
    return Outcome(events=[(f"event:{who.event_id}", {"type": "evaluation", "evaluation": view})])


async def open_survey(s: AsyncSession, who: Principal, msg: Any) -> Outcome:
    return await set_status(s, who, "open")


async def close_survey(s: AsyncSession, who: Principal, msg: Any) -> Outcome:
    return await set_status(s, who, "closed")


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


class EvaluationService:
    """Registers the survey's writes on the meeting and pushes the summary to the
    producer and theme team (topic ``evaluation:{event}``), coalesced: a room
    answering at once costs one summary per tally interval, not one per answer."""

    def __init__(self, meeting: Meeting) -> None:
        from server import followup

        self.meeting = meeting
        self._due: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        for role, kind, fn in (
            ("participant", "evaluation", answer),
            ("participant", "followup", followup.leave),
            ("producer", "open_evaluation", open_survey),
            ("producer", "close_evaluation", close_survey),
        ):
            meeting.extra_writes[(role, kind)] = self._wrap(fn)

    def _wrap(self, fn: Any) -> Any:
        async def run(who: Principal, msg: Any) -> Outcome:
            lock = self.meeting.write_lock or contextlib.nullcontext()
            async with lock, self.meeting.db.session() as s:
                outcome: Outcome = await fn(s, who, msg)
            if msg.type != "followup":  # contacts are not part of any result
                self._mark(who.event_id)
            return outcome

        return run

    def _mark(self, event_id: int) -> None:
        self._due.add(event_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._due:
            await asyncio.sleep(self.meeting.settings.tally_interval)
            due, self._due = self._due, set()
            try:
                async with self.meeting.db.session() as s:
                    for event_id in due:
                        summary = await summary_view(s, event_id, self.meeting.settings.small_cell)
                        await self.meeting.hub.publish(
                            f"evaluation:{event_id}",
                            {"type": "evaluation_summary", "summary": summary},
                        )
            except Exception:
                log.exception("evaluation summary failed; will retry on the next answer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
