"use strict";
// The big screen's views, drawn from the state screen.js keeps: a poll's results,
// its results by group, a question's themes, the room against the census.
// Figures in plain words; statistical detail stays in the report.
window.townhallViews = (function () {
  const t = window.townhall;
  const tr = t.tr;
  const charts = window.townhallCharts;
  const $ = function (id) { return document.getElementById(id); };

  function kindHelp(p) {
    let hint = "";
    if (p.kind === "single") hint = tr("Pick one.");
    else if (p.kind === "multi") hint = tr("Pick up to {n}.", { n: p.max_choices });
    else if (p.kind === "ranking") hint = tr("Ranked: the higher people put an option, the more points it gets.");
    else if (p.kind === "scale") hint = tr("From 1 (strongly disagree) to 5 (strongly agree).");
    return t.says(t.text(p.prompt), hint) ? "" : hint;
  }

  function phaseWords(p) {
    if (p.phase === "before") return tr("Asked at the start of the meeting");
    if (p.phase === "after") return tr("Asked again at the end of the meeting");
    return "";
  }

  // Rows for the plain kinds; markers: census-weighted head counts ("if the room
  // matched the population"), on the same scale as the bars.
  function plainChart(v, bd) {
    const p = v.poll;
    const results = {};
    ((v.result && v.result.options) || []).forEach(function (o) { results[o.key] = o; });
    const weighted = {};
    if (bd && bd.weighted && p.kind !== "ranking") {
      bd.weighted.options.forEach(function (o) { weighted[o.key] = o.weighted_count; });
    }
    const rows = p.options.map(function (opt) {
      const o = results[opt.key] || { count: 0, percent: 0, borda: 0, first_preferences: 0 };
      const label = p.kind === "scale" ? opt.key + " · " + t.text(opt.label) : t.text(opt.label);
      if (p.kind === "ranking") {
        return { key: opt.key, label: label, value: o.borda || 0, text: tr("{n} points", { n: t.number(o.borda || 0) }),
          note: tr("first for {n}", { n: t.number(o.first_preferences || 0) }) };
      }
      return { key: opt.key, label: label, value: o.count, text: t.number(o.count), note: Math.round(o.percent) + "%",
        marker: weighted[opt.key] };
    });
    const marked = rows.some(function (r) { return r.marker !== undefined; });
    const max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.value, r.marker || 0); }).concat([0]));
    const n = p.options.length;
    let legend = "";
    if (p.kind === "ranking") legend = tr("Points: {top} for a first place, {next} for a second, and so on.", { top: n - 1, next: n - 2 });
    else if (marked) legend = tr("Orange line: the result if the room had the same mix of people as the population (census).");
    const extra = [];
    if (p.kind === "scale" && v.result && v.result.mean !== null && v.result.mean !== undefined) {
      extra.push([tr("Average"), tr("{mean} out of 5", { mean: v.result.mean.toFixed(1) })]);
    }
    return { rows: rows, max: max, help: kindHelp(p), legend: legend, extra: extra };
  }

  // A site's screen while the small-groups rule hides that site's votes (the tally
  // comes with suppressed: true and no result): every bar empty, no figure at all;
  // zeros would read as "nobody voted", and the rule may hide a site of many voters.
  function hiddenChart(v) {
    const rows = v.poll.options.map(function (opt) {
      const label = v.poll.kind === "scale" ? opt.key + " · " + t.text(opt.label) : t.text(opt.label);
      return { key: opt.key, label: label, value: null, text: tr("hidden") };
    });
    return { rows: rows, max: 0, help: kindHelp(v.poll), extra: [], lead: false,
      legend: tr("This site's results are hidden for now, to keep everyone anonymous: the votes of small groups are never shown.") };
  }

  function stateWords(p, now) {
    if (p.status === "open" && p.closes_at) {
      const left = Math.max(0, Math.round((Date.parse(p.closes_at) - now) / 1000));
      return { state: "open", text: tr("Voting closes in {s} s", { s: left }), left: left };
    }
    if (p.status === "open") return { state: "open", text: tr("Voting is open") };
    if (p.status === "closed") return { state: "closed", text: tr("Voting has closed") };
    return { state: "draft", text: tr("Not open yet") };
  }

  function poll(v, bd) {
    const bars = $("bars");
    if (!v) {
      $("poll-prompt").textContent = tr("The first poll opens soon");
      $("poll-help").textContent = tr("Join now so your phone is ready to vote.");
      t.clear(bars);
      $("turnout").textContent = "–";
      $("turnout-words").textContent = "";
      $("poll-state").textContent = "";
      t.clear($("poll-extra"));
      $("poll-legend").textContent = "";
      $("side-join").hidden = true;
      return;
    }
    const hidden = v.suppressed === true;
    const chart = hidden ? hiddenChart(v)
      : (window.townhallBudgetScreen && window.townhallBudgetScreen.chart(v)) || plainChart(v, bd);
    charts.setText($("poll-prompt"), t.text(v.poll.prompt));
    $("poll-help").textContent = [phaseWords(v.poll), chart.help].filter(Boolean).join(" · ");
    const open = v.poll.status === "open";
    const rows = chart.rows.slice();
    // A closed poll's result reads best as a ranking; while votes arrive, rows keep still.
    if (!open && !hidden && v.poll.kind !== "scale") rows.sort(function (a, b) { return b.value - a.value; });
    charts.bars(bars, rows, chart.max);
    const top = chart.rows.reduce(function (best, r) { return !best || r.value > best.value ? r : best; }, null);
    if (top && top.value > 0 && v.poll.kind !== "scale" && chart.lead !== false) chart.extra.unshift([open ? tr("In the lead") : tr("On top"), top.label]);
    $("side-join").hidden = !open;
    const turnout = v.result ? v.result.turnout : 0;
    $("turnout").textContent = hidden ? "–" : t.number(turnout);
    $("turnout-words").textContent = hidden
      ? tr("votes hidden, of {total} people in the room", { total: t.number(v.participants) })
      : tr("have voted, of {total} people in the room", { total: t.number(v.participants) });
    countdown(v.poll);
    const extra = $("poll-extra");
    t.clear(extra);
    chart.extra.forEach(function (pair) {
      const p = t.el("p", pair[0] + ": ");
      p.appendChild(t.el("strong", pair[1]));
      extra.appendChild(p);
    });
    $("poll-legend").textContent = chart.legend;
  }

  // The countdown is redrawn every second by screen.js while a timed poll is open.
  function countdown(p) {
    const s = stateWords(p, Date.now());
    const node = $("poll-state");
    node.dataset.state = s.state;
    node.textContent = s.text;
    if (s.left !== undefined) node.dataset.countdown = String(s.left);
    else delete node.dataset.countdown;
  }

  // By group: one demographic question at a time (screen.js turns the page), one
  // column per group; every cell a bar on one shared scale.
  function breakdown(v, bd, page) {
    const box = $("breakdown");
    if (!v || !bd) {
      t.clear(box);
      $("breakdown-help").textContent = v ? tr("Results by group appear once people have voted.") : "";
      return 0;
    }
    const budget = !!v.budget && !!bd.budget;
    const tabs = budget ? bd.budget : bd.crosstabs;
    if (!tabs.length) { t.clear(box); return 0; }
    const ct = tabs[page % tabs.length];
    charts.setText($("breakdown-prompt"), t.text(v.poll.prompt));
    let help = tr("By answer to “{question}”", { question: t.text(ct.prompt) });
    if (tabs.length > 1) help += " (" + tr("{n} of {total}", { n: page % tabs.length + 1, total: tabs.length }) + ")";
    if (!budget && v.poll.kind === "ranking") help += " · " + tr("share of each group who put it first");
    else if (!budget || v.budget.kind !== "allocation") help += " · " + tr("share of each group");
    // Only groups with figures get a column; hidden ones are named in the line above.
    const columns = ct.rows.filter(function (r) { return !r.suppressed && r.participants > 0; }).map(function (r) {
      return { key: r.key, label: t.text(r.label), note: tr("{n} people", { n: t.number(r.participants) }) };
    });
    const hidden = ct.rows.filter(function (r) { return r.suppressed; }).map(function (r) { return t.text(r.label); });
    $("breakdown-help").textContent = help;
    $("breakdown-legend").textContent = tr("Groups of fewer than 10 people are not shown, to keep everyone anonymous.") +
      (hidden.length ? " " + tr("Not shown now: {groups}.", { groups: hidden.join(", ") }) : "");
    const byGroup = {};
    ct.rows.forEach(function (r) { byGroup[r.key] = r; });
    const rows = v.poll.options.map(function (o) { return { key: o.key, label: t.text(o.label) }; });
    charts.grid(box, rows, columns, function (optKey, groupKey) {
      const g = byGroup[groupKey];
      if (!g || !g.result) return null;
      if (budget) return window.townhallBudgetScreen.groupCell(v.budget.kind, v.budget.unit, g.result, optKey);
      const o = g.result.options.find(function (x) { return x.key === optKey; });
      if (!o) return null;
      const turnout = g.result.turnout || 0;
      const pct = v.poll.kind === "ranking" ? (turnout ? 100 * (o.first_preferences || 0) / turnout : 0) : o.percent;
      return { value: pct, text: Math.round(pct) + "%" };
    });
    return tabs.length;
  }

  function themes(list, question) {
    const box = $("themes");
    $("themes-question").textContent = question ? t.text(question.text) : "";
    const shown = list.slice().sort(function (a, b) { return b.size - a.size; }).slice(0, 12);
    const n = shown.length;
    const cols = n <= 4 ? 2 : n <= 9 ? 3 : 4;
    const rows = Math.max(1, Math.ceil(n / cols));
    box.style.setProperty("--cols", String(cols));
    box.style.setProperty("--trows", String(rows));
    box.style.setProperty("--lines", String(rows >= 3 ? 2 : 3));
    const keys = new Set();
    shown.forEach(function (th, i) {
      keys.add(th.key);
      const li = charts.keyed(box, th.key, i, function () { return t.el("li", null, "theme-card"); });
      t.clear(li);
      li.appendChild(t.el("h2", th.label)); // the theme team's words, shown as written
      li.appendChild(t.el("p", th.size === 1 ? tr("1 comment") : tr("{n} comments", { n: t.number(th.size) }), "theme-size"));
      th.quotes.slice(0, rows >= 3 ? 1 : 2).forEach(function (q) {
        const bq = t.el("blockquote");
        bq.appendChild(t.el("span", q.text, "quote")); // the comment as typed; the rule marks it
        li.appendChild(bq);
      });
    });
    charts.prune(box, keys);
    const more = list.length - n;
    $("themes-legend").textContent = n === 0 ? tr("The theme team has not published themes for this question yet.")
      : more > 0 ? tr("{n} more themes are in the report.", { n: more }) : "";
  }

  function pct(x) { return Math.round(x) + "%"; }

  // Who is in the room: per question, a bar per answer for the room, and an orange
  // line at the population's share (census); the answers of small groups stay hidden.
  function demographics(questions) {
    const box = $("demographics");
    const n = Math.max(questions.length, 1);
    box.style.setProperty("--cols", String(n === 4 ? 2 : Math.min(n, 3)));
    // answered is null where it would give a hidden count away: then the largest
    // shown is only a lower bound, and none shown is "too few", never "0 people".
    const shown = questions.filter(function (q) { return q.answered !== null && q.answered !== undefined; });
    const answered = Math.max.apply(null, shown.map(function (q) { return q.answered; }).concat([0]));
    const withheld = shown.length < questions.length;
    $("demographics-help").textContent = !withheld ? tr("{n} people told us about themselves.", { n: t.number(answered) })
      : answered > 0 ? tr("At least {n} people told us about themselves.", { n: t.number(answered) })
        : tr("Too few people have answered yet to show how many.");
    const keys = new Set();
    questions.forEach(function (q, i) {
      keys.add(q.key);
      const sec = charts.keyed(box, q.key, i, function () {
        const sec = t.el("section", null, "demo-q");
        sec.appendChild(t.el("h2"));
        sec.appendChild(t.el("p", null, "match"));
        sec.appendChild(t.el("ol", null, "chart chart-narrow"));
        return sec;
      });
      charts.setText(sec.querySelector("h2"), t.text(q.prompt));
      const match = sec.querySelector(".match");
      t.clear(match);
      if (q.representativeness !== null && q.representativeness !== undefined) {
        match.appendChild(document.createTextNode(tr("Room and population alike:") + " "));
        match.appendChild(t.el("strong", pct(100 * q.representativeness)));
      }
      // A null count is a suppressed group: under 10 people, or a bigger one hidden
      // as its partner (docs/protocol.md), so it reads "hidden", never a size. Without
      // census shares (room_shares null) a shown answer gives its head count; a shown
      // answer has no share only while nobody has answered the question (0%).
      const rows = q.options.map(function (o) {
        const census = o.census === null ? undefined : 100 * o.census;
        const row = { key: o.key, label: t.text(o.label), value: null, text: tr("hidden"),
          note: census === undefined ? "" : tr("census {pct}", { pct: pct(census) }), marker: census };
        if (o.count === null) return row;
        if (!q.room_shares) return Object.assign(row, { value: o.count, text: t.number(o.count) });
        const share = q.room_shares[o.key] || 0;
        return Object.assign(row, { value: 100 * share, text: pct(100 * share) });
      });
      const max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.value || 0, r.marker || 0); }).concat([0]));
      charts.bars(sec.querySelector(".chart"), rows, max);
    });
    charts.prune(box, keys);
  }

  return { poll: poll, countdown: countdown, breakdown: breakdown, themes: themes, demographics: demographics };
})();
