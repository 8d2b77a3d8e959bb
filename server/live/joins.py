"""Phones joining, group-committed like votes: when a hall fills up (or every
phone rejoins after the venue's wifi blinks) thousands arrive within a
minute, and one commit each would queue them behind each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.live.group_commit import GroupCommit
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.models import AccessToken, Event, Participant, Site, utcnow
from server.storage.tokens import Principal, issue, new_token, token_hash


@dataclass(frozen=True)
class Join:
    """One phone joining an event, at a site or none (checked by the caller)."""

    event_id: int
    site_id: int | None


def principal(join: Join) -> Principal:
    """Whom a group commit stages the join for: nobody yet (no token)."""
    return Principal("join", join.event_id, 0)


ISSUED = "issued_tokens"  # session.info key: id(join) -> its token, staged by prepare_joins


async def prepare_joins(s: AsyncSession, batch: list[tuple[Principal, Any]]) -> None:
    """Stage a whole group commit's participants and tokens in two INSERTs, not
    an object, a flush and a round trip each: a hall of 5,000 joins in a minute."""
    now = utcnow()
    made = await s.exec(
        insert(Participant).returning(col(Participant.id), sort_by_parameter_order=True),
        params=[
            {"event_id": join.event_id, "site_id": join.site_id, "joined_at": now}
            for _, join in batch
        ],
    )
    ids = list(made.scalars().all())
    issued: dict[int, str] = s.info.setdefault(ISSUED, {})
    rows = []
    for (_, join), participant_id in zip(batch, ids, strict=True):
        token = issued[id(join)] = new_token()
        rows.append(
            {
                "event_id": join.event_id,
                "role": "participant",
                "token_hash": token_hash(token),
                "table_id": None,
                "participant_id": participant_id,
                "site_id": None,
                "label": "",
                "revoked": False,
                "created_at": now,
            }
        )
    await s.exec(insert(AccessToken), params=rows)


async def stage_join(s: AsyncSession, who: Principal, join: Any) -> Outcome:
    """The token ``prepare_joins`` staged for this join, or (committing one by
    one) the participant and their token staged alone. Nothing is committed here:
    the token is only handed out once the commit is done."""
    token = s.info.get(ISSUED, {}).pop(id(join), None)
    if token is None:
        participant = Participant(event_id=join.event_id, site_id=join.site_id)
        s.add(participant)
        await s.flush()  # its id, for the token
        token = await issue(s, join.event_id, "participant", participant_id=participant.id)
    return Outcome(ack={"token": token})


async def join(s: AsyncSession, who: Principal, join: Any) -> Outcome:
    outcome = await stage_join(s, who, join)
    await s.commit()
    return outcome


class Joins:
    """The join desk of a process: events and sites by their public keys (read
    once: they do not change during a meeting; an unknown one is asked again),
    and the group commit that stores the joins."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.commits = GroupCommit(db, stage_join, join, prepare=prepare_joins)
        self._events: dict[str, tuple[int, str]] = {}  # code -> (event id, title)
        self._sites: dict[tuple[int, str], int] = {}  # (event id, site key) -> site id

    def start(self) -> None:
        self.commits.start()

    async def stop(self) -> None:
        await self.commits.stop()

    async def event(self, code: str) -> tuple[int, str] | None:
        if code not in self._events:
            async with self.db.session() as s:
                ev = (await s.exec(select(Event).where(Event.code == code))).first()
            if ev is None or ev.id is None:
                return None
            self._events[code] = (ev.id, ev.title)
        return self._events[code]

    async def site(self, event_id: int, key: str) -> int | None:
        if (event_id, key) not in self._sites:
            async with self.db.session() as s:
                site = (
                    await s.exec(select(Site).where(Site.event_id == event_id, Site.key == key))
                ).first()
            if site is None or site.id is None:
                return None
            self._sites[(event_id, key)] = site.id
        return self._sites[(event_id, key)]

    async def join(self, event_id: int, site_id: int | None) -> str:
        """A new participant's token, once stored."""
        request = Join(event_id, site_id)
        outcome = await self.commits.submit(principal(request), request)
        return str(outcome.ack["token"])
