"""The report's "Did minds change?" and "How participants rated the day" sections:
plain data for ``templates/report_prepost.html`` (and one line each for the summary)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from display.charts import paired_bar_chart_svg
from server.core import shift as shifting
from server.core.privacy import NOT_GIVEN
from server.report.words import Words
from server.storage.evaluation_store import summarise
from server.storage.event_store import EventData, PollData


def _pts(x: float, w: Words) -> str:
    _ = w.gettext
    return _("{n} pts", n=f"{x * 100:+.0f}")


def _ci(low: float | None, high: float | None, w: Words, scale: float = 100.0) -> str:
    if low is None or high is None:
        return "–"
    _ = w.gettext
    digits = 0 if scale == 100 else 2
    return _("{low} to {high}", low=f"{low * scale:+.{digits}f}",
                     high=f"{high * scale:+.{digits}f}")


def _change_cells(kind: str, s: shifting.Shift, w: Words) -> list[str]:
    cells = [f"{_pts(o.change, w)} ({_ci(o.low, o.high, w)})" for o in s.options]
    if kind == "scale" and s.mean is not None:
        cells.append(f"{s.mean.change:+.2f} ({_ci(s.mean.low, s.mean.high, w, 1.0)})")
    return cells


def _pairs(data: EventData) -> list[tuple[PollData, PollData]]:
    by_key: dict[str, dict[str, PollData]] = {}
    for pd in data.polls:
        if pd.poll.pair_key and pd.poll.phase:
            by_key.setdefault(pd.poll.pair_key, {})[pd.poll.phase] = pd
    return [(p["before"], p["after"]) for p in by_key.values() if len(p) == 2]


def _groups(data: EventData, before: PollData, b: Sequence[Any], a: Sequence[Any],
            small_cell: int, w: Words) -> list[dict[str, Any]]:
    _ = w.gettext
    out = []
    for d in data.demographics:
        table = shifting.shift_by_group(before.spec, b, a, d.question.key, d.labels, small_cell)
        rows = []
        for r in table.rows:
            cells: list[str] = []
            label = _("Not given / prefer not to say") if r.key == NOT_GIVEN else w.text(r.label)
            if r.suppressed:
                people = _("suppressed")
            elif r.shift is None:
                people = "0"
            else:
                people, cells = str(r.paired), _change_cells(before.poll.kind, r.shift, w)
            rows.append({"label": label, "people": people, "cells": cells,
                         "suppressed": r.suppressed})
        out.append({"title": _("By {question}", question=w.text(d.question.prompt)),
                    "rows": rows, "withheld": table.total_withheld})
    return out


def _moved(s: shifting.Shift, labels: dict[str, str], w: Words) -> list[str]:
    """The options (and mean) whose change lies beyond its 95% interval's zero."""
    _ = w.gettext
    out = [
        _("{option} {before} → {after} ({change}, interval {ci})", option=labels[o.key],
          before=w.percent(o.before * 100), after=w.percent(o.after * 100),
          change=_pts(o.change, w), ci=_ci(o.low, o.high, w))
        for o in s.options
        if o.low > 0 or o.high < 0
    ]
    m = s.mean
    if m is not None and m.low is not None and m.high is not None and (m.low > 0 or m.high < 0):
        out.append(_("mean {before} → {after} (interval {ci})", before=w.number(m.before, 2),
                     after=w.number(m.after, 2), ci=_ci(m.low, m.high, w, 1.0)))
    return out


def shift_sections(data: EventData, small_cell: int, w: Words) -> list[dict[str, Any]]:
    _ = w.gettext
    demos = data.with_site()
    out = []
    for before, after in _pairs(data):
        b, a = before.ballots(demos), after.ballots(demos)
        s = shifting.shift(before.spec, b, a)
        kind = before.poll.kind
        labels = {o.key: w.text(o.label) for o in before.options}
        columns = [labels[o.key] for o in before.options] + ([_("Mean")] if kind == "scale" else [])
        rows = [
            [labels[o.key], w.percent(o.before * 100), w.percent(o.after * 100),
             _pts(o.change, w), _ci(o.low, o.high, w), f"{o.moved_out} / {o.moved_in}"]
            for o in s.options
        ]
        if s.mean is not None:
            m = s.mean
            rows.append([_("Mean (1–5)"), w.number(m.before, 2), w.number(m.after, 2),
                         f"{m.change:+.2f}", _ci(m.low, m.high, w, 1.0), ""])
        chart = paired_bar_chart_svg(
            [(labels[o.key], 100 * o.before, w.percent(100 * o.before), 100 * o.after,
              w.percent(100 * o.after)) for o in s.options],
            _("Share choosing each answer, before and after, among people who answered both"),
            series=(_("Before"), _("After")), max_value=100.0,
        ) if s.paired else ""
        out.append({
            "key": before.poll.pair_key,
            "prompt": w.text(before.poll.prompt),
            "kind": kind,
            "paired": s.paired,
            "before_turnout": s.before_turnout,
            "after_turnout": s.after_turnout,
            "rows": rows if s.paired else [],
            "columns": columns,
            "chart": chart,
            "moved": _moved(s, labels, w) if s.paired else [],
            "groups": _groups(data, before, b, a, small_cell, w) if s.paired else [],
        })
    return out


def evaluation_section(data: EventData, small_cell: int, w: Words) -> dict[str, Any] | None:
    ev = getattr(data, "evaluation", None)
    if ev is None:
        return None
    summary = summarise(ev, small_cell)
    _ = w.gettext
    return {
        "status": ev.status,
        "respondents": summary.respondents,
        "questions": [
            {"text": w.text(q.text), "answered": q.answered,
             "mean": w.number(q.mean, 1) if q.mean is not None else "–",
             "counts": list(q.counts) if q.counts is not None else None}
            for q in summary.questions
        ],
        "synthesis": None if summary.synthesis_key is None else {
            "text": w.text(ev.questions[summary.synthesis_key]),
            "flag_mean": summary.flag_mean,
            "min_answers": summary.min_answers,
            "no_table": summary.no_table,
            "flagged": [t.table for t in summary.flagged],
            "tables": [
                {"table": t.table, "answered": t.answered,
                 "mean": w.number(t.mean, 2) if t.mean is not None
                 else _("fewer than {n} answers", n=summary.min_answers),
                 "flagged": t.flagged}
                for t in summary.tables
            ],
        },
    }
