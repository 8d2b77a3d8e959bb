"use strict";
// Budgeting results on the big screen: every bar carries its figures as text,
// and funded / balanced states are words, never colour alone.
window.townhallBudgetScreen = (function () {
  const t = window.townhall;

  function money(n, unit) {
    const text = Math.round(Math.abs(n)).toLocaleString("en-GB");
    if (unit && unit.length <= 3 && !/^[A-Za-z]/.test(unit)) return (n < 0 ? "-" : "") + unit + text;
    return (n < 0 ? "-" : "") + text + " " + unit;
  }

  function bar(label, pct, value, key) {
    const li = t.el("li", null, "bar");
    if (key) li.dataset.key = key;
    li.appendChild(t.el("span", label, "bar-label"));
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
      meta.textContent += " · mean of " + money(b.budget, b.unit) + " per person";
      const tables = b.tables && b.tables.tables ? b.tables : null;
      b.options.forEach(function (o, i) {
        let text = "mean " + money(o.mean, b.unit) + " · median " + money(o.median, b.unit) +
          " · middle half " + money(o.q1, b.unit) + "–" + money(o.q3, b.unit);
        bars.appendChild(bar(o.label, 100 * o.mean / b.budget, text, o.key));
        if (tables) {
          const tm = tables.options[i].table_mean;
          bars.appendChild(bar("  tables (" + tables.tables + ")", 100 * tm / b.budget,
            "tables' mean " + money(tm, b.unit), o.key + "-tables"));
        }
      });
    } else if (b.kind === "projects") {
      meta.textContent += " · budget " + money(b.budget, b.unit) + " · by votes spends " +
        money(b.greedy.spent, b.unit) + " · equal shares spends " + money(b.equal_shares.spent, b.unit);
      b.projects.forEach(function (p) {
        const rules = [p.greedy ? "funded by votes" : "not by votes",
          p.equal_shares ? "funded by equal shares" : "not by equal shares"];
        bars.appendChild(bar(p.label + " (" + money(p.cost, b.unit) + ")", p.percent,
          p.approvals + " · " + Math.round(p.percent) + "% · " + rules.join(" · "), p.key));
      });
    } else if (b.kind === "tradeoff") {
      meta.textContent += " · " + b.balanced + " of " + b.ballots + " closed the " +
        money(b.deficit, b.unit) + " gap (" + Math.round(b.balanced_percent) + "%)";
      b.options.forEach(function (o) {
        const effect = (o.delta >= 0 ? "saves " : "costs ") + money(Math.abs(o.delta), b.unit);
        bars.appendChild(bar(o.label + " (" + effect + ")", o.percent,
          o.count + " · " + Math.round(o.percent) + "%", o.key));
      });
      if (b.top_package) {
        const names = b.top_package.choice.map(function (k) {
          return (b.options.find(function (o) { return o.key === k; }) || { label: k }).label;
        });
        const li = t.el("li", "Most chosen package (" + b.top_package.count + "): " + names.join(", ") +
          (b.top_package.balance >= 0 ? " — balances" : " — short by " + money(-b.top_package.balance, b.unit)), "package");
        bars.appendChild(li);
      }
    }
  }

  return { handles: function (v) { return !!(v && v.budget); }, render: render };
})();
