"""Follow-up contacts: emails participants leave for a later survey (the
California Speaks evaluation surveyed people again months after the event).

Design: an email must never be joinable to a ballot. So the ``followup_contact``
table holds only a random id, the event, the email and the date (no time of
day, which could be matched against vote times). The phone sends the email
over its participant connection, but nothing of that connection is stored with
it: no participant id, no client message id, no separate link table. The
consequence, accepted on purpose: a contact cannot be traced back to a person
even by us, so deletion is by email address (CLI or the phone's "remove" form).
Contacts leave the database only through ``townhall followup export``, which
needs direct database access (the producer's); the event export, the report
and every websocket view leave them out.
"""

from __future__ import annotations

import asyncio
import csv
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core.csvcells import escape_cell
from server.core.errors import N_, InvalidMessage, NotFound
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.event_store import find_event
from server.storage.models import Evaluation, FollowupContact
from server.storage.tokens import Principal

# Deliberately loose: the address is checked by the later survey's mail, not here.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidMessage(N_("That does not look like an email address."))
    return email


async def leave(s: AsyncSession, who: Principal, msg: Any) -> Outcome:
    """``followup``: keep (or, with ``remove``, delete) an email; acked with no fields."""
    email = normalise(msg.email)
    survey = await s.get(Evaluation, who.event_id)
    if survey is None or not survey.followup:
        raise NotFound("this event does not collect follow-up contacts")
    if msg.remove:
        await s.exec(  # type: ignore[call-overload]
            delete(FollowupContact).where(
                col(FollowupContact.event_id) == who.event_id, col(FollowupContact.email) == email
            )
        )
    else:
        existing = (
            await s.exec(
                select(FollowupContact).where(
                    FollowupContact.event_id == who.event_id, FollowupContact.email == email
                )
            )
        ).first()
        if existing is None:  # a resend, or a second phone with the same email: kept once
            s.add(
                FollowupContact(
                    id=secrets.token_hex(16),
                    event_id=who.event_id,
                    email=email,
                    created_on=date.today().isoformat(),
                )
            )
    await s.commit()
    return Outcome()


async def delete_email(db: Database, email: str, event: str | None = None) -> int:
    """Delete an email's contacts (in one event, or in all); returns how many."""
    email = normalise(email)
    async with db.session() as s:
        q = select(FollowupContact).where(FollowupContact.email == email)
        if event is not None:
            ev = await find_event(s, event)
            q = q.where(FollowupContact.event_id == ev.id)
        rows = (await s.exec(q)).all()
        for row in rows:
            await s.delete(row)
        await s.commit()
        return len(rows)


async def export_contacts(db: Database, event: str, out: Path) -> int:
    """Write one event's contacts (email, date left) to a CSV; returns how many."""
    async with db.session() as s:
        ev = await find_event(s, event)
        rows = (
            await s.exec(
                select(FollowupContact.email, FollowupContact.created_on)
                .where(FollowupContact.event_id == ev.id)
                .order_by(col(FollowupContact.email))  # sorted: entry order is not revealed
            )
        ).all()
    await asyncio.to_thread(_write_csv, out, [(email, on) for email, on in rows])
    return len(rows)


def _write_csv(out: Path, rows: list[tuple[str, str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["email", "left_on"])
        w.writerows([escape_cell(email), on] for email, on in rows)  # formula-safe
    out.chmod(0o600)  # personal data: readable by the producer's account only
