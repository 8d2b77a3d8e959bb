"""The report's budget section: what the room did with its budgets, as charts.

Allocation polls: the mean the ballots gave each option, in the poll's unit
(points, pounds…), with the spread (the middle half of ballots, Q1–Q3), and the
tables' consensus allocations beside the individual ballots when tables reported
one. Projects polls: approvals per project, funded ones solid, by the Method of
Equal Shares, with the greedy rule's set beside it when they differ. Tradeoff
polls: how often each measure was accepted, how many packages closed the gap and
the most chosen package. The by-group tables (small groups suppressed by the
shared rule) go to the appendix.

All the arithmetic is server/core/budget.py, server/core/equal_shares.py and
server/core/budget_groups.py (through ``kind_result`` / ``budget_crosstab``); this
module only arranges it into charts and sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from display.charts import bar_chart_svg
from display.scale_charts import range_chart_svg
from server.core.ballots import budget_poll
from server.core.budget import BUDGET_KINDS, BudgetPoll, compare_tables, money
from server.core.budget_groups import Row, budget_crosstab, kind_result
from server.report.words import Words
from server.storage.event_store import EventData, PollData


@dataclass
class BudgetTable:
    caption: str
    head: list[str]
    rows: list[list[str]]
    suppressed: list[bool] = field(default_factory=list)  # per row (group tables)


@dataclass
class BudgetSection:
    key: str
    prompt: str
    kind: str
    ballots: int
    chart: str
    summary: list[str]  # sentences under the heading
    headline: str  # the outcome in one line, for the summary page
    tables: list[BudgetTable]  # main body
    groups: list[BudgetTable] = field(default_factory=list)  # appendix


def _nice(x: float) -> float:
    """The axis end for a largest value ``x``: the next multiple of 10 (or 1 when small)."""
    step = 10.0 if x > 10 else 1.0
    return max(step, math.ceil(x / step) * step)


def _allocation(bp: BudgetPoll, result: dict[str, Any], pd: PollData, w: Words) -> BudgetSection:
    _ = w.gettext
    unit = w.text(bp.unit)
    options = sorted(result["options"], key=lambda o: -o["mean"])
    chart = range_chart_svg(
        [(w.text(o["label"]), o["mean"], o["q1"], o["q3"],
          _("{mean} {unit} (middle half {q1}–{q3})", mean=w.number(o["mean"], 1), unit=unit,
            q1=w.number(o["q1"]), q3=w.number(o["q3"])))
         for o in options],
        _("Mean {unit} per option, and the middle half of ballots", unit=unit),
        legend=(_("mean {unit} per ballot", unit=unit), _("middle half of ballots (Q1–Q3)")),
        max_value=_nice(max([o["q3"] for o in options] + [o["mean"] for o in options])),
    )
    ballots = [pd.amounts.get(pid, {}) for pid, _v in pd.votes]
    tables = compare_tables(bp, pd.tables, ballots)
    body = []
    if tables["tables"]:
        body.append(BudgetTable(
            caption=_("The tables' consensus allocations ({t} tables) beside the individual ballots ({b}): mean {unit} per option.", t=tables["tables"], b=tables["ballots"], unit=unit),  # noqa: E501
            head=[_("Option"), _("Tables"), _("Individuals"), _("Difference")],
            rows=[[w.text(o["label"]), w.number(o["table_mean"], 1),
                   w.number(o["ballot_mean"], 1),
                   w.number(o["table_mean"] - o["ballot_mean"], 1)]
                  for o in tables["options"]],
        ))
    summary = [_("Each ballot had {budget} to spread; an option a ballot left out counts as 0.",
                 budget=money(bp.budget or 0, unit))]
    if not tables["tables"]:
        summary.append(_("No table reported a consensus allocation."))
    top = options[:2]
    headline = "; ".join(f"{w.text(o['label'])} {w.number(o['mean'], 1)} {unit}" for o in top)
    return BudgetSection(pd.poll.key, w.text(pd.poll.prompt), bp.kind, result["ballots"], chart,
                         summary, _("on average {top}", top=headline), body)


def _projects(bp: BudgetPoll, result: dict[str, Any], pd: PollData, w: Words) -> BudgetSection:
    _ = w.gettext
    unit = bp.unit
    labels = {p["key"]: w.text(p["label"]) for p in result["projects"]}
    projects = sorted(result["projects"], key=lambda p: -p["approvals"])

    def funded(rule: str) -> str:
        keys = result[rule]["funded"]
        return _("{names} ({spent} of {budget})",
                 names=", ".join(labels[k] for k in keys) or _("nothing"),
                 spent=money(result[rule]["spent"], unit), budget=money(bp.budget or 0, unit))

    chart = bar_chart_svg(
        [(labels[p["key"]], p["percent"],
          f"{w.percent(p['percent'])} · {money(p['cost'], unit)}") for p in projects],
        _("Approvals per project, and the projects funded"),
        max_value=100.0,
        hatched=[not p["equal_shares"] for p in projects],
        legend=(_("funded (Method of Equal Shares)"), _("not funded")),
    )
    summary = [_("Bars show the share of ballots approving each project, with its cost.")]
    same = result["greedy"]["funded"] == result["equal_shares"]["funded"]
    summary.append(_("Funded by the Method of Equal Shares: {funded}.",
                     funded=funded("equal_shares")))
    if same:
        summary.append(_("Funding the most approved first gives the same projects."))
    else:
        summary.append(_("Funding the most approved first would give: {funded}.",
                         funded=funded("greedy")))
    return BudgetSection(pd.poll.key, w.text(pd.poll.prompt), bp.kind, result["ballots"], chart,
                         summary, _("funded: {funded}", funded=funded("equal_shares")), [])


def _tradeoff(bp: BudgetPoll, result: dict[str, Any], pd: PollData, w: Words) -> BudgetSection:
    _ = w.gettext
    unit = bp.unit
    labels = {o["key"]: w.text(o["label"]) for o in result["options"]}
    options = sorted(result["options"], key=lambda o: -o["percent"])
    chart = bar_chart_svg(
        [(labels[o["key"]], o["percent"],
          _("{pct} · saves {amount}", pct=w.percent(o["percent"]),
            amount=money(o["delta"] or 0, unit)) if (o["delta"] or 0) >= 0 else
          _("{pct} · costs {amount}", pct=w.percent(o["percent"]),
            amount=money(-(o["delta"] or 0), unit)))
         for o in options],
        _("How often each measure was accepted"),
        max_value=100.0,
    )
    summary = [
        _("Gap to close: {gap}. {balanced} of {ballots} ballots closed it ({pct}); on average a ballot left {balance}.",  # noqa: E501
          gap=money(bp.deficit or 0, unit), balanced=result["balanced"],
          ballots=result["ballots"], pct=w.percent(result["balanced_percent"]),
          balance=money(round(result["mean_balance"]), unit)),
    ]
    top = result["top_package"]
    if top is not None:
        names = ", ".join(labels.get(k, k) for k in top["choice"])
        if top["balance"] >= 0:
            summary.append(_("Most chosen package ({n} ballots): {names}; it closes the gap.",
                             n=top["count"], names=names))
        else:
            summary.append(_("Most chosen package ({n} ballots): {names}; it leaves a gap of {gap}.",  # noqa: E501
                             n=top["count"], names=names, gap=money(-top["balance"], unit)))
    headline = _("{pct} of ballots closed the gap; most accepted: {measure}",
                 pct=w.percent(result["balanced_percent"]),
                 measure=labels[options[0]["key"]] if options else "–")
    return BudgetSection(pd.poll.key, w.text(pd.poll.prompt), bp.kind, result["ballots"], chart,
                         summary, headline, [])


def _group_cells(kind: str, result: dict[str, Any] | None, width: int, w: Words) -> list[str]:
    _ = w.gettext
    if result is None:
        return [_("suppressed")] * width
    if kind == "allocation":
        return [w.number(o["mean"], 1) for o in result["options"]]
    if kind == "projects":
        return [w.percent(p["percent"]) for p in result["projects"]]
    return [w.percent(result["balanced_percent"]), str(result["ballots"])]


def _groups(data: EventData, bp: BudgetPoll, rows: list[Row], small_cell: int,
            w: Words) -> list[BudgetTable]:
    _ = w.gettext
    if bp.kind == "tradeoff":
        columns = [_("Balanced"), _("Ballots")]
        what = _("the share of ballots that closed the gap")
    else:
        columns = [w.text(o.label) for o in bp.options]
        what = (_("mean {unit}", unit=w.text(bp.unit)) if bp.kind == "allocation"
                else _("the share approving each project"))
    out = []
    for d in data.demographics:
        ct = budget_crosstab(bp, rows, d.question.key, d.labels, small_cell)
        body, hidden = [], []
        for r in ct["rows"]:
            people = _("suppressed") if r["suppressed"] else str(r["participants"])
            body.append([w.text(r["label"]), people,
                         *_group_cells(bp.kind, r["result"], len(columns), w)])
            hidden.append(bool(r["suppressed"]))
        if ct["total"] is not None:
            body.append([_("All"), str(len(rows)),
                         *_group_cells(bp.kind, ct["total"], len(columns), w)])
            hidden.append(False)
        out.append(BudgetTable(
            caption=_("By {question} — cells show {what}.",
                      question=w.text(d.question.prompt), what=what),
            head=[_("Group"), _("People"), *columns], rows=body, suppressed=hidden,
        ))
    return out


def budget_sections(data: EventData, small_cell: int, w: Words) -> list[BudgetSection]:
    """One section per budgeting poll with ballots, in agenda order."""
    demos = data.answers
    build = {"allocation": _allocation, "projects": _projects, "tradeoff": _tradeoff}
    out = []
    for pd in data.polls:
        if pd.poll.kind not in BUDGET_KINDS or not pd.votes:
            continue
        bp = budget_poll(pd.poll, pd.options)
        rows = [
            Row(str(pid), tuple(choice), pd.amounts.get(pid), demos.get(pid, {}))
            for pid, choice in pd.votes
        ]
        result = kind_result(bp, rows, full=True)
        section = build[bp.kind](bp, result, pd, w)
        section.groups = _groups(data, bp, rows, small_cell, w)
        out.append(section)
    return out
