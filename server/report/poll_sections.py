"""The report's poll sections: raw and census-weighted results, charts, cross-tabs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from display.charts import bar_chart_svg, distribution_svg, paired_bar_chart_svg
from server.core.tally import NOT_GIVEN, Ballot, PollSpec, Result, crosstab, latest_valid_ballots
from server.core.weighting import WeightedResult, poststratify_weights, weighted_tally
from server.storage.event_store import SITE_KEY, EventData, PollData


@dataclass
class CrossTable:
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]  # label, people (str), cells (list[str]), suppressed
    total: list[str] | None
    note: str


@dataclass
class PollSection:
    key: str
    prompt: str
    kind: str
    status: str
    turnout: int
    rejected: int
    chart: str
    extra_chart: str
    table_head: list[str]
    table: list[list[str]]
    weighted: bool
    ess: float
    weighted_mean: float | None
    mean: float | None
    crosstabs: list[CrossTable]


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def _weighted_ranking(
    spec: PollSpec, ballots: Sequence[Ballot], weights: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Weighted Borda points and weighted first-preference shares (percent)."""
    latest, _ = latest_valid_ballots(spec, ballots)
    n = len(spec.keys)
    borda = dict.fromkeys(spec.keys, 0.0)
    firsts = dict.fromkeys(spec.keys, 0.0)
    total = 0.0
    for pid, b in latest.items():
        w = weights.get(pid, 1.0)
        total += w
        for pos, key in enumerate(b.choice):
            borda[key] += w * (n - 1 - pos)
        firsts[b.choice[0]] += w
    return borda, {k: 100.0 * v / total if total else 0.0 for k, v in firsts.items()}


def _charts(
    pd: PollData, wr: WeightedResult, ballots: Sequence[Ballot], weights: Mapping[str, float]
) -> tuple[str, str, list[str], list[list[str]]]:
    raw, title = wr.raw, pd.poll.prompt
    kind = pd.poll.kind
    if kind == "ranking":
        wborda, wfirst = _weighted_ranking(pd.spec, ballots, weights)
        chart = bar_chart_svg(
            [(o.label, float(o.borda or 0), f"{o.borda} points") for o in raw.options],
            f"{title} (Borda points)",
        )
        head = [
            "Option",
            "Borda points",
            "First preferences",
            "Weighted Borda",
            "Weighted first preferences",
        ]
        n = max(raw.turnout, 1)
        rows = [
            [
                o.label,
                str(o.borda),
                f"{o.first_preferences} ({_pct(100.0 * (o.first_preferences or 0) / n)})",
                f"{wborda[o.key]:.0f}",
                _pct(wfirst[o.key]),
            ]
            for o in raw.options
        ]
        return chart, "", head, rows
    paired = paired_bar_chart_svg(
        [
            (
                o.label,
                o.percent,
                f"{o.count} ({_pct(o.percent)})",
                wr.weighted_percents[o.key],
                _pct(wr.weighted_percents[o.key]),
            )
            for o in raw.options
        ],
        title,
        series=("Raw", "Census-weighted"),
        max_value=100.0,
    )
    head = ["Option", "Votes", "Raw %", "Weighted count", "Weighted %"]
    rows = [
        [
            o.label,
            str(o.count),
            _pct(o.percent),
            f"{wr.weighted_counts[o.key]:.1f}",
            _pct(wr.weighted_percents[o.key]),
        ]
        for o in raw.options
    ]
    if kind == "scale":
        dist = distribution_svg([o.count for o in raw.options], title, mean=raw.mean)
        return dist, paired, head, rows
    return paired, "", head, rows


def _cells(kind: str, result: Result) -> list[str]:
    if kind == "ranking":
        n = max(result.turnout, 1)
        return [_pct(100.0 * (o.first_preferences or 0) / n) for o in result.options]
    cells = [_pct(o.percent) for o in result.options]
    if kind == "scale":
        cells.append(f"{result.mean:.2f}" if result.mean is not None else "–")
    return cells


def _crosstab(
    pd: PollData,
    ballots: Sequence[Ballot],
    title: str,
    key: str,
    labels: dict[str, str],
    threshold: int,
    unknown_label: str,
) -> CrossTable:
    ct = crosstab(pd.spec, ballots, key, labels, threshold)
    kind = pd.poll.kind
    columns = [o.label for o in pd.options] + (["Mean"] if kind == "scale" else [])
    rows = []
    for r in ct.rows:
        label = unknown_label if r.key == NOT_GIVEN else r.label
        if r.suppressed or r.result is None:
            rows.append(
                {
                    "label": label,
                    "people": f"suppressed (<{threshold} or to protect one)",
                    "cells": [""] * len(columns),
                    "suppressed": True,
                }
            )
        else:
            rows.append(
                {
                    "label": label,
                    "people": str(r.participants),
                    "cells": _cells(kind, r.result) if r.participants else ["–"] * len(columns),
                    "suppressed": False,
                }
            )
    what = "first preferences" if kind == "ranking" else "share of voters choosing each option"
    return CrossTable(
        title=title,
        columns=columns,
        rows=rows,
        total=_cells(kind, ct.total) if ct.total is not None else None,
        note=f"Cells show the {what}.",
    )


def poll_sections(data: EventData, small_cell: int) -> list[PollSection]:
    demos = data.with_site()
    census = data.census
    site_labels = {s.key: s.name for s in data.sites.values()}
    # One set of weights for the room (raking is the costly step, and it does not
    # converge quickly when trimming binds); each poll uses its voters' weights.
    everyone = [Ballot(str(pid), (), answers) for pid, answers in demos.items()]
    weights = poststratify_weights(everyone, census) if census else {}
    out = []
    for pd in data.polls:
        if not pd.votes:
            continue
        ballots = pd.ballots(demos)
        wr = weighted_tally(pd.spec, ballots, weights)
        if wr.raw.turnout == 0:
            continue
        chart, extra, head, table = _charts(pd, wr, ballots, weights)
        tabs = [
            _crosstab(
                pd,
                ballots,
                f"By {d.question.prompt.rstrip('?').lower()}",
                d.question.key,
                d.labels,
                small_cell,
                "Not given / prefer not to say",
            )
            for d in data.demographics
        ]
        if len(site_labels) > 1:
            tabs.append(
                _crosstab(pd, ballots, "By site", SITE_KEY, site_labels, small_cell, "Site unknown")
            )
        out.append(
            PollSection(
                key=pd.poll.key,
                prompt=pd.poll.prompt,
                kind=pd.poll.kind,
                status=pd.poll.status,
                turnout=wr.raw.turnout,
                rejected=wr.raw.rejected,
                chart=chart,
                extra_chart=extra,
                table_head=head,
                table=table,
                weighted=bool(census),
                ess=wr.effective_sample_size,
                weighted_mean=wr.weighted_mean,
                mean=wr.raw.mean,
                crosstabs=tabs,
            )
        )
    return out
