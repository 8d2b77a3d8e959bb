"""The report's room sections: who was there against the census, and the sites."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from display.charts import paired_bar_chart_svg
from server.core.privacy import hidden_groups
from server.core.tally import PREFER_NOT
from server.core.weighting import representativeness
from server.storage.event_store import EventData


def demographics_section(data: EventData, small_cell: int) -> list[dict[str, Any]]:
    out = []
    for d in data.demographics:
        counts: Counter[str] = Counter(
            a.get(d.question.key, "not_given") for a in data.answers.values()
        )
        counts = Counter({k: n for k, n in counts.items() if k != "not_given"})
        keys = [o.key for o in d.options] + [PREFER_NOT]
        sizes = {k: counts.get(k, 0) for k in keys}
        # Counts and room shares (over options only) each need their own complementary
        # cell, and a share shown beside a count gives the denominator away: hide both.
        hidden_counts, _ = hidden_groups(sizes, small_cell)
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
            rows.append(
                {
                    "label": o.label,
                    "count": "suppressed" if gone else str(n),
                    "room": "suppressed" if gone or room is None else f"{100 * room:.0f}%",
                    "census": f"{100 * cen:.0f}%" if cen is not None else "–",
                }
            )
            if cen is not None:
                chart_rows.append(
                    (
                        o.label,
                        0.0 if gone else 100 * (room or 0.0),
                        "suppressed" if gone else f"{100 * (room or 0.0):.0f}%",
                        100 * cen,
                        f"{100 * cen:.0f}%",
                    )
                )
        out.append(
            {
                "prompt": d.question.prompt,
                "rows": rows,
                "prefer_not": "suppressed" if PREFER_NOT in hidden else str(sizes[PREFER_NOT]),
                "answered": str(sum(sizes.values())) if total_ok else "suppressed",
                "representativeness": (
                    f"{100 * rep['representativeness']:.0f}%"
                    if rep and rep["representativeness"] is not None
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
