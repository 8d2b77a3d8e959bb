"""The report's budget section: what the room did with its budgets.

Allocation polls: mean and median per option with the spread (interquartile
range), and the tables' consensus allocations beside the individual ballots.
Projects polls: the funded set by greedy (most approvals first) and by the
Method of Equal Shares, side by side. Tradeoff polls: how many packages closed
the gap and the most chosen package. Per demographic group as in the poll
section, with small groups suppressed by the shared rule.

All the arithmetic is server/core/budget.py, server/core/equal_shares.py and
server/core/budget_groups.py (through ``kind_result`` / ``budget_crosstab``); this
module only arranges it into rows of text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.core.ballots import budget_poll
from server.core.budget import BUDGET_KINDS, BudgetPoll, compare_tables, money
from server.core.budget_groups import Row, budget_crosstab, kind_result
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
    summary: list[str]  # sentences under the heading
    tables: list[BudgetTable]


def _num(x: float) -> str:
    return f"{x:,.1f}"


def _allocation(bp: BudgetPoll, result: dict[str, Any], pd: PollData) -> BudgetSection:
    unit = bp.unit
    options = BudgetTable(
        caption=f"Mean and median {unit} per option; spread is the middle half of ballots "
        "(interquartile range). An option a ballot leaves out counts as 0.",
        head=["Option", "Mean", "Median", "Spread (Q1–Q3)", "Ballots giving any"],
        rows=[
            [
                o["label"],
                _num(o["mean"]),
                _num(o["median"]),
                f"{_num(o['q1'])}–{_num(o['q3'])}",
                str(o["givers"]),
            ]
            for o in result["options"]
        ],
    )
    ballots = [pd.amounts.get(pid, {}) for pid, _ in pd.votes]
    tables = compare_tables(bp, pd.tables, ballots)
    versus = BudgetTable(
        caption=f"Tables' consensus allocations ({tables['tables']} tables) beside the "
        f"individual ballots ({tables['ballots']}): mean {unit} per option.",
        head=["Option", "Tables (mean)", "Individuals (mean)", "Difference"],
        rows=[
            [
                o["label"],
                _num(o["table_mean"]) if tables["tables"] else "–",
                _num(o["ballot_mean"]),
                _num(o["table_mean"] - o["ballot_mean"]) if tables["tables"] else "–",
            ]
            for o in tables["options"]
        ],
    )
    summary = [
        f"Budget {money(bp.budget or 0, unit)}; on average a ballot spent "
        f"{money(round(result['mean_spent'], 1), unit)}."
    ]
    if not tables["tables"]:
        summary.append("No table reported a consensus allocation.")
    return BudgetSection(
        pd.poll.key, pd.poll.prompt, bp.kind, result["ballots"], summary, [options, versus]
    )


def _projects(bp: BudgetPoll, result: dict[str, Any], pd: PollData) -> BudgetSection:
    unit = bp.unit
    labels = {p["key"]: p["label"] for p in result["projects"]}

    def funded(rule: str) -> str:
        keys = result[rule]["funded"]
        names = ", ".join(labels[k] for k in keys) or "nothing"
        return f"{names} ({money(result[rule]['spent'], unit)})"

    table = BudgetTable(
        caption="Approvals per project and whether each rule funds it.",
        head=["Project", "Cost", "Approvals", "Share", "Greedy", "Equal shares"],
        rows=[
            [
                p["label"],
                money(p["cost"], unit),
                str(p["approvals"]),
                f"{p['percent']:.0f}%",
                "funded" if p["greedy"] else "–",
                "funded" if p["equal_shares"] else "–",
            ]
            for p in result["projects"]
        ],
    )
    summary = [
        f"Budget {money(bp.budget or 0, unit)}.",
        f"Funded by greedy (most approvals first): {funded('greedy')}.",
        f"Funded by the Method of Equal Shares: {funded('equal_shares')}.",
    ]
    return BudgetSection(pd.poll.key, pd.poll.prompt, bp.kind, result["ballots"], summary, [table])


def _tradeoff(bp: BudgetPoll, result: dict[str, Any], pd: PollData) -> BudgetSection:
    unit = bp.unit
    labels = {o["key"]: o["label"] for o in result["options"]}
    top = result["top_package"]
    summary = [
        f"Gap to close: {money(bp.deficit or 0, unit)}. "
        f"{result['balanced']} of {result['ballots']} ballots balanced "
        f"({result['balanced_percent']:.0f}%); mean balance "
        f"{money(round(result['mean_balance']), unit)}."
    ]
    if top is not None:
        names = ", ".join(labels.get(k, k) for k in top["choice"])
        state = "closes the gap" if top["balance"] >= 0 else "leaves a gap"
        summary.append(
            f"Most chosen package ({top['count']} ballots): {names}; it {state} "
            f"(balance {money(top['balance'], unit)})."
        )
    table = BudgetTable(
        caption="How often each measure was accepted.",
        head=["Measure", "Saves", "Accepted by", "Share"],
        rows=[
            [o["label"], money(o["delta"] or 0, unit), str(o["count"]), f"{o['percent']:.0f}%"]
            for o in result["options"]
        ],
    )
    return BudgetSection(pd.poll.key, pd.poll.prompt, bp.kind, result["ballots"], summary, [table])


def _group_cells(kind: str, result: dict[str, Any] | None, width: int) -> list[str]:
    if result is None:
        return ["suppressed"] * width
    if kind == "allocation":
        return [_num(o["mean"]) for o in result["options"]]
    if kind == "projects":
        return [f"{p['percent']:.0f}%" for p in result["projects"]]
    return [f"{result['balanced_percent']:.0f}%", str(result["ballots"])]


def _groups(data: EventData, bp: BudgetPoll, rows: list[Row], small_cell: int) -> list[BudgetTable]:
    if bp.kind == "tradeoff":
        columns = ["Balanced", "Ballots"]
        what = "the share of ballots that closed the gap"
    else:
        columns = [o.label for o in bp.options]
        what = f"mean {bp.unit}" if bp.kind == "allocation" else "the share approving each project"
    out = []
    for d in data.demographics:
        ct = budget_crosstab(bp, rows, d.question.key, d.labels, small_cell)
        body, hidden = [], []
        for r in ct["rows"]:
            people = "suppressed" if r["suppressed"] else str(r["participants"])
            body.append([r["label"], people, *_group_cells(bp.kind, r["result"], len(columns))])
            hidden.append(bool(r["suppressed"]))
        if ct["total"] is not None:
            body.append(["All", str(len(rows)), *_group_cells(bp.kind, ct["total"], len(columns))])
            hidden.append(False)
        out.append(
            BudgetTable(
                caption=f"By {d.question.prompt.rstrip('?').lower()} — cells show {what}; "
                f"groups under {small_cell} people are suppressed.",
                head=["Group", "People", *columns],
                rows=body,
                suppressed=hidden,
            )
        )
    return out


def budget_sections(data: EventData, small_cell: int) -> list[BudgetSection]:
    """One section per budgeting poll with ballots, in agenda order."""
    demos = data.answers
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
        build = {"allocation": _allocation, "projects": _projects, "tradeoff": _tradeoff}
        section = build[bp.kind](bp, result, pd)
        section.tables.extend(_groups(data, bp, rows, small_cell))
        out.append(section)
    return out
