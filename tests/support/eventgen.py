"""A realistic meeting written straight into the database (example event + generated rows).

Used by the report tests and by ``bench/report_build.py``. Deterministic for a
seed. Rows go in with bulk inserts so 5,000 participants take seconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, select

from server.storage.db import Database
from server.storage.models import (
    Comment,
    CurationLog,
    DemographicAnswer,
    DemographicOption,
    DemographicQuestion,
    EventTable,
    Participant,
    Poll,
    PollOption,
    Question,
    Site,
    Theme,
    ThemeMembership,
    ThemeState,
    Vote,
    utcnow,
)
from tests.support.example import load_example

HOSTILE_COMMENT = '<script>alert(1)</script> & "quotes" <b>bold</b>'
RARE = ("tenure", "other")  # exactly RARE_SIZE participants give this answer
RARE_SIZE = 3
WORDS = (
    "parks housing buses libraries safety roads youth rent trees bikes taxes jobs "
    "schools noise parking festivals"
).split()


@dataclass
class Generated:
    event_id: int
    slug: str
    participants: int
    comments: int
    hostile_comment_id: int
    discarded: dict[int, str] = field(default_factory=dict)


def build_event(
    db_url: str, participants: int = 300, comments: int = 400, seed: int = 7
) -> Generated:
    tokens = load_example(db_url)
    return asyncio.run(_fill(db_url, tokens.event_id, participants, comments, seed))


async def _fill(db_url: str, eid: int, n_people: int, n_comments: int, seed: int) -> Generated:
    rng = random.Random(seed)
    db = Database(db_url)
    try:
        async with db.session() as s:
            sites = (await s.exec(select(Site).where(Site.event_id == eid))).all()
            tables = (await s.exec(select(EventTable).where(EventTable.event_id == eid))).all()
            questions = (
                await s.exec(
                    select(Question).where(Question.event_id == eid).order_by(col(Question.id))
                )
            ).all()
            polls = (await s.exec(select(Poll).where(Poll.event_id == eid))).all()
            dqs = (
                await s.exec(select(DemographicQuestion).where(DemographicQuestion.event_id == eid))
            ).all()
            dopts = {
                q.key: (
                    await s.exec(
                        select(DemographicOption.key).where(DemographicOption.question_id == q.id)
                    )
                ).all()
                for q in dqs
            }
            popts = {
                p.id: (
                    await s.exec(
                        select(PollOption.key)
                        .where(PollOption.poll_id == p.id)
                        .order_by(col(PollOption.position))
                    )
                ).all()
                for p in polls
            }
            site_ids = [x.id for x in sites]
            people = [
                {
                    "id": i + 1,
                    "event_id": eid,
                    "site_id": None if rng.random() < 0.1 else rng.choice(site_ids),
                }
                for i in range(n_people)
            ]
            await (await s.connection()).execute(insert(Participant), people)
            answers = []
            for p in people:
                pid = p["id"]
                for q in dqs:
                    if (q.key, pid) == (RARE[0], pid) and pid <= RARE_SIZE:
                        key = RARE[1]
                    elif rng.random() < 0.06:
                        continue
                    elif rng.random() < 0.05:
                        key = "prefer_not"
                    else:
                        key = rng.choice([k for k in dopts[q.key] if (q.key, k) != RARE])
                    answers.append(
                        {
                            "participant_id": pid,
                            "question_id": q.id,
                            "option_key": key,
                            "client_id": str(uuid.uuid4()),
                        }
                    )
            await (await s.connection()).execute(insert(DemographicAnswer), answers)
            for poll in polls:
                keys = list(popts[poll.id])
                votes = []
                for p in people:
                    if rng.random() < 0.1:
                        continue
                    if poll.kind == "multi":
                        choice = rng.sample(keys, rng.randint(1, poll.max_choices or 3))
                    elif poll.kind == "ranking":
                        choice = rng.sample(keys, rng.randint(2, len(keys)))
                    else:
                        choice = [rng.choices(keys, weights=range(len(keys), 0, -1))[0]]
                    votes.append(
                        {
                            "poll_id": poll.id,
                            "participant_id": p["id"],
                            "choice": json.dumps(choice),
                            "seq": 1,
                            "client_id": str(uuid.uuid4()),
                        }
                    )
                await (await s.connection()).execute(insert(Vote), votes)
                poll.status = "closed"
                s.add(poll)
            rows, start = [], utcnow() - timedelta(hours=3)
            for i in range(n_comments):
                t = rng.choice(tables)
                words = " ".join(rng.sample(WORDS, 4))
                rows.append(
                    {
                        "id": i + 1,
                        "event_id": eid,
                        "table_id": t.id,
                        "question_id": questions[i % len(questions)].id,
                        "client_id": str(uuid.uuid4()),
                        "seq": i + 1,
                        "text": HOSTILE_COMMENT if i == 5 else f"We need more {words} ({i})",
                        "star": False,
                        "created_at": start + timedelta(seconds=i),
                    }
                )
            await (await s.connection()).execute(insert(Comment), rows)
            discarded = await _themes(s, eid, questions, rows, rng)
            await s.commit()
    finally:
        await db.dispose()
    slug = "riverton-budget"
    return Generated(eid, slug, n_people, n_comments, 6, discarded)


async def _themes(
    s: object,
    eid: int,
    questions: list[Question],
    rows: list[dict[str, object]],
    rng: random.Random,
) -> dict[int, str]:
    discarded: dict[int, str] = {}
    for qi, q in enumerate(questions):
        mine = [int(str(r["id"])) for r in rows if r["question_id"] == q.id]
        gone = [c for c in mine[-3:] if c != 6]
        discarded.update({c: "off topic" if c % 2 else "duplicate" for c in gone})
        kept = [c for c in mine if c not in gone]
        for k in range(4):
            members = kept[k::5]  # every fifth comment stays unthemed
            theme = Theme(
                event_id=eid,
                question_id=q.id or 0,
                key=f"t{qi}-{k}",
                label=f"Theme {k} of question {qi}",
                quotes=json.dumps(members[:3]),
                published=qi == 0,
            )
            s.add(theme)  # type: ignore[attr-defined]
            await s.flush()  # type: ignore[attr-defined]
            await (await s.connection()).execute(
                insert(ThemeMembership),  # type: ignore[attr-defined]
                [{"theme_id": theme.id, "comment_id": c} for c in members],
            )
        state = {"discarded": {str(c): discarded[c] for c in gone}, "comments": []}
        s.add(ThemeState(question_id=q.id or 0, state=json.dumps(state)))  # type: ignore
    s.add(
        CurationLog(
            event_id=eid,
            question_id=questions[0].id,
            actor="team-laptop-2",  # type: ignore
            action="rename",
            theme_key="t0-1",
            before=json.dumps({"label": "old"}),
            after=json.dumps({"label": "Theme 1 of question 0 <i>"}),
        )
    )
    s.add(
        CurationLog(
            event_id=eid,
            question_id=questions[0].id,
            actor="team-laptop-1",  # type: ignore
            action="publish",
            theme_key=None,
        )
    )
    rng.random()
    return discarded


@dataclass
class StoredMeeting:
    """A generated meeting in its SQLite file."""

    url: str
    path: Path
    gen: Generated
