"""Puts an event file into the database and issues the role tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import shift as shifting
from server.event.eventfile import EvaluationSpec, EventSpec, load_event_file
from server.storage.db import Database
from server.storage.event_store import EventExists
from server.storage.models import (
    AccessToken,
    DemographicOption,
    DemographicQuestion,
    Evaluation,
    EvaluationQuestion,
    Event,
    EventTable,
    EventText,
    Poll,
    PollOption,
    Question,
    Round,
    Site,
)
from server.storage.tokens import issue, token_hash


@dataclass
class IssuedTokens:
    """Fresh tokens, shown once: the database keeps only their hashes."""

    event_id: int
    code: str
    producer: str
    team: str
    display: str
    tables: dict[int, str] = field(default_factory=dict)  # table number -> token
    site_displays: dict[str, str] = field(default_factory=dict)  # site key -> its screens' token
    languages: list[str] = field(default_factory=lambda: ["en"])  # the event file's, in order


async def ensure_event_loaded(db: Database, path: Path) -> IssuedTokens | None:
    """Load the event unless it is already there (restarts keep their tokens)."""
    spec = load_event_file(path)
    async with db.session() as s:
        if (await s.exec(select(Event).where(Event.slug == spec.slug))).first() is not None:
            return None
    return await load_event(db, spec)


# (position, stored key, round key, phase or None, the event file's poll)
Instance = tuple[int, str, str | None, str | None, Any]


def poll_instances(polls: Sequence[Any]) -> list[Instance]:
    """The poll rows to create from the event file's polls, in position order.

    Each poll keeps its place; a poll asked twice puts its "before" instance
    there and its "after" instance after every poll of the file (it is asked
    at the close, and the producer and the demo open polls in position order).
    The "after" instance belongs to no round.
    """
    out: list[Instance] = []
    after = len(polls)
    for pos, p in enumerate(polls):
        if not p.twice:
            out.append((pos, p.key, p.round, None, p))
            continue
        out.append((pos, shifting.instance_key(p.key, "before"), p.round, "before", p))
        out.append((after, shifting.instance_key(p.key, "after"), None, "after", p))
        after += 1
    return sorted(out, key=lambda i: i[0])


async def add_evaluation(s: AsyncSession, event_id: int, spec: EvaluationSpec) -> None:
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


async def load_event(db: Database, spec: EventSpec) -> IssuedTokens:
    async with db.session() as s:
        existing = (await s.exec(select(Event).where(Event.slug == spec.slug))).first()
        if existing is not None:
            raise EventExists(f"an event with slug {spec.slug!r} is already in this database")
        ev = Event(
            slug=spec.slug,
            title=spec.title,
            code=spec.code,
            languages=",".join(spec.languages),
            timezone=spec.timezone,
        )
        s.add(ev)
        await s.flush()
        assert ev.id is not None
        eid = ev.id
        sites, tables = await _add_sites(s, eid, spec)
        round_ids, first_question = await _add_rounds(s, eid, spec)
        await _add_polls(s, eid, spec, round_ids)
        await _add_demographics(s, eid, spec)
        if spec.evaluation is not None:
            await add_evaluation(s, eid, spec.evaluation)
        for lang, texts in spec.texts.items():
            for source, text in texts.items():
                s.add(EventText(event_id=eid, lang=lang, source=source, text=text))
        ev.current_question_id = first_question
        await s.flush()
        tokens = await _issue_tokens(s, eid, spec, sites, tables)
        await s.commit()
        return tokens


async def _add_sites(
    s: AsyncSession, eid: int, spec: EventSpec
) -> tuple[list[Site], list[EventTable]]:
    """Sites and their tables, numbered 1..N across the whole event."""
    number = 0
    tables: list[EventTable] = []
    sites: list[Site] = []
    for site_spec in spec.sites:
        site = Site(event_id=eid, key=site_spec.key, name=site_spec.name)
        s.add(site)
        await s.flush()
        assert site.id is not None
        sites.append(site)
        for _ in range(site_spec.tables):
            number += 1
            t = EventTable(event_id=eid, site_id=site.id, number=number, name=f"Table {number}")
            s.add(t)
            tables.append(t)
    return sites, tables


async def _add_rounds(
    s: AsyncSession, eid: int, spec: EventSpec
) -> tuple[dict[str, int], int | None]:
    """The rounds and their questions; returns round ids by key and the first question."""
    round_ids: dict[str, int] = {}
    first_question: int | None = None
    for rpos, r in enumerate(spec.rounds):
        rnd = Round(event_id=eid, position=rpos, key=r.key, title=r.title)
        s.add(rnd)
        await s.flush()
        assert rnd.id is not None
        round_ids[r.key] = rnd.id
        for qpos, q in enumerate(r.questions):
            qrow = Question(event_id=eid, round_id=rnd.id, position=qpos, key=q.key, text=q.text)
            s.add(qrow)
            await s.flush()
            if first_question is None:
                first_question = qrow.id
    return round_ids, first_question


async def _add_polls(
    s: AsyncSession, eid: int, spec: EventSpec, round_ids: dict[str, int]
) -> None:
    for ppos, key, round_key, phase, p in poll_instances(spec.polls):
        poll = Poll(
            event_id=eid,
            key=key,
            round_id=round_ids.get(round_key) if round_key else None,
            kind=p.kind,
            prompt=p.prompt,
            max_choices=p.max_choices,
            position=ppos,
            pair_key=p.key if phase else None,
            phase=phase,
            budget=p.budget,
            unit=p.unit,
            deficit=p.deficit,
        )
        s.add(poll)
        await s.flush()
        assert poll.id is not None
        for opos, o in enumerate(p.options):
            s.add(
                PollOption(
                    poll_id=poll.id,
                    position=opos,
                    key=o.key,
                    label=o.label,
                    cost=o.cost,
                    delta=o.delta,
                )
            )


async def _add_demographics(s: AsyncSession, eid: int, spec: EventSpec) -> None:
    for dpos, d in enumerate(spec.demographics):
        dq = DemographicQuestion(event_id=eid, position=dpos, key=d.key, prompt=d.prompt)
        s.add(dq)
        await s.flush()
        assert dq.id is not None
        for opos, o in enumerate(d.options):
            s.add(
                DemographicOption(
                    question_id=dq.id,
                    position=opos,
                    key=o.key,
                    label=o.label,
                    census_share=o.census,
                )
            )


async def _issue_tokens(
    s: AsyncSession, eid: int, spec: EventSpec, sites: list[Site], tables: list[EventTable]
) -> IssuedTokens:
    """One token per shared role and per table, and one per site's screens when the
    event has several sites."""
    tokens = IssuedTokens(
        event_id=eid,
        code=spec.code,
        producer=await issue(s, eid, "producer", label="producer"),
        team=await issue(s, eid, "team", label="theme team"),
        display=await issue(s, eid, "display", label="screens"),
        languages=list(spec.languages),
    )
    for t in tables:
        tokens.tables[t.number] = await issue(s, eid, "table", table_id=t.id, label=t.name)
    if len(sites) > 1:
        for site in sites:
            token = await issue(s, eid, "display", label=f"screens at {site.name}")
            await s.flush()
            row = (
                await s.exec(select(AccessToken).where(AccessToken.token_hash == token_hash(token)))
            ).one()
            row.site_id = site.id
            s.add(row)
            tokens.site_displays[site.key] = token
    return tokens
