"""The report's poll sections: one chart per poll, raw and census-weighted side by
side only where weighting changes the picture, a one-line headline for the summary,
and the cross-tabs by group for the appendix.

Budget polls are in ``budget_sections``; polls asked twice in ``shift_sections``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from display.charts import bar_chart_svg, paired_bar_chart_svg
from display.scale_charts import distribution_svg
from server.core.budget import BUDGET_KINDS
from server.core.privacy import NOT_GIVEN
from server.core.tally import Ballot, PollSpec, Result, crosstab, latest_valid_ballots
from server.core.weighting import WeightedResult, private_weights, weighted_tally
from server.report.words import Words
from server.storage.event_store import SITE_KEY, EventData, PollData

# Weighting is charted beside the raw figures when it reorders the options or moves
# one by this many percentage points; below that the two charts would look the same.
WEIGHTING_SHOWN_FROM = 2.0


@dataclass
class CrossTable:
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]  # label, people (str), cells (list[str]), suppressed
    total: list[str] | None
    note: str
    hidden: set[str] = field(default_factory=set)  # the suppressed groups' keys


@dataclass
class PollSection:
    key: str
    prompt: str
    kind: str
    turnout: int
    rejected: int
    chart: str
    meta: list[str]  # short facts under the heading
    weighting: str  # what census weighting does to this poll, in one sentence
    headline: str  # the result in one line, for the summary
    crosstabs: list[CrossTable]


def _order(values: Mapping[str, float]) -> list[str]:
    return sorted(values, key=lambda k: -values[k])


def _weighted_ranking(
    spec: PollSpec, ballots: Sequence[Ballot], weights: Mapping[str, float]
) -> dict[str, float]:
    """Weighted Borda points."""
    latest, _ = latest_valid_ballots(spec, ballots)
    n = len(spec.keys)
    borda = dict.fromkeys(spec.keys, 0.0)
    for pid, b in latest.items():
        for pos, key in enumerate(b.choice):
            borda[key] += weights.get(pid, 1.0) * (n - 1 - pos)
    return borda


def _leaders(labels: Sequence[str], w: Words) -> str:
    _ = w.gettext
    return _("{a} and {b}", a=labels[0], b=labels[1]) if len(labels) > 1 else labels[0]


def _section(pd: PollData, wr: WeightedResult, ballots: Sequence[Ballot],
             weights: Mapping[str, float], weighted: bool, w: Words) -> PollSection:
    _ = w.gettext
    raw, kind = wr.raw, pd.poll.kind
    label = {o.key: w.text(o.label) for o in raw.options}
    meta = [_("{n} voters", n=raw.turnout)]
    if raw.rejected:
        meta.append(_("{n} invalid ballots ignored", n=raw.rejected))
    weighting = ""
    if kind == "ranking":
        headline, chart, differs = _ranking(pd, raw, ballots, weights, weighted, label, meta, w)
    else:
        headline, chart, differs = _shares(pd, wr, weighted, label, meta, w)
        if weighted and not differs:
            weighting = _("Census weighting moves no option by {n} points or more, so only the raw figures are shown.", n=w.number(WEIGHTING_SHOWN_FROM))  # noqa: E501
    if weighted and differs:
        weighting = _("Census-weighted beside raw: the room's answers re-weighted to the census (effective sample {n} of {voters}).", n=w.number(wr.effective_sample_size), voters=raw.turnout)  # noqa: E501
    return PollSection(
        key=pd.poll.key, prompt=w.text(pd.poll.prompt), kind=kind, turnout=raw.turnout,
        rejected=raw.rejected, chart=chart, meta=meta, weighting=weighting, headline=headline,
        crosstabs=[],
    )


def _ranking(pd: PollData, raw: Result, ballots: Sequence[Ballot],
             weights: Mapping[str, float], weighted: bool, label: Mapping[str, str],
             meta: list[str], w: Words) -> tuple[str, str, bool]:
    """A ranking's headline and Borda chart (raw beside weighted where the top three
    differ), and whether weighting changed the picture; adds to ``meta``."""
    _ = w.gettext
    raw_pts = {o.key: float(o.borda or 0) for o in raw.options}
    w_pts = _weighted_ranking(pd.spec, ballots, weights) if weighted else raw_pts
    differs = weighted and _order(raw_pts)[:3] != _order(w_pts)[:3]
    top = _order(raw_pts)
    firsts = {o.key: o.first_preferences or 0 for o in raw.options}
    headline = _("{first} first, then {second} (Borda points)", first=label[top[0]],
                 second=label[top[1]]) if len(top) > 1 else label[top[0]]
    if differs and _order(w_pts)[0] != top[0]:
        headline += " · " + _("weighted: {first} first", first=label[_order(w_pts)[0]])
    if differs:
        chart = paired_bar_chart_svg(
            [(label[k], raw_pts[k], w.number(raw_pts[k]), w_pts[k], w.number(w_pts[k]))
             for k in top],
            _("Borda points: one per option ranked below it"),
            series=(_("Raw"), _("Census-weighted")),
        )
    else:
        chart = bar_chart_svg(
            [(label[k], raw_pts[k], _("{n} points", n=w.number(raw_pts[k]))) for k in top],
            _("Borda points: one per option ranked below it"),
        )
    meta.append(_("most first preferences: {option} ({n})",
                  option=label[_order({k: float(v) for k, v in firsts.items()})[0]],
                  n=max(firsts.values(), default=0)))
    return headline, chart, differs


def _shares(pd: PollData, wr: WeightedResult, weighted: bool, label: Mapping[str, str],
            meta: list[str], w: Words) -> tuple[str, str, bool]:
    """A choice, multi or scale poll's headline and chart, and whether weighting
    changed the picture (the top three's order, or any share by the threshold)."""
    _ = w.gettext
    raw, kind = wr.raw, pd.poll.kind
    raw_pc = {o.key: o.percent for o in raw.options}
    w_pc = dict(wr.weighted_percents) if weighted else raw_pc
    gap = max((abs(raw_pc[k] - w_pc[k]) for k in raw_pc), default=0.0)
    keep = [o.key for o in raw.options]
    differs = weighted and (
        _order(raw_pc)[:3] != _order(w_pc)[:3] or gap >= WEIGHTING_SHOWN_FROM
    )
    if kind == "scale":
        headline = _("mean {mean} of 5", mean=w.number(raw.mean or 0, 1))
        if wr.weighted_mean is not None and weighted:
            meta.append(_("weighted mean {mean}", mean=w.number(wr.weighted_mean, 1)))
        chart = distribution_svg(
            [o.count for o in raw.options], _("Answers on the scale (voters and share)"),
            labels=[label[k] for k in keep], mean=raw.mean, mean_label=_("mean {mean}"),
        )
    else:
        headline, chart = _choice(raw, raw_pc, w_pc, weighted, differs, label, w)
    if kind == "multi":
        meta.append(_("shares are of voters; each could pick up to {n}",
                      n=pd.spec.max_choices or len(keep)))
    return headline, chart, differs


def _choice(raw: Result, raw_pc: Mapping[str, float], w_pc: Mapping[str, float],
            weighted: bool, differs: bool, label: Mapping[str, str],
            w: Words) -> tuple[str, str]:
    """A choice or multi poll's headline (ties named together) and its share chart."""
    _ = w.gettext
    top = _order(raw_pc)
    best = [k for k in top if abs(raw_pc[k] - raw_pc[top[0]]) < 0.5]
    headline = _("{option} ({pct})", option=_leaders([label[k] for k in best], w),
                 pct=w.percent(raw_pc[top[0]]))
    if _order(w_pc)[0] != top[0] and weighted:
        headline += " · " + _("weighted: {option} ({pct})",
                              option=label[_order(w_pc)[0]],
                              pct=w.percent(w_pc[_order(w_pc)[0]]))
    if differs:
        chart = paired_bar_chart_svg(
            [(label[k], raw_pc[k], f"{raw.option(k).count} · {w.percent(raw_pc[k])}",
              w_pc[k], w.percent(w_pc[k])) for k in top],
            _("Share of voters choosing each option, raw and census-weighted"),
            series=(_("Raw"), _("Census-weighted")), max_value=100.0,
        )
    else:
        chart = bar_chart_svg(
            [(label[k], raw_pc[k], f"{raw.option(k).count} · {w.percent(raw_pc[k])}")
             for k in top],
            _("Share of voters choosing each option (voters · share)"), max_value=100.0,
        )
    return headline, chart


def _cells(kind: str, result: Result, w: Words) -> list[str]:
    if kind == "ranking":
        n = max(result.turnout, 1)
        return [w.percent(100.0 * (o.first_preferences or 0) / n) for o in result.options]
    cells = [w.percent(o.percent) for o in result.options]
    if kind == "scale":
        cells.append(w.number(result.mean, 2) if result.mean is not None else "–")
    return cells


def _crosstab(pd: PollData, ballots: Sequence[Ballot], title: str, key: str,
              labels: dict[str, str], threshold: int, unknown_label: str, w: Words) -> CrossTable:
    _ = w.gettext
    ct = crosstab(pd.spec, ballots, key, labels, threshold)
    kind = pd.poll.kind
    columns = [w.text(o.label) for o in pd.options] + ([_("Mean")] if kind == "scale" else [])
    rows = []
    for r in ct.rows:
        label = unknown_label if r.key == NOT_GIVEN else w.text(r.label)
        if r.suppressed or r.result is None:
            rows.append({"label": label, "people": _("suppressed"),
                         "cells": [""] * len(columns), "suppressed": True})
        else:
            rows.append({
                "label": label, "people": str(r.participants),
                "cells": _cells(kind, r.result, w) if r.participants else ["–"] * len(columns),
                "suppressed": False,
            })
    note = (_("Cells show first preferences.") if kind == "ranking"
            else _("Cells show the share of voters choosing each option."))
    return CrossTable(title=title, columns=columns, rows=rows,
                      total=_cells(kind, ct.total, w) if ct.total is not None else None,
                      note=note, hidden={r.key for r in ct.rows if r.suppressed})


Weights = Callable[[Mapping[str, set[str]]], Mapping[str, float]]


def room_weights(data: EventData) -> Weights:
    """Census weights for the room, each poll using its voters' weights. People in a
    group a poll's cross-tabs suppress are not weighted by that question
    (``weighting.private_weights``: weighted figures would tell such groups apart),
    so the weights depend on the groups suppressed; raking is the costly step (it
    does not converge quickly when trimming binds), so each set is raked once."""
    census = data.census
    everyone = [Ballot(str(pid), (), answers) for pid, answers in data.with_site().items()]
    raked: dict[tuple[tuple[str, tuple[str, ...]], ...], dict[str, float]] = {}

    def weights(hidden: Mapping[str, set[str]]) -> Mapping[str, float]:
        key = tuple(sorted((q, tuple(sorted(v))) for q, v in hidden.items() if v))
        if key not in raked:
            raked[key] = private_weights(everyone, census, hidden) if census else {}
        return raked[key]

    return weights


def poll_sections(data: EventData, small_cell: int, w: Words,
                  weights: Weights | None = None) -> list[PollSection]:
    _ = w.gettext
    demos = data.with_site()
    weights = room_weights(data) if weights is None else weights
    site_labels = {s.key: w.text(s.name) for s in data.sites.values()}
    out = []
    for pd in data.polls:
        if pd.poll.kind in BUDGET_KINDS or pd.poll.pair_key or not pd.votes:
            continue
        ballots = pd.ballots(demos)
        crosstabs = [
            _crosstab(pd, ballots, _("By {question}", question=w.text(d.question.prompt)),
                      d.question.key, {k: w.text(v) for k, v in d.labels.items()}, small_cell,
                      _("Not given / prefer not to say"), w)
            for d in data.demographics
        ]
        # zip stops before the site table, which comes last: no census weights by site.
        hidden = {d.question.key: c.hidden
                  for d, c in zip(data.demographics, crosstabs, strict=False)}
        if len(site_labels) > 1:
            crosstabs.append(_crosstab(pd, ballots, _("By site"), SITE_KEY, site_labels,
                                       small_cell, _("Site unknown"), w))
        poll_weights = weights(hidden)
        wr = weighted_tally(pd.spec, ballots, poll_weights)
        if wr.raw.turnout == 0:
            continue
        section = _section(pd, wr, ballots, poll_weights, bool(data.census), w)
        section.crosstabs = crosstabs
        out.append(section)
    return out
