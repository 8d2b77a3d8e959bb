"use strict";
// Budgeting results on the big screen, as rows for the bar chart (screen_charts.js):
// every bar carries its figure as text, and "funded" or "closes the gap" are
// words, never colour alone. Plain words: the statistics stay in the report.
window.townhallBudgetScreen = (function () {
  const t = window.townhall;
  const tr = t.tr;
  const money = t.money;

  function allocation(b) {
    const tables = b.tables && b.tables.tables ? b.tables : null;
    const rows = b.options.map(function (o, i) {
      const row = { key: o.key, label: t.text(o.label), value: o.mean, text: money(Math.round(o.mean), b.unit),
        note: tr("half gave {low}–{high}", { low: t.number(Math.round(o.q1)), high: t.number(Math.round(o.q3)) }) };
      if (tables) row.marker = tables.options[i].table_mean;
      return row;
    });
    const max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.value, r.marker || 0); }).concat([0]));
    return {
      rows: rows,
      max: max,
      help: tr("Each person spread {amount}: the bars show what people gave on average.", { amount: money(b.budget, b.unit) }),
      legend: tables ? tr("Orange line: what the {n} tables agreed together, on average.", { n: tables.tables }) : "",
      extra: [],
    };
  }

  function projects(b) {
    const rows = b.projects.map(function (p) {
      const funded = [];
      if (p.greedy) funded.push(tr("✓ most votes"));
      if (p.equal_shares) funded.push(tr("✓ fair shares"));
      return { key: p.key, label: t.text(p.label) + " · " + money(p.cost, b.unit), value: p.approvals,
        text: t.number(p.approvals), note: Math.round(p.percent) + "%", badges: funded };
    });
    return {
      rows: rows,
      help: tr("Budget {amount}: the bars count who would fund each project.", { amount: money(b.budget, b.unit) }),
      legend: tr("“Most votes” funds the most popular projects first; “fair shares” gives every voter an equal part of the budget."),
      extra: [
        [tr("Funded by most votes"), money(b.greedy.spent, b.unit)],
        [tr("Funded by fair shares"), money(b.equal_shares.spent, b.unit)],
      ],
      lead: false,
    };
  }

  function tradeoff(b) {
    const top = b.top_package;
    const rows = b.options.map(function (o) {
      const amount = { amount: money(Math.abs(o.delta), b.unit) };
      return { key: o.key, label: t.text(o.label) + " · " + (o.delta >= 0 ? tr("saves {amount}", amount) : tr("costs {amount}", amount)),
        value: o.count, text: t.number(o.count), note: Math.round(o.percent) + "%",
        badges: top && top.choice.indexOf(o.key) >= 0 ? [tr("★ in the top package")] : [] };
    });
    const extra = [[tr("Closed the gap"), tr("{n} of {total}", { n: t.number(b.balanced), total: t.number(b.ballots) })]];
    if (top) {
      extra.push([tr("Most chosen package ({n} people)", { n: top.count }), top.balance >= 0 ? tr("closes the gap")
        : tr("short by {amount}", { amount: money(-top.balance, b.unit) })]);
    }
    return {
      rows: rows,
      help: tr("Gap to close: {amount}. The bars count who would accept each measure.", { amount: money(b.deficit, b.unit) }),
      legend: top ? tr("★ marks the measures of the package most people chose.") : "",
      extra: extra,
      lead: false,
    };
  }

  // The chart for a budget poll's tally message, or null for other polls.
  function chart(v) {
    const b = v && v.budget;
    if (!b) return null;
    if (b.kind === "allocation") return allocation(b);
    if (b.kind === "projects") return projects(b);
    if (b.kind === "tradeoff") return tradeoff(b);
    return null;
  }

  // One group's figure for one option in the by-group view (a group's result of
  // server/budget_groups.py), as {value, text}.
  function groupCell(kind, unit, result, key) {
    if (!result) return null;
    if (kind === "allocation") {
      const o = result.options.find(function (x) { return x.key === key; });
      return o ? { value: o.mean, text: money(Math.round(o.mean), unit) } : null;
    }
    const list = kind === "projects" ? result.projects : result.options;
    const o = list.find(function (x) { return x.key === key; });
    return o ? { value: o.percent, text: Math.round(o.percent) + "%" } : null;
  }

  return { chart: chart, groupCell: groupCell };
})();
