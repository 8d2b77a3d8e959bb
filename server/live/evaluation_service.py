"""The evaluation survey during the meeting: the participant's answers, the
producer opening and closing it, and the live summary pushed to the producer
and theme team (topic ``evaluation:{event}``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core.errors import N_, InvalidMessage, NotFound, PollClosed
from server.live.hub import MemoryHub
from server.protocol.outcome import Outcome
from server.settings import Settings
from server.storage.db import Database
from server.storage.evaluation_store import public_view, questions, summary_view, table_numbers
from server.storage.models import Evaluation, EvaluationAnswer, Participant
from server.storage.tokens import Principal

log = logging.getLogger("townhall.evaluation")

Write = Callable[[AsyncSession, Principal, Any], Awaitable[Outcome]]


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


class EvaluationService:
    """The survey's writes, each committed on its own, and the summary pushed to the
    producer and theme team (topic ``evaluation:{event}``), coalesced: a room
    answering at once costs one summary per tally interval, not one per answer."""

    def __init__(self, db: Database, hub: MemoryHub, settings: Settings) -> None:
        self.db = db
        self.hub = hub
        self.settings = settings
        self._due: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def answer(self, who: Principal, msg: Any) -> Outcome:
        return await self._write(answer, who, msg)

    async def open(self, who: Principal, msg: Any) -> Outcome:
        return await self._write(open_survey, who, msg)

    async def close(self, who: Principal, msg: Any) -> Outcome:
        return await self._write(close_survey, who, msg)

    async def _write(self, fn: Write, who: Principal, msg: Any) -> Outcome:
        async with self.db.writer() as s:
            outcome = await fn(s, who, msg)
        self._mark(who.event_id)
        return outcome

    def _mark(self, event_id: int) -> None:
        self._due.add(event_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._due:
            await asyncio.sleep(self.settings.tally_interval)
            due, self._due = self._due, set()
            try:
                async with self.db.session() as s:
                    for event_id in due:
                        summary = await summary_view(s, event_id, self.settings.small_cell)
                        await self.hub.publish(
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
