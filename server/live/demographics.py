"""Demographic answers from the phones, group-committed like votes: a hall
filling up (or every phone reconnecting after the wifi blinks) sends thousands
within a minute. Every refusal is raised before anything is staged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core.errors import InvalidMessage
from server.core.privacy import PREFER_NOT
from server.protocol import messages as p
from server.protocol.outcome import Outcome
from server.storage.models import DemographicAnswer
from server.storage.poll_store import demographic_questions_with_options
from server.storage.tokens import Principal


async def demographics(s: AsyncSession, who: Principal, msg: p.DemographicsMsg) -> Outcome:
    outcome = await apply_demographics(s, who, msg)
    await s.commit()
    return outcome


ANSWERS = "demographic_answers"  # session.info key: (participant, question) -> row or None


async def _demographic_keys(s: AsyncSession, event_id: int) -> dict[str, tuple[int, set[str]]]:
    """The event's questions and their answer keys, read once per transaction."""
    cache: dict[int, dict[str, tuple[int, set[str]]]] = s.info.setdefault("demographic_keys", {})
    if event_id not in cache:
        cache[event_id] = {
            q.key: (q.id, {o.key for o in options})
            for q, options in await demographic_questions_with_options(s, event_id)
            if q.id is not None
        }
    return cache[event_id]


async def prefetch_answers(s: AsyncSession, batch: list[tuple[Principal, Any]]) -> None:
    """Read the standing answers of a whole group commit in one query (a hall
    filling up sends thousands of these within a minute)."""
    standing: dict[tuple[int, int], DemographicAnswer] = s.info.setdefault(ANSWERS, {})
    seen: set[int] = s.info.setdefault("answers_read", set())
    people = {who.participant_id for who, _ in batch if who.participant_id is not None} - seen
    if people:
        rows = await s.exec(
            select(DemographicAnswer).where(col(DemographicAnswer.participant_id).in_(people))
        )
        for row in rows.all():
            standing.setdefault((row.participant_id, row.question_id), row)
        seen |= people


async def apply_demographics(s: AsyncSession, who: Principal, msg: p.DemographicsMsg) -> Outcome:
    """Stage one phone's answers without committing (they are group-committed
    like votes). Every refusal is raised before anything is staged."""
    assert who.participant_id is not None
    questions = await _demographic_keys(s, who.event_id)
    checked: list[tuple[int, str]] = []
    for key, answer in msg.answers.items():
        if key not in questions:
            raise InvalidMessage(f"unknown demographic question {key!r}")
        question_id, keys = questions[key]
        if answer != PREFER_NOT and answer not in keys:
            raise InvalidMessage(f"{answer!r} is not an answer to {key!r}")
        checked.append((question_id, answer))
    await prefetch_answers(s, [(who, msg)])
    standing: dict[tuple[int, int], DemographicAnswer] = s.info[ANSWERS]
    for question_id, answer in checked:
        row = standing.get((who.participant_id, question_id))
        if row is None:
            _new_answers(s)[(who.participant_id, question_id)] = {
                "participant_id": who.participant_id,
                "question_id": question_id,
                "option_key": answer,
                "client_id": msg.id,
            }
        else:
            row.option_key, row.client_id = answer, msg.id
            s.add(row)
    # The screens' demographics are rebuilt by the meeting's broadcaster, coalesced.
    return Outcome()


NEW_ANSWERS = "new_demographic_answers"  # session.info key: (participant, question) -> row


def _new_answers(s: AsyncSession) -> dict[tuple[int, int], dict[str, Any]]:
    """The first answers staged in this transaction, inserted together when it
    commits (one INSERT for a group commit's phones, not an object each); a
    later answer in the same transaction replaces the staged one."""
    new: dict[tuple[int, int], dict[str, Any]] | None = s.info.get(NEW_ANSWERS)
    if new is None:
        new = s.info[NEW_ANSWERS] = {}
        sa_event.listen(s.sync_session, "before_commit", _insert_new_answers)
    return new


def _insert_new_answers(session: Session) -> None:
    rows = list(session.info.pop(NEW_ANSWERS, {}).values())
    if rows:
        session.execute(insert(DemographicAnswer), rows)
