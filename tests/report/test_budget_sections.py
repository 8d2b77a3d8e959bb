"""The report's budget section: allocation statistics with tables beside
individuals, projects funded by greedy and by equal shares, tradeoff packages,
and per-group cells suppressed under the small-cell rule. Every figure the test
checks is computed here independently of server/budget*.py."""

from __future__ import annotations

import asyncio
import html
import json
import re
import statistics
import uuid
from typing import Any

import pytest
from sqlmodel import select

from server.report.budget_sections import budget_sections
from server.report.build import build_report
from server.report.words import Words
from server.storage.db import Database
from server.storage.event_store import load_event_data
from server.storage.models import (
    DemographicAnswer,
    DemographicQuestion,
    EventTable,
    Participant,
    Poll,
    TableAllocation,
    Vote,
)
from tests.support.example import load_example

N = 20
AREAS = ["north"] * 11 + ["central"] * 7 + ["south"] * 2  # central and south are small cells
ALLOC_KEYS = ["housing", "transit", "parks", "safety", "libraries"]
TABLES = {1: {"housing": 30, "transit": 70}, 2: {"housing": 50, "parks": 50}}
COSTS = {
    "playground": 250000,
    "bike-lanes": 400000,
    "library-roof": 300000,
    "youth-centre": 500000,
    "street-trees": 150000,
    "bus-shelters": 200000,
}
DELTAS = {"council-tax": 900000, "parking": 500000, "library-hours": 400000}
DELTAS |= {"merge-offices": 600000, "fewer-events": 300000, "pothole-blitz": -300000}


def allocation(i: int) -> dict[str, int]:
    housing = 10 + 2 * i
    parks = (i % 3) * 5
    return {"housing": housing, "transit": 100 - housing - parks - 5, "parks": parks, "safety": 5}


def projects(i: int) -> list[str]:
    # 12 want the big two; 8 want the three cheaper ones.
    return (
        ["youth-centre", "bike-lanes"]
        if i < 12
        else ["street-trees", "bus-shelters", "library-roof"]
    )


def tradeoff(i: int) -> list[str]:
    if i < 9:
        return ["council-tax", "merge-offices", "parking"]  # closes the $2m gap exactly
    if i < 15:
        return ["council-tax", "parking"]
    return ["parking", "library-hours", "pothole-blitz"]


async def fill(db_url: str, event_id: int) -> None:
    db = Database(db_url)
    try:
        async with db.session() as s:
            polls = {p.key: p for p in (await s.exec(select(Poll))).all()}
            area = (
                await s.exec(select(DemographicQuestion).where(DemographicQuestion.key == "area"))
            ).one()
            tables = {t.number: t for t in (await s.exec(select(EventTable))).all()}
            for pkey in ("spread-100", "capital-projects", "close-the-gap"):
                polls[pkey].status = "closed"
                s.add(polls[pkey])
            for i in range(N):
                person = Participant(event_id=event_id)
                s.add(person)
                await s.flush()
                assert person.id is not None
                s.add(
                    DemographicAnswer(
                        participant_id=person.id,
                        question_id=area.id,
                        option_key=AREAS[i],
                        client_id=str(uuid.uuid4()),
                    )
                )
                amounts = allocation(i)
                ballots: list[tuple[str, list[str], dict[str, int] | None]] = [
                    ("spread-100", [k for k, v in amounts.items() if v > 0], amounts),
                    ("capital-projects", projects(i), None),
                    ("close-the-gap", tradeoff(i), None),
                ]
                for pkey, choice, amts in ballots:
                    s.add(
                        Vote(
                            poll_id=polls[pkey].id,
                            participant_id=person.id,
                            choice=json.dumps(choice),
                            seq=1,
                            client_id=str(uuid.uuid4()),
                            amounts=json.dumps(amts) if amts is not None else None,
                        )
                    )
            for number, amts in TABLES.items():
                s.add(
                    TableAllocation(
                        poll_id=polls["spread-100"].id,
                        table_id=tables[number].id,
                        amounts=json.dumps(amts),
                        client_id=str(uuid.uuid4()),
                    )
                )
            await s.commit()
    finally:
        await db.dispose()


@pytest.fixture
def budget_event(db_url: str) -> int:
    tokens = load_example(db_url)
    asyncio.run(fill(db_url, tokens.event_id))
    return tokens.event_id


def report_html(db_url: str, event_id: int) -> str:
    async def go() -> str:
        db = Database(db_url)
        try:
            return await build_report(db, event_id)
        finally:
            await db.dispose()

    return asyncio.run(go())


def section(page: str, key: str) -> str:
    start = page.index(f'id="budget-{key}"')
    return html.unescape(page[start : page.index("</article>", start)])


def cells(text: str, row_label: str) -> list[str]:
    """The cells of the first table row whose header is ``row_label``."""
    m = re.search(rf"<th scope=\"row\">{re.escape(row_label)}</th>(.*?)</tr>", text, re.S)
    assert m, f"no row {row_label!r}"
    return re.findall(r"<td>(.*?)</td>", m.group(1))


def one(x: float) -> str:
    return f"{x:,.1f}"


def bar_fill(text: str, label: str) -> str:
    """The fill of the chart bar whose tooltip starts with ``label``."""
    m = re.search(rf'<rect class="bar"[^>]*fill="([^"]*)"[^>]*><title>{re.escape(label)} — ', text)
    assert m, f"no bar {label!r}"
    return m.group(1)


def test_allocation_shows_mean_median_spread_and_tables_beside_individuals(
    db_url: str, budget_event: int
) -> None:
    page = report_html(db_url, budget_event)
    assert 'href="#budget-spread-100"' in page  # the summary page links to it
    text = section(page, "spread-100")
    assert f"{N} ballots" in text
    # The chart (its description and bar tooltips): mean points and the middle half.
    for key, label in (("housing", "Affordable housing"), ("transit", "Public transport")):
        values = sorted(allocation(i).get(key, 0) for i in range(N))
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        mean = statistics.fmean(values)
        spread = f"{label}: {one(mean)} points (middle half {round(q1):,}–{round(q3):,})"
        assert spread in text
    # Tables (2) beside individuals: housing tables mean (30+50)/2.
    assert "(2 tables)" in text
    housing_ind = statistics.fmean(allocation(i)["housing"] for i in range(N))
    housing = [one(40.0), one(housing_ind), one(40.0 - housing_ind)]
    assert cells(text, "Affordable housing") == housing
    assert cells(text, "Parks and green space")[0] == one(25.0)


def greedy_by_hand() -> list[str]:
    approvals = {k: sum(1 for i in range(N) if k in projects(i)) for k in COSTS}
    order = sorted(COSTS, key=lambda k: (-approvals[k], COSTS[k]))
    left, out = 1200000, []
    for k in order:
        if approvals[k] and COSTS[k] <= left:
            out.append(k)
            left -= COSTS[k]
    return out


def test_projects_show_greedy_and_equal_shares_side_by_side(db_url: str, budget_event: int) -> None:
    text = section(report_html(db_url, budget_event), "capital-projects")
    labels = {
        "bike-lanes": "Protected bike lanes on Main St",
        "youth-centre": "Youth center refit",
        "street-trees": "500 new street trees",
        "bus-shelters": "Heated bus shelters",
    }
    greedy = greedy_by_hand()
    assert greedy == ["bike-lanes", "youth-centre", "street-trees"]
    spent = sum(COSTS[k] for k in greedy)
    names = ", ".join(labels[k] for k in greedy)
    greedy_text = f"Funding the most approved first would give: {names} (${spent:,} of $1,200,000)."
    assert greedy_text in text
    # Equal shares by hand: each of 20 voters holds $60,000. The 8 fund trees
    # (rho $18,750) and shelters ($25,000); the 12 fund bike lanes ($33,333);
    # then the 8 hold $130,000 < roof, the 12 hold $320,000 < youth center.
    mes = ["street-trees", "bus-shelters", "bike-lanes"]
    mes_names = ", ".join(labels[k] for k in mes)
    assert f"Funded by the Method of Equal Shares: {mes_names} ($750,000 of $1,200,000)." in text
    # The chart marks Equal Shares' projects solid, the others hatched.
    assert "hatch" in bar_fill(text, "Youth center refit")  # greedy only
    assert bar_fill(text, "Heated bus shelters") == "#111111"  # Equal Shares only


def test_tradeoff_shows_balanced_ballots_and_the_most_chosen_package(
    db_url: str, budget_event: int
) -> None:
    text = section(report_html(db_url, budget_event), "close-the-gap")
    balances = [sum(DELTAS[k] for k in tradeoff(i)) - 2000000 for i in range(N)]
    balanced = sum(1 for b in balances if b >= 0)
    assert balanced == 9
    assert f"{balanced} of {N} ballots closed it ({100 * balanced / N:.0f}%)" in text
    assert (
        "Most chosen package (9 ballots): Raise the city property tax by 2%, "
        "Merge two city service offices, Higher parking charges; it closes the gap" in text
    )


def test_group_cells_under_the_small_cell_rule_are_suppressed(
    db_url: str, budget_event: int
) -> None:
    async def go() -> list[Any]:
        db = Database(db_url)
        try:
            data = await load_event_data(db, budget_event)
            return budget_sections(data, 10, Words.make(data.languages, "UTC", data.texts))
        finally:
            await db.dispose()

    sections = {s.key: s for s in asyncio.run(go())}
    assert set(sections) == {"spread-100", "capital-projects", "close-the-gap"}
    for sec in sections.values():
        by_area = next(t for t in sec.groups if t.caption.startswith("By Which part"))
        rows = {r[0]: r for r in by_area.rows}
        assert rows["South"][1:] == ["suppressed"] * (len(rows["South"]) - 1)  # 2 people
        assert rows["Central"][1] == "suppressed"  # 7 people
        assert rows["North"][1] == "11"
    north = [i for i in range(N) if AREAS[i] == "north"]
    alloc_rows = {
        r[0]: r
        for r in next(
            t for t in sections["spread-100"].groups if t.caption.startswith("By Which part")
        ).rows
    }
    assert alloc_rows["North"][2] == one(statistics.fmean(allocation(i)["housing"] for i in north))
