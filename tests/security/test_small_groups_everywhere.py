"""No shown figure lets one work out the size or the answers of a suppressed group:
on the big screens (the whole event's and each site's), the producer's console, in
the report and in the exports (docs/security.md, "Small groups").

Each test builds twin meetings that differ only inside suppressed groups (a person
moved from one suppressed age group to the other, two people of suppressed groups
swapping every ballot, a site's one voter swapping ballots with a voter of the
other site) and checks that every output is the same for both: whatever one could
compute from the figures shown (shares, totals, weighted results, budgets, shifts)
is then the same for either meeting, so it cannot tell them apart. A control twin,
two people of shown groups swapping ballots, checks that the outputs do show such
a change.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.report.budget_export import budget_results
from server.report.build import render_report
from server.report.export import poll_rows, structure
from server.settings import Settings
from server.storage.db import Database
from server.storage.event_store import load_event_data
from server.storage.models import (
    DemographicAnswer,
    DemographicQuestion,
    Participant,
    Poll,
    Site,
    Vote,
)
from server.web.app import create_app
from tests.support.example import load_example

SMALL_CELL = 10
POLLS = ("warmup", "trust-before", "trust-after", "capital-projects", "spread-100")


@dataclass(frozen=True)
class Person:
    site: str
    age: str
    warmup: str
    trust: tuple[str, str]  # before, after
    projects: tuple[str, ...]
    spread: tuple[tuple[str, int], ...]

    def ballots(self) -> dict[str, tuple[list[str], dict[str, int] | None]]:
        amounts = dict(self.spread)
        return {
            "warmup": ([self.warmup], None),
            "trust-before": ([self.trust[0]], None),
            "trust-after": ([self.trust[1]], None),
            "capital-projects": (list(self.projects), None),
            "spread-100": (list(amounts), amounts),
        }


def person(i: int, site: str, age: str) -> Person:
    """Someone whose ballots depend on their number, so people differ."""
    warmup = ("car", "bus", "bike", "walk", "other")[i % 5]
    trust = (str(1 + i % 5), str(1 + (i * 3) % 5))
    projects = (("playground", "street-trees"), ("bike-lanes",), ("library-roof", "bus-shelters"))
    spread = (
        (("housing", 60), ("parks", 40)),
        (("transit", 100),),
        (("safety", 30), ("libraries", 70)),
    )
    return Person(site, age, warmup, trust, projects[i % 3], spread[i % 3])


# 41 people: the 65+ (3) are a small group and the 16-29 (11, the next smallest) are
# suppressed with them; North Library has one voter, so Civic Hall is its partner.
AGES = ["16-29"] * 11 + ["30-44"] * 14 + ["45-64"] * 13 + ["65-plus"] * 3
BASE = [person(i, "civic-hall", age) for i, age in enumerate(AGES)] + [
    person(41, "north-library", "30-44")
]
OLDEST = [i for i, p in enumerate(BASE) if p.age == "65-plus"]
YOUNGEST = [i for i, p in enumerate(BASE) if p.age == "16-29"]


def swapped(people: list[Person], a: int, b: int) -> list[Person]:
    """Two people exchange every ballot; who they are (site, age) stays."""
    out = list(people)
    pa, pb = people[a], people[b]
    out[a] = replace(pb, site=pa.site, age=pa.age)
    out[b] = replace(pa, site=pb.site, age=pb.age)
    return out


def moved(people: list[Person], i: int, age: str) -> list[Person]:
    out = list(people)
    out[i] = replace(people[i], age=age)
    return out


async def _fill(db_url: str, event_id: int, people: list[Person]) -> None:
    db = Database(db_url)
    try:
        async with db.session() as s:
            sites = {x.key: x.id for x in (await s.exec(select(Site))).all()}
            age = (
                await s.exec(select(DemographicQuestion).where(DemographicQuestion.key == "age"))
            ).one()
            polls = {p.key: p.id for p in (await s.exec(select(Poll))).all()}
            conn = await s.connection()
            rows = [
                {"id": i + 1, "event_id": event_id, "site_id": sites[p.site]}
                for i, p in enumerate(people)
            ]
            await conn.execute(insert(Participant), rows)
            answers = [
                {
                    "participant_id": i + 1,
                    "question_id": age.id,
                    "option_key": p.age,
                    "client_id": str(uuid.uuid4()),
                }
                for i, p in enumerate(people)
            ]
            await conn.execute(insert(DemographicAnswer), answers)
            votes = [
                {
                    "poll_id": polls[key],
                    "participant_id": i + 1,
                    "choice": json.dumps(choice),
                    "amounts": json.dumps(amounts) if amounts else None,
                    "seq": 1,
                    "client_id": str(uuid.uuid4()),
                }
                for i, p in enumerate(people)
                for key, (choice, amounts) in p.ballots().items()
            ]
            await conn.execute(insert(Vote), votes)
            await conn.execute(update(Poll).where(col(Poll.key).in_(POLLS)).values(status="closed"))
            await s.commit()
    finally:
        await db.dispose()


def outputs(tmp: Path, people: list[Person]) -> dict[str, Any]:
    """Everything shown about this meeting: each screen's, the producer's, the
    report and the exports."""
    tmp.mkdir()
    db_url = f"sqlite+aiosqlite:///{tmp / 'townhall.db'}"
    tokens = load_example(db_url)
    asyncio.run(_fill(db_url, tokens.event_id, people))
    settings = Settings(db_url=db_url, theming=False, embedder="hashing", small_cell=SMALL_CELL)
    shown: dict[str, Any] = {}
    with TestClient(create_app(settings)) as client:
        screens = {"screen": tokens.display, **tokens.site_displays}
        for name, token in screens.items():
            with client.websocket_connect(f"/ws/display?token={token}") as ws:
                shown[name] = _unstamped(ws.receive_json())
        with client.websocket_connect(f"/ws/producer?token={tokens.producer}") as ws:
            shown["producer"] = _unstamped(ws.receive_json())
    shown.update(asyncio.run(_files(db_url, tokens.event_id)))
    return shown


def _unstamped(hello: dict[str, Any]) -> dict[str, Any]:
    """A hello without its clock versions (when it was read, not what it shows)."""
    hello.pop("version", None)
    for item in [*hello.get("tallies", []), *hello.get("breakdowns", [])]:
        item.pop("version", None)
    return hello


async def _files(db_url: str, event_id: int) -> dict[str, Any]:
    db = Database(db_url)
    try:
        data = await load_event_data(db, event_id)
        data.as_of = datetime(2026, 1, 1, tzinfo=UTC)  # the only intended difference
        polls, options, ballots = poll_rows(data, SMALL_CELL)
        # Ballots carry a random number and come in random order: compare the rows.
        rows = sorted(json.dumps({k: v for k, v in b.items() if k != "ballot"}) for b in ballots)
        return {
            "report": render_report(data, small_cell=SMALL_CELL),
            "export": {
                "event": structure(data),
                "polls": polls,
                "options": options,
                "ballots": rows,
            },
            "budget export": await budget_results(db, event_id, SMALL_CELL),
        }
    finally:
        await db.dispose()


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [name for name in a if a[name] != b[name]]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return outputs(tmp_path_factory.mktemp("privacy") / "base", BASE)


def test_the_twins_differ_inside_suppressed_groups(base: dict[str, Any]) -> None:
    """The premise: the 65+ and 16-29 are suppressed, and so are both sites."""
    breakdown = base["producer"]["breakdowns"][0]
    age = next(c for c in breakdown["crosstabs"] if c["question_key"] == "age")
    assert {r["key"] for r in age["rows"] if r["suppressed"]} == {"16-29", "65-plus"}
    for site in ("north-library", "civic-hall"):
        assert all(t["suppressed"] and t["result"] is None for t in base[site]["tallies"])
    assert all(t["result"]["turnout"] == len(BASE) for t in base["screen"]["tallies"])


def test_outputs_show_a_change_among_shown_groups(base: dict[str, Any], tmp_path: Path) -> None:
    """The control: a 30-44 and a 45-64 swapping ballots changes what is shown."""
    a = next(i for i, p in enumerate(BASE) if p.age == "30-44")
    b = next(i for i, p in enumerate(BASE) if p.age == "45-64" and p.warmup != BASE[a].warmup)
    changed = differences(base, outputs(tmp_path / "control", swapped(BASE, a, b)))
    assert {"screen", "producer", "report", "export", "budget export"} <= set(changed)


NORTH = len(BASE) - 1  # the one voter at North Library (30-44)
CIVIC = next(
    i
    for i, p in enumerate(BASE)
    if p.age == "30-44"
    and p.site == "civic-hall"
    and p.warmup != BASE[NORTH].warmup
    and p.projects != BASE[NORTH].projects
)


@pytest.mark.parametrize(
    "twin",
    [
        pytest.param(moved(BASE, OLDEST[0], "16-29"), id="a 65+ person counted as 16-29"),
        pytest.param(swapped(BASE, OLDEST[0], YOUNGEST[0]), id="a 65+ and a 16-29 swap ballots"),
        pytest.param(swapped(BASE, NORTH, CIVIC), id="a site's one voter swaps with another site"),
    ],
)
def test_no_output_tells_the_twins_apart(
    base: dict[str, Any], tmp_path: Path, twin: list[Person]
) -> None:
    assert twin != BASE
    assert differences(base, outputs(tmp_path / "twin", twin)) == []
