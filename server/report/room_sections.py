"""The report's room sections: who was there against the census, and the sites."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from display.scale_charts import dumbbell_svg
from server.core.privacy import hidden_groups
from server.core.tally import PREFER_NOT
from server.core.weighting import representativeness
from server.report.words import Words
from server.storage.event_store import EventData


@dataclass
class Room:
    questions: list[dict[str, Any]]
    chart: str  # every question's answers against the census, in one chart
    closest: str  # the question furthest from the census, worded for the summary


def demographics_section(data: EventData, small_cell: int, w: Words) -> Room:
    _ = w.gettext
    out = []
    groups: list[tuple[str, list[tuple[str, float, float]]]] = []
    worst: tuple[float, str] | None = None
    for d in data.demographics:
        prompt = w.text(d.question.prompt)
        counts: Counter[str] = Counter(
            a.get(d.question.key, "not_given") for a in data.answers.values()
        )
        counts = Counter({k: n for k, n in counts.items() if k != "not_given"})
        keys = [o.key for o in d.options] + [PREFER_NOT]
        sizes = {k: counts.get(k, 0) for k in keys}
        # Counts and room shares (over options only) each need their own complementary
        # cell, and a share shown beside a count gives the denominator away: hide both.
        hidden_counts, _total = hidden_groups(sizes, small_cell)
        option_sizes = {o.key: sizes[o.key] for o in d.options}
        hidden_shares, shares_ok = hidden_groups(option_sizes, small_cell)
        hidden = hidden_counts | hidden_shares
        total_ok = len({k for k in hidden if sizes[k] > 0}) != 1
        if not shares_ok:
            hidden |= set(option_sizes)
        census = d.census
        rep = representativeness(dict(counts), census) if census else None
        rows, chart_rows = [], []
        for o in d.options:
            n, gone = sizes[o.key], o.key in hidden
            room = rep["room_shares"].get(o.key, 0.0) if rep else None
            cen = rep["census_shares"].get(o.key) if rep else None
            rows.append({
                "label": w.text(o.label),
                "count": _("suppressed") if gone else str(n),
                "room": _("suppressed") if gone or room is None else w.percent(100 * room),
                "census": w.percent(100 * cen) if cen is not None else "–",
            })
            if cen is not None and not gone:
                chart_rows.append((w.text(o.label), 100 * (room or 0.0), 100 * cen))
        if chart_rows:
            groups.append((prompt, chart_rows))
        score = rep["representativeness"] if rep else None
        if score is not None and (worst is None or score < worst[0]):
            worst = (score, prompt)
        out.append({
            "prompt": prompt,
            "rows": rows,
            "prefer_not": _("suppressed") if PREFER_NOT in hidden else str(sizes[PREFER_NOT]),
            "answered": str(sum(sizes.values())) if total_ok else _("suppressed"),
            "representativeness": w.percent(100 * score) if score is not None else None,
        })
    chart = dumbbell_svg(
        groups, _("Who was in the room, against the census"),
        series=(_("room"), _("census")),
    ) if groups else ""
    closest = _("furthest from the census: {question} ({pct} alike)", question=worst[1],
                pct=w.percent(100 * worst[0])) if worst else ""
    return Room(out, chart, closest)


def sites_section(data: EventData, w: Words) -> dict[str, Any]:
    """Tables, participants (by the site they joined at) and comments, per site."""
    people = Counter(data.participants.values())
    if len(data.sites) == 1:  # one site: everyone who joined was there
        (only,) = data.sites
        people = Counter({only: sum(people.values())})
    per_q: dict[int | None, Counter[int]] = defaultdict(Counter)
    for c in data.comments:
        t = data.tables.get(c.table_id)
        per_q[c.question_id][t.site_id if t else -1] += 1
    tables = Counter(t.site_id for t in data.tables.values())
    sites = [
        {
            "name": w.text(s.name),
            "tables": tables.get(sid, 0),
            "participants": people.get(sid, 0),
            "comments": sum(per_q[q.id][sid] for q in data.questions),
        }
        for sid, s in data.sites.items()
    ]
    return {
        "rows": sites,
        "unknown": people.get(None, 0),
        "unassigned_question": sum(per_q[None].values()),
    }
