"""Puts an event file into the database and issues the role tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from server.db import Database
from server.evaluation_store import add_evaluation
from server.eventfile import EventSpec
from server.models import (
    AccessToken,
    DemographicOption,
    DemographicQuestion,
    Event,
    EventTable,
    EventText,
    Poll,
    PollOption,
    Question,
    Round,
    Site,
)
from server.shift_store import poll_instances
from server.tokens import issue, token_hash


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


class EventExists(Exception):
    pass


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
        number = 0
        table_rows: list[EventTable] = []
        site_rows: list[Site] = []
        for site_spec in spec.sites:
            site = Site(event_id=eid, key=site_spec.key, name=site_spec.name)
            s.add(site)
            await s.flush()
            assert site.id is not None
            site_rows.append(site)
            for _ in range(site_spec.tables):
                number += 1
                t = EventTable(event_id=eid, site_id=site.id, number=number, name=f"Table {number}")
                s.add(t)
                table_rows.append(t)
        round_ids: dict[str, int] = {}
        first_question: int | None = None
        for rpos, r in enumerate(spec.rounds):
            rnd = Round(event_id=eid, position=rpos, key=r.key, title=r.title)
            s.add(rnd)
            await s.flush()
            assert rnd.id is not None
            round_ids[r.key] = rnd.id
            for qpos, q in enumerate(r.questions):
                qrow = Question(
                    event_id=eid, round_id=rnd.id, position=qpos, key=q.key, text=q.text
                )
                s.add(qrow)
                await s.flush()
                if first_question is None:
                    first_question = qrow.id
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
        if spec.evaluation is not None:
            await add_evaluation(s, eid, spec.evaluation)
        for lang, texts in spec.texts.items():
            for source, text in texts.items():
                s.add(EventText(event_id=eid, lang=lang, source=source, text=text))
        ev.current_question_id = first_question
        await s.flush()
        tokens = IssuedTokens(
            event_id=eid,
            code=spec.code,
            producer=await issue(s, eid, "producer", label="producer"),
            team=await issue(s, eid, "team", label="theme team"),
            display=await issue(s, eid, "display", label="screens"),
            languages=list(spec.languages),
        )
        for t in table_rows:
            tokens.tables[t.number] = await issue(s, eid, "table", table_id=t.id, label=t.name)
        if len(site_rows) > 1:
            for site in site_rows:
                token = await issue(s, eid, "display", label=f"screens at {site.name}")
                await s.flush()
                row = (
                    await s.exec(
                        select(AccessToken).where(AccessToken.token_hash == token_hash(token))
                    )
                ).one()
                row.site_id = site.id
                s.add(row)
                tokens.site_displays[site.key] = token
        await s.commit()
        return tokens
