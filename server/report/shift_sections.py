"""The report's "Did minds change?" and "How participants rated the day" sections:
plain data for ``templates/report_prepost.html``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.core import shift as shifting
from server.core.tally import NOT_GIVEN
from server.storage.evaluation_store import summarise
from server.storage.event_store import EventData, PollData


def _pts(x: float) -> str:
    return f"{x * 100:+.0f} pts"


def _ci(low: float | None, high: float | None, scale: float = 100.0, unit: str = "") -> str:
    if low is None or high is None:
        return "–"
    return f"{low * scale:+.{0 if scale == 100 else 2}f} to {high * scale:+.{0 if scale == 100 else 2}f}{unit}"  # noqa: E501


def _change_cells(kind: str, s: shifting.Shift) -> list[str]:
    cells = [f"{_pts(o.change)} ({_ci(o.low, o.high)})" for o in s.options]
    if kind == "scale" and s.mean is not None:
        cells.append(f"{s.mean.change:+.2f} ({_ci(s.mean.low, s.mean.high, 1.0)})")
    return cells


def _pairs(data: EventData) -> list[tuple[PollData, PollData]]:
    by_key: dict[str, dict[str, PollData]] = {}
    for pd in data.polls:
        if pd.poll.pair_key and pd.poll.phase:
            by_key.setdefault(pd.poll.pair_key, {})[pd.poll.phase] = pd
    return [(p["before"], p["after"]) for p in by_key.values() if len(p) == 2]


def _groups(
    data: EventData, before: PollData, b: Sequence[Any], a: Sequence[Any], small_cell: int
) -> list[dict[str, Any]]:
    out = []
    for d in data.demographics:
        table = shifting.shift_by_group(
            before.spec, b, a, d.question.key, d.labels, small_cell
        )
        rows = []
        for r in table.rows:
            cells: list[str] = []
            label = "Not given / prefer not to say" if r.key == NOT_GIVEN else r.label
            if r.suppressed:
                people = f"suppressed (<{small_cell} or to protect one)"
            elif r.shift is None:
                people = "0"
            else:
                people, cells = str(r.paired), _change_cells(before.poll.kind, r.shift)
            rows.append({"label": label, "people": people, "cells": cells,
                         "suppressed": r.suppressed})
        out.append({"title": f"By {d.question.prompt.rstrip('?').lower()}", "rows": rows,
                    "withheld": table.total_withheld})
    return out


def shift_sections(data: EventData, small_cell: int) -> list[dict[str, Any]]:
    demos = data.with_site()
    out = []
    for before, after in _pairs(data):
        b, a = before.ballots(demos), after.ballots(demos)
        s = shifting.shift(before.spec, b, a)
        kind = before.poll.kind
        columns = [o.label for o in before.options] + (["Mean"] if kind == "scale" else [])
        rows = [
            [o.label, f"{o.before * 100:.0f}%", f"{o.after * 100:.0f}%", _pts(o.change),
             _ci(o.low, o.high), f"{o.moved_out} / {o.moved_in}"]
            for o in s.options
        ]
        if s.mean is not None:
            m = s.mean
            rows.append(["Mean (1–5)", f"{m.before:.2f}", f"{m.after:.2f}", f"{m.change:+.2f}",
                         _ci(m.low, m.high, 1.0), ""])
        out.append({
            "key": before.poll.pair_key,
            "prompt": before.poll.prompt,
            "kind": kind,
            "paired": s.paired,
            "before_turnout": s.before_turnout,
            "after_turnout": s.after_turnout,
            "rows": rows if s.paired else [],
            "columns": columns,
            "groups": _groups(data, before, b, a, small_cell) if s.paired else [],
        })
    return out


def evaluation_section(data: EventData, small_cell: int) -> dict[str, Any] | None:
    ev = getattr(data, "evaluation", None)
    if ev is None:
        return None
    summary = summarise(ev, small_cell)
    return {
        "status": ev.status,
        "respondents": summary.respondents,
        "questions": [
            {"text": q.text, "answered": q.answered,
             "mean": f"{q.mean:.2f}" if q.mean is not None else "–",
             "counts": list(q.counts) if q.counts is not None else None}
            for q in summary.questions
        ],
        "synthesis": None if summary.synthesis_key is None else {
            "text": ev.questions[summary.synthesis_key],
            "flag_mean": summary.flag_mean,
            "min_answers": summary.min_answers,
            "no_table": summary.no_table,
            "flagged": [t.table for t in summary.flagged],
            "tables": [
                {"table": t.table, "answered": t.answered,
                 "mean": f"{t.mean:.2f}" if t.mean is not None
                 else f"fewer than {summary.min_answers} answers",
                 "flagged": t.flagged}
                for t in summary.tables
            ],
        },
    }
