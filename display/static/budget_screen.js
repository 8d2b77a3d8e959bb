"use strict";
// Budgeting results on the big screen: every bar carries its figures as text,
// and funded / balanced states are words, never colour alone.
window.townhallBudgetScreen = (function () {
  const t = window.townhall;
  const tr = t.tr;

  const money = t.money;

  function bar(label, pct, value, key) {
    const li = t.el("li", null, "bar");
    if (key) li.dataset.key = key;
    li.appendChild(t.el("span", label, "bar-label")); // already in the screen's language
    const track = t.el("span", null, "bar-track");
    const fill = t.el("span", null, "bar-fill");
    fill.style.width = Math.max(0, Math.min(100, pct)) + "%";
    track.appendChild(fill);
    li.appendChild(track);
    li.appendChild(t.el("span", value, "bar-value"));
    return li;
  }

  function render(v, bars, meta) {
    const b = v.budget;
    if (b.kind === "allocation") {
      meta.textContent += " · " + tr("mean of {amount} per person", { amount: money(b.budget, b.unit) });
      const tables = b.tables && b.tables.tables ? b.tables : null;
      b.options.forEach(function (o, i) {
        let text = tr("mean {mean} · median {median} · middle half {q1}–{q3}", { mean: money(o.mean, b.unit),
          median: money(o.median, b.unit), q1: money(o.q1, b.unit), q3: money(o.q3, b.unit) });
        bars.appendChild(bar(t.text(o.label), 100 * o.mean / b.budget, text, o.key));
        if (tables) {
          const tm = tables.options[i].table_mean;
          bars.appendChild(bar("  " + tr("tables ({n})", { n: tables.tables }), 100 * tm / b.budget,
            tr("tables' mean {amount}", { amount: money(tm, b.unit) }), o.key + "-tables"));
        }
      });
    } else if (b.kind === "projects") {
      meta.textContent += " · " + tr("budget {budget} · by votes spends {greedy} · equal shares spends {equal}", {
        budget: money(b.budget, b.unit), greedy: money(b.greedy.spent, b.unit), equal: money(b.equal_shares.spent, b.unit) });
      b.projects.forEach(function (p) {
        const rules = [p.greedy ? tr("funded by votes") : tr("not by votes"),
          p.equal_shares ? tr("funded by equal shares") : tr("not by equal shares")];
        bars.appendChild(bar(t.text(p.label) + " (" + money(p.cost, b.unit) + ")", p.percent,
          p.approvals + " · " + Math.round(p.percent) + "% · " + rules.join(" · "), p.key));
      });
    } else if (b.kind === "tradeoff") {
      meta.textContent += " · " + tr("{n} of {total} closed the {amount} gap ({pct}%)", { n: b.balanced,
        total: b.ballots, amount: money(b.deficit, b.unit), pct: Math.round(b.balanced_percent) });
      b.options.forEach(function (o) {
        const amount = { amount: money(Math.abs(o.delta), b.unit) };
        const effect = o.delta >= 0 ? tr("saves {amount}", amount) : tr("costs {amount}", amount);
        bars.appendChild(bar(t.text(o.label) + " (" + effect + ")", o.percent,
          o.count + " · " + Math.round(o.percent) + "%", o.key));
      });
      if (b.top_package) {
        const names = b.top_package.choice.map(function (k) {
          return t.text((b.options.find(function (o) { return o.key === k; }) || { label: k }).label);
        });
        const li = t.el("li", tr("Most chosen package ({n})", { n: b.top_package.count }) + ": " + names.join(", ") + " — " +
          (b.top_package.balance >= 0 ? tr("balances") : tr("short by {amount}", { amount: money(-b.top_package.balance, b.unit) })), "package");
        bars.appendChild(li);
      }
    }
  }

  return { handles: function (v) { return !!(v && v.budget); }, render: render };
})();
