"use strict";
// Polls asked twice on the big screen: under the "after" poll's bars, how
// answers moved among the people who answered both times, with the 95%
// interval of each change, and the change by group (small groups hidden).
// screen.js calls onMessage for every message and render(poll) on each redraw.
(function () {
  const t = window.townhall;
  const tr = t.tr;
  const shifts = new Map(); // pair key -> latest "shift" message

  function pts(x) { return tr("{n} pts", { n: (x >= 0 ? "+" : "−") + Math.abs(Math.round(x * 100)) }); }
  function num(x) { return (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(2); }
  function ci(lo, hi, f) { return lo === null || hi === null ? "" : " (" + tr("95%: {low} to {high}", { low: f(lo), high: f(hi) }) + ")"; }

  function onMessage(msg) {
    if (msg.type === "hello") (msg.shifts || []).forEach(function (s) { shifts.set(s.pair_key, s); });
    else if (msg.type === "shift") shifts.set(msg.pair_key, msg);
  }

  function render(poll) {
    const box = document.getElementById("shift");
    if (!box) return;
    const s = poll && poll.phase === "after" ? shifts.get(poll.pair_key) : null;
    box.hidden = !s || !s.shift.paired;
    t.clear(box);
    if (box.hidden) return;
    const r = s.shift;
    box.appendChild(t.el("h2", tr("Did minds change? {n} people answered at the start and now", { n: r.paired })));
    const list = t.el("ul", null, "shift-options");
    r.options.forEach(function (o) {
      const li = t.el("li", t.text(o.label) + ": " + Math.round(o.before * 100) + "% → " +
        Math.round(o.after * 100) + "% · " + pts(o.change) + ci(o.low, o.high, pts));
      li.dataset.key = o.key;
      list.appendChild(li);
    });
    if (r.mean) {
      const li = t.el("li", tr("Average") + ": " + r.mean.before.toFixed(2) + " → " + r.mean.after.toFixed(2) +
        " · " + num(r.mean.change) + ci(r.mean.low, r.mean.high, num), "shift-mean");
      list.appendChild(li);
    }
    box.appendChild(list);
    s.groups.forEach(function (g) {
      const p = t.el("p", null, "shift-group");
      p.appendChild(t.el("strong", t.text(g.prompt) + " "));
      const parts = g.rows.filter(function (row) { return row.paired; }).map(function (row) {
        const x = row.shift;
        if (!x) return t.text(row.label) + ": –";
        if (x.mean) return t.text(row.label) + ": " + num(x.mean.change);
        const top = x.options.slice().sort(function (a, b) { return Math.abs(b.change) - Math.abs(a.change); })[0];
        return t.text(row.label) + ": " + t.text(top.label) + " " + pts(top.change);
      });
      const hidden = g.rows.some(function (row) { return row.suppressed; });
      p.appendChild(document.createTextNode(parts.join(" · ") + (hidden ? " · (" + tr("small groups hidden") + ")" : "")));
      box.appendChild(p);
    });
  }

  window.townhallShift = { onMessage: onMessage, render: render };
})();
