"use strict";
// The big screen: live bars with counts and percentages, turnout, a closing
// countdown, published themes with quotes, the room vs census, join QR.
(function () {
  const t = window.townhall;
  const tr = t.tr;
  const token = document.body.dataset.token;
  const tallies = new Map();
  const breakdowns = new Map();
  let event = null;
  let mode = "poll";
  let themes = [];
  let countdown = null;
  let site = null;
  let demographics = [];
  // Several languages and no ?lang= on the link: the screen takes turns (common.js).
  t.alternate(function () { if (event) render(); });

  t.connect("display", token, function (msg) {
    if (msg.type === "hello") {
      event = msg.event;
      mode = event.screen_mode;
      document.getElementById("event-code").textContent = event.code;
      document.getElementById("join-url").textContent = location.host + "/join";
      site = msg.site || null;
      if (msg.site) {
        // A site's own screen: its figures, and a QR code that joins phones to this site.
        document.getElementById("join-url").textContent = location.host + "/j/" + event.code + "?site=" + msg.site.key;
        document.querySelector("img.qr").src = "/join-qr.svg?site=" + encodeURIComponent(msg.site.key);
      }
      msg.tallies.forEach(function (v) { tallies.set(v.poll.id, v); });
      themes = msg.themes;
      (msg.breakdowns || []).forEach(function (b) { breakdowns.set(b.poll_id, b); });
      document.getElementById("hub").hidden = msg.hub_healthy !== false;
      demographics = msg.demographics;
    } else if (msg.type === "hub") {
      document.getElementById("hub").hidden = msg.healthy;
    } else if (msg.type === "breakdown") {
      breakdowns.set(msg.poll_id, msg);
    } else if (msg.type === "tally") {
      tallies.set(msg.poll.id, msg);
    } else if (msg.type === "poll") {
      const known = tallies.get(msg.poll.id);
      tallies.set(msg.poll.id, { poll: msg.poll, result: known ? known.result : null, participants: known ? known.participants : 0 });
    } else if (msg.type === "screen_changed") {
      mode = msg.mode;
    } else if (msg.type === "published") {
      themes = msg.themes;
    } else if (msg.type === "demographics") {
      demographics = msg.questions;
    }
    if (window.townhallShift) window.townhallShift.onMessage(msg); // polls asked twice
    render();
  });

  function currentTally() {
    let best = null;
    tallies.forEach(function (v) {
      if (v.poll.status === "open") best = v;
      else if (!best || (best.poll.status !== "open" && v.poll.id > best.poll.id)) best = best || v;
    });
    return best;
  }

  function render() {
    if (!event) return;
    document.getElementById("event-title").textContent =
      t.text(event.title) + (site ? " — " + t.text(site.name) : "");
    renderDemographics(demographics);
    ["poll", "breakdown", "themes", "demographics", "join"].forEach(function (m) {
      document.getElementById("view-" + m).hidden = m !== mode;
    });
    const current = currentTally();
    renderPoll(current);
    renderBreakdown(current);
    if (window.townhallShift) window.townhallShift.render(current && current.poll);
    renderThemes();
  }

  function renderPoll(v) {
    const bars = document.getElementById("bars");
    const meta = document.getElementById("poll-meta");
    t.clear(bars);
    if (!v) return;
    document.getElementById("poll-prompt").textContent = t.text(v.poll.prompt);
    const r = v.result;
    const turnout = r ? r.turnout : 0;
    meta.textContent = tr("{n} voted of {total} in the room", { n: turnout, total: v.participants }) +
      (v.poll.status === "closed" ? " · " + tr("closed") : "");
    if (countdown) clearInterval(countdown);
    if (v.poll.status === "open" && v.poll.closes_at) {
      const end = Date.parse(v.poll.closes_at);
      countdown = setInterval(function () {
        const left = Math.max(0, Math.round((end - Date.now()) / 1000));
        meta.dataset.countdown = String(left);
        meta.textContent = tr("{n} voted · closes in {s} s", { n: turnout, s: left });
      }, 1000);
    }
    if (!r) return;
    if (window.townhallBudgetScreen && window.townhallBudgetScreen.handles(v)) {
      window.townhallBudgetScreen.render(v, bars, meta); // display/static/budget_screen.js
      return;
    }
    const bd = breakdowns.get(v.poll.id);
    const weighted = {};
    if (bd && bd.weighted) {
      bd.weighted.options.forEach(function (o) { weighted[o.key] = o.weighted_percent; });
      meta.textContent += " · " + tr("census-weighted figures use an effective sample of {n}",
        { n: Math.round(bd.weighted.effective_sample_size) });
    }
    r.options.forEach(function (o) {
      const li = t.el("li", null, "bar");
      li.dataset.key = o.key;
      li.appendChild(t.el("span", t.text(o.label), "bar-label"));
      const track = t.el("span", null, "bar-track");
      const fill = t.el("span", null, "bar-fill");
      const pct = o.percent || 0;
      fill.style.width = Math.max(0, Math.min(100, pct)) + "%";
      track.appendChild(fill);
      li.appendChild(track);
      let score = v.poll.kind === "ranking" ? tr("{points} pts · {first} first", { points: o.borda, first: o.first_preferences }) : o.count + " · " + Math.round(pct) + "%";
      if (weighted[o.key] !== undefined && v.poll.kind !== "ranking") {
        score += " (" + tr("weighted {pct}%", { pct: Math.round(weighted[o.key]) }) + ")";
      }
      li.appendChild(t.el("span", score, "bar-value"));
      bars.appendChild(li);
    });
  }

  // One table per demographic question: a row per group, a column per option,
  // percentages as text; suppressed groups say so instead of showing numbers.
  function renderBreakdown(v) {
    const box = document.getElementById("breakdown");
    t.clear(box);
    if (!v) return;
    document.getElementById("breakdown-prompt").textContent = t.text(v.poll.prompt) + " — " + tr("by group");
    const bd = breakdowns.get(v.poll.id);
    if (!bd) return;
    bd.crosstabs.forEach(function (ct) {
      const table = t.el("table", null, "crosstab");
      table.appendChild(t.el("caption", t.text(ct.prompt)));
      const head = t.el("tr");
      head.appendChild(t.el("th", tr("Group")));
      v.poll.options.forEach(function (o) { head.appendChild(t.el("th", t.text(o.label))); });
      const thead = t.el("thead");
      thead.appendChild(head);
      table.appendChild(thead);
      const body = t.el("tbody");
      ct.rows.forEach(function (row) {
        const line = t.el("tr");
        const th = t.el("th", t.text(row.label) + (row.suppressed ? "" : " (" + row.participants + ")"));
        th.scope = "row";
        line.appendChild(th);
        v.poll.options.forEach(function (o) {
          let text = "—";
          if (row.suppressed) text = tr("fewer than 10");
          else if (row.result) {
            const opt = row.result.options.find(function (x) { return x.key === o.key; });
            text = opt ? Math.round(opt.percent) + "%" : "—";
          }
          line.appendChild(t.el("td", text));
        });
        body.appendChild(line);
      });
      table.appendChild(body);
      box.appendChild(table);
    });
  }

  function renderThemes() {
    const list = document.getElementById("themes");
    t.clear(list);
    themes.forEach(function (th) {
      const li = t.el("li", null, "theme");
      li.appendChild(t.el("h2", th.label + " (" + th.size + ")"));
      th.quotes.forEach(function (q) { li.appendChild(t.el("blockquote", q.text)); });
      list.appendChild(li);
    });
  }

  function renderDemographics(questions) {
    const box = document.getElementById("demographics");
    t.clear(box);
    questions.forEach(function (q) {
      const sec = t.el("section");
      const rep = q.representativeness === null || q.representativeness === undefined ? "—" : Math.round(q.representativeness * 100) + "%";
      sec.appendChild(t.el("h2", t.text(q.prompt) + " · " + tr("match with census {pct}", { pct: rep })));
      const ul = t.el("ul", null, "demo");
      q.options.forEach(function (o) {
        const room = q.room_shares && q.room_shares[o.key] !== undefined ? Math.round(q.room_shares[o.key] * 100) + "%" : "—";
        const census = o.census === null ? "—" : Math.round(o.census * 100) + "%";
        ul.appendChild(t.el("li", t.text(o.label) + ": " + tr("room {room} · census {census}",
          { room: o.count === null ? tr("fewer than 10") : room, census: census })));
      });
      sec.appendChild(ul);
      box.appendChild(sec);
    });
  }
})();
