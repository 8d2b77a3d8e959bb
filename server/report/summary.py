"""Page 1 of the report: the meeting in five parts a reader takes in within two
minutes. What the room said (the largest published themes, each with its size, its
tables and one quote), what it decided (each poll's and budget's outcome in a line,
with turnout), whether minds changed, who was in the room against the census, and
how participants rated the day. Every line links to the section it comes from.

Built from the sections the body shows, so the summary cannot disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.report.budget_sections import BudgetSection
from server.report.poll_sections import PollSection
from server.report.room_sections import Room
from server.report.theme_sections import QuestionThemes
from server.report.words import Words

SAID = 5  # themes on page 1
QUOTE_CHARS = 150  # a longer quote is left for the body; a shorter one of the theme is used


@dataclass
class Line:
    href: str
    lead: str  # bold part
    text: str
    quote: str = ""


@dataclass
class Summary:
    said: list[Line] = field(default_factory=list)
    said_more: int = 0  # published themes not on page 1
    decided: list[Line] = field(default_factory=list)
    minds: list[Line] = field(default_factory=list)
    room: list[Line] = field(default_factory=list)
    room_chart: str = ""
    rated: list[Line] = field(default_factory=list)


def _said(themes: list[QuestionThemes], tables: int, w: Words, s: Summary) -> None:
    _ = w.gettext
    rows = sorted(
        ((q, t) for q in themes for t in q.published), key=lambda qt: (-qt[1].size, qt[1].label)
    )
    for q, t in rows[:SAID]:
        quotes = sorted(t.quotes, key=lambda x: len(x.text) > QUOTE_CHARS)
        s.said.append(Line(
            f"#theme-{q.key}-{t.key}", t.label,
            _("{n} comments from {t} of {all} tables", n=t.size, t=t.tables, all=tables),
            quotes[0].text if quotes and len(quotes[0].text) <= QUOTE_CHARS * 1.5 else "",
        ))
    s.said_more = max(len(rows) - SAID, 0)


def build_summary(
    *,
    w: Words,
    themes: list[QuestionThemes],
    polls: list[PollSection],
    budget: list[BudgetSection],
    shifts: list[dict[str, Any]],
    evaluation: dict[str, Any] | None,
    room: Room,
    sites: dict[str, Any],
    participants: int,
    tables: int,
) -> Summary:
    _ = w.gettext
    s = Summary()
    _said(themes, tables, w, s)
    for p in polls:
        s.decided.append(Line(f"#poll-{p.key}", p.prompt,
                              _("{result} · {n} voted", result=p.headline, n=p.turnout)))
    for b in budget:
        s.decided.append(Line(f"#budget-{b.key}", b.prompt,
                              _("{result} · {n} ballots", result=b.headline, n=b.ballots)))
    for sh in shifts:
        if not sh["paired"]:
            text = _("no one has answered both times yet")
        elif sh["moved"]:
            text = "; ".join(sh["moved"])
        else:
            text = _("no answer moved beyond its 95% interval ({n} people answered both times)",
                     n=sh["paired"])
        s.minds.append(Line(f"#shift-{sh['key']}", sh["prompt"], text))
    at_sites = ", ".join(f"{x['name']} {x['participants']}" for x in sites["rows"])
    s.room.append(Line("#sites", _("{n} participants", n=participants),
                       _("by site joined: {sites}", sites=at_sites)))
    if room.closest:
        s.room.append(Line("#demographics", _("Census"), room.closest))
    s.room_chart = room.chart
    if evaluation:
        for q in evaluation["questions"]:
            s.rated.append(Line("#evaluation", q["text"],
                                _("{mean} of 5 ({n} answers)", mean=q["mean"], n=q["answered"])))
        syn = evaluation.get("synthesis")
        if syn and syn["flagged"]:
            s.rated.append(Line("#synthesis-check", _("Flagged tables"),
                                ", ".join(str(n) for n in syn["flagged"])))
    return s
