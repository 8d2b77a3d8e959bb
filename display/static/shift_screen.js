"use strict";
// Polls asked twice on the big screen: beside the "after" poll's bars, how answers
// moved among the people who answered both times, in plain words. A change counts
// as clear when its 95% interval leaves out zero; the intervals themselves and the
// change by group are in the report. screen.js calls onMessage for every message
// and render(poll) on each redraw.
(function () {
  const t = window.townhall;
  const tr = t.tr;
  const shifts = new Map(); // pair key -> latest "shift" message

  function onMessage(msg) {
    if (msg.type === "hello") (msg.shifts || []).forEach(function (s) { shifts.set(s.pair_key, s); });
    else if (msg.type === "shift") shifts.set(msg.pair_key, msg);
  }

  function verdict(low, high) {
    if (low !== null && low > 0) return tr("clearly up");
    if (high !== null && high < 0) return tr("clearly down");
    return tr("about the same");
  }

  function render(poll) {
    const box = document.getElementById("shift");
    if (!box) return;
    const s = poll && poll.phase === "after" ? shifts.get(poll.pair_key) : null;
    box.hidden = !s || !s.shift.paired;
    t.clear(box);
    if (box.hidden) return;
    const r = s.shift;
    box.appendChild(t.el("h2", tr("Did minds change?")));
    box.appendChild(t.el("p", tr("{n} people answered at the start and again now.", { n: r.paired })));
    const list = t.el("ul");
    if (r.mean) {
      list.appendChild(t.el("li", tr("Average {before} → {after}: {verdict}", { before: r.mean.before.toFixed(1),
        after: r.mean.after.toFixed(1), verdict: verdict(r.mean.low, r.mean.high) })));
    } else {
      r.options.slice().sort(function (a, b) { return Math.abs(b.change) - Math.abs(a.change); }).slice(0, 3)
        .forEach(function (o) {
          const li = t.el("li", t.text(o.label) + ": " + Math.round(o.before * 100) + "% → " +
            Math.round(o.after * 100) + "%, " + verdict(o.low, o.high));
          li.dataset.key = o.key;
          list.appendChild(li);
        });
    }
    box.appendChild(list);
  }

  window.townhallShift = { onMessage: onMessage, render: render };
})();
