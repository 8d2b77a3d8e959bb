"""The report's room sections: who was there against the census, and the sites."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from display.scale_charts import dumbbell_svg
from server.core.privacy import PREFER_NOT
from server.core.weighting import room_figures
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
        # The rule of the screens (weighting.room_figures): counts, shares, the total
        # and representativeness each shown only where they give no small group away.
        counts = Counter(a[d.question.key] for a in data.answers.values() if d.question.key in a)
        room = room_figures(counts, [o.key for o in d.options], d.census, small_cell)
        rows, chart_rows = [], []
        for o in d.options:
            n, share = room.counts[o.key], room.shares.get(o.key)
            cen = room.census.get(o.key) if room.census else None
            rows.append({
                "label": w.text(o.label),
                "count": _("suppressed") if n is None else str(n),
                "room": _("suppressed") if n is None else w.percent(100 * (share or 0.0)),
                "census": w.percent(100 * cen) if cen is not None else "–",
            })
            if cen is not None and n is not None:
                chart_rows.append((w.text(o.label), 100 * (share or 0.0), 100 * cen))
        if chart_rows:
            groups.append((prompt, chart_rows))
        score = room.representativeness
        if score is not None and (worst is None or score < worst[0]):
            worst = (score, prompt)
        out.append({
            "prompt": prompt,
            "rows": rows,
            "prefer_not": _("suppressed")
            if room.counts[PREFER_NOT] is None
            else str(room.counts[PREFER_NOT]),
            "answered": _("suppressed") if room.answered is None else str(room.answered),
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
