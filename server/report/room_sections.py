"""The report's room sections: who was there against the census, and the sites."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from display.charts import paired_bar_chart_svg
from server.core.privacy import PREFER_NOT
from server.core.weighting import room_figures
from server.storage.event_store import EventData


def demographics_section(data: EventData, small_cell: int) -> list[dict[str, Any]]:
    """Who answered each question against the census, small groups suppressed by the
    same rule as the screens (``weighting.room_figures``)."""
    out = []
    for d in data.demographics:
        counts = Counter(a[d.question.key] for a in data.answers.values() if d.question.key in a)
        room = room_figures(counts, [o.key for o in d.options], d.census, small_cell)
        rows, chart_rows = [], []
        for o in d.options:
            n, share = room.counts[o.key], room.shares.get(o.key)
            cen = room.census.get(o.key) if room.census else None
            rows.append(
                {
                    "label": o.label,
                    "count": "suppressed" if n is None else str(n),
                    "room": "suppressed" if n is None else f"{100 * (share or 0.0):.0f}%",
                    "census": f"{100 * cen:.0f}%" if cen is not None else "–",
                }
            )
            if cen is not None:
                room_pct = 0.0 if n is None else 100 * (share or 0.0)
                room_text = "suppressed" if n is None else f"{room_pct:.0f}%"
                chart_rows.append((o.label, room_pct, room_text, 100 * cen, f"{100 * cen:.0f}%"))
        prefer_not = room.counts[PREFER_NOT]
        out.append(
            {
                "prompt": d.question.prompt,
                "rows": rows,
                "prefer_not": "suppressed" if prefer_not is None else str(prefer_not),
                "answered": "suppressed" if room.answered is None else str(room.answered),
                "representativeness": (
                    f"{100 * room.representativeness:.0f}%"
                    if room.representativeness is not None
                    else None
                ),
                "chart": paired_bar_chart_svg(chart_rows, d.question.prompt, max_value=100.0)
                if chart_rows
                else "",
            }
        )
    return out


def sites_section(data: EventData) -> dict[str, Any]:
    people = Counter(data.participants.values())
    per_q: dict[int | None, Counter[int]] = defaultdict(Counter)
    for c in data.comments:
        t = data.tables.get(c.table_id)
        per_q[c.question_id][t.site_id if t else -1] += 1
    tables = Counter(t.site_id for t in data.tables.values())
    sites = [
        {
            "name": s.name,
            "tables": tables.get(sid, 0),
            "participants": people.get(sid, 0),
            "comments": [per_q[q.id][sid] for q in data.questions],
        }
        for sid, s in data.sites.items()
    ]
    return {
        "rows": sites,
        "unknown": people.get(None, 0),
        "questions": [q.key for q in data.questions],
        "unassigned_question": sum(per_q[None].values()),
    }
