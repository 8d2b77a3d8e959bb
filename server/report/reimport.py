"""Re-import an export (``server.report.export``) into a database whose schema exists.

Rebuilds the event structure, the comments and themes, and one participant per
exported ballot (ballots are unlinkable across polls by design, so a person who
voted in four polls comes back as four participants). Every poll's tally is
reproduced exactly; demographic answers come back where they were not suppressed.
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import select

from server.core.csvcells import unescape_cell
from server.storage.db import Database
from server.storage.event_store import EventExists
from server.storage.models import (
    Comment,
    DemographicAnswer,
    DemographicOption,
    DemographicQuestion,
    Event,
    EventTable,
    Participant,
    Poll,
    PollOption,
    Question,
    Round,
    Site,
    Theme,
    ThemeMembership,
    Vote,
)

SUPPRESSED = "suppressed"


class ImportError_(ValueError):
    pass


def read_rows(folder: Path, name: str) -> list[dict[str, Any]]:
    if (folder / f"{name}.json").exists():
        rows: list[dict[str, Any]] = json.loads((folder / f"{name}.json").read_text("utf-8"))
        return [{k: "" if v is None else v for k, v in r.items()} for r in rows]
    if (folder / f"{name}.csv").exists():
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as f:
            return [
                {k: unescape_cell(v) if isinstance(v, str) else v for k, v in row.items()}
                for row in csv.DictReader(f)
            ]
    raise ImportError_(f"{folder} has no {name}.csv or {name}.json")


def _split(value: Any) -> list[str]:
    return [v for v in str(value).split(";") if v]


async def import_export(db: Database, folder: Path | str) -> int:
    """Load an export directory; returns the new event's id."""
    folder = Path(folder)
    meta = json.loads((folder / "event.json").read_text("utf-8"))
    if not str(meta.get("format", "")).startswith("townhall-export/"):
        raise ImportError_(f"{folder / 'event.json'} is not a townhall export")
    async with db.session() as s:
        ev_meta = meta["event"]
        if (await s.exec(select(Event).where(Event.slug == ev_meta["slug"]))).first():
            raise EventExists(f"an event with slug {ev_meta['slug']!r} is already in this database")
        ev = Event(
            slug=ev_meta["slug"],
            title=ev_meta["title"],
            code=ev_meta["code"],
            languages=ev_meta.get("languages", "en"),
        )
        s.add(ev)
        await s.flush()
        eid = ev.id or 0
        sites, tables = await _sites(s, eid, meta)
        questions, rounds = await _rounds(s, eid, meta)
        polls = await _polls(s, eid, meta, rounds)
        demo_ids = await _demographics(s, eid, meta)
        await _comments(s, eid, folder, tables, questions)
        await _ballots(s, eid, folder, polls, demo_ids, sites)
        await s.commit()
        return eid


async def _sites(s: Any, eid: int, meta: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Site ids by key, table ids by number (as text, the comments file's key)."""
    sites: dict[str, int] = {}
    for x in meta["sites"]:
        site = Site(event_id=eid, key=x["key"], name=x["name"])
        s.add(site)
        await s.flush()
        sites[x["key"]] = site.id or 0
    tables: dict[str, int] = {}
    for t in meta["tables"]:
        row = EventTable(event_id=eid, site_id=sites[t["site"]], number=t["number"], name=t["name"])
        s.add(row)
        await s.flush()
        tables[str(t["number"])] = row.id or 0
    return sites, tables


async def _rounds(
    s: Any, eid: int, meta: dict[str, Any]
) -> tuple[dict[str, int], dict[str, int]]:
    """Question ids and round ids, by key."""
    rounds: dict[str, int] = {}
    questions: dict[str, int] = {}
    for r in meta["rounds"]:
        rnd = Round(event_id=eid, position=r["position"], key=r["key"], title=r["title"])
        s.add(rnd)
        await s.flush()
        rounds[r["key"]] = rnd.id or 0
        for q in r["questions"]:
            qrow = Question(
                event_id=eid,
                round_id=rnd.id or 0,
                position=q["position"],
                key=q["key"],
                text=q["text"],
            )
            s.add(qrow)
            await s.flush()
            questions[q["key"]] = qrow.id or 0
    return questions, rounds


async def _polls(
    s: Any, eid: int, meta: dict[str, Any], rounds: dict[str, int]
) -> dict[str, int]:
    polls: dict[str, int] = {}
    for p in meta["polls"]:
        poll = Poll(
            event_id=eid,
            key=p["key"],
            kind=p["kind"],
            prompt=p["prompt"],
            max_choices=p["max_choices"],
            status=p["status"],
            round_id=rounds.get(p["round"]) if p["round"] else None,
            position=p["position"],
        )
        s.add(poll)
        await s.flush()
        polls[p["key"]] = poll.id or 0
        for pos, o in enumerate(p["options"]):
            s.add(PollOption(poll_id=poll.id or 0, position=pos, key=o["key"], label=o["label"]))
    return polls


async def _demographics(s: Any, eid: int, meta: dict[str, Any]) -> dict[str, int]:
    demo_ids: dict[str, int] = {}
    for pos, d in enumerate(meta["demographics"]):
        dq = DemographicQuestion(event_id=eid, position=pos, key=d["key"], prompt=d["prompt"])
        s.add(dq)
        await s.flush()
        demo_ids[d["key"]] = dq.id or 0
        for opos, o in enumerate(d["options"]):
            s.add(
                DemographicOption(
                    question_id=dq.id or 0,
                    position=opos,
                    key=o["key"],
                    label=o["label"],
                    census_share=o["census"],
                )
            )
    return demo_ids


async def _comments(
    s: Any, eid: int, folder: Path, tables: dict[str, int], questions: dict[str, int]
) -> None:
    ids: dict[str, int] = {}
    for seq, c in enumerate(read_rows(folder, "comments"), start=1):
        row = Comment(
            event_id=eid,
            table_id=tables[str(c["table_number"])],
            question_id=questions.get(str(c["question"])),
            client_id=str(uuid.uuid4()),
            seq=seq,
            text=str(c["text"]),
            star=str(c["star"]) in ("True", "true", "1"),
        )
        s.add(row)
        await s.flush()
        ids[str(c["comment_id"])] = row.id or 0
    for t in read_rows(folder, "themes"):
        theme = Theme(
            event_id=eid,
            question_id=questions[str(t["question"])],
            key=str(t["theme_key"]),
            label=str(t["label"]),
            quotes=json.dumps([ids[c] for c in _split(t["quote_comment_ids"]) if c in ids]),
            published=str(t["published"]) in ("True", "true", "1"),
        )
        s.add(theme)
        await s.flush()
        members = [ids[c] for c in _split(t["member_comment_ids"]) if c in ids]
        if members:
            await (await s.connection()).execute(
                insert(ThemeMembership), [{"theme_id": theme.id, "comment_id": c} for c in members]
            )


async def _ballots(
    s: Any,
    eid: int,
    folder: Path,
    polls: dict[str, int],
    demo_ids: dict[str, int],
    sites: dict[str, int],
) -> None:
    rows = read_rows(folder, "ballots")
    start = int((await s.exec(select(func.max(Participant.id)))).one() or 0) + 1
    people, answers, votes = [], [], []
    for i, b in enumerate(rows):
        pid = start + i
        site = str(b.get("site", ""))
        people.append({"id": pid, "event_id": eid, "site_id": sites.get(site)})
        for key, qid in demo_ids.items():
            value = str(b.get(key, ""))
            if value and value not in (SUPPRESSED, "not_given"):
                answers.append(
                    {
                        "participant_id": pid,
                        "question_id": qid,
                        "option_key": value,
                        "client_id": str(uuid.uuid4()),
                    }
                )
        votes.append(
            {
                "poll_id": polls[str(b["poll_key"])],
                "participant_id": pid,
                "choice": json.dumps(_split(b["choice"])),
                "seq": 1,
                "client_id": str(uuid.uuid4()),
            }
        )
    if people:
        await (await s.connection()).execute(insert(Participant), people)
        if answers:
            await (await s.connection()).execute(insert(DemographicAnswer), answers)
        await (await s.connection()).execute(insert(Vote), votes)
