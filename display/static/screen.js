"use strict";
// The big screen: keeps the room's state from the display websocket and shows the
// view the producer chose (or the room brought up: a poll opened or closed, themes
// published). Views are drawn by screen_views.js; figures animate as they change.
(function () {
  const t = window.townhall;
  const views = window.townhallViews;
  const charts = window.townhallCharts;
  const token = document.body.dataset.token;
  const MODES = ["poll", "breakdown", "themes", "demographics", "join"];
  const params = new URLSearchParams(location.search);
  // Results by group show one demographic question at a time, turning the page.
  const PAGE_SECONDS = Math.max(3, Number(params.get("pages")) || 12);
  const state = {
    event: null, site: null, screen: { mode: "join", poll_id: null, question_id: null },
    tallies: new Map(), breakdowns: new Map(), themes: [], demographics: [], page: 0,
  };
  t.alternate(function () { render(); });

  t.connect("display", token, function (msg) {
    receive(msg);
    if (window.townhallShift) window.townhallShift.onMessage(msg); // polls asked twice
    render();
  });

  function receive(msg) {
    if (msg.type === "hello") {
      state.event = msg.event;
      state.screen = msg.event.screen || { mode: msg.event.screen_mode };
      state.site = msg.site || null;
      state.tallies.clear();
      msg.tallies.forEach(function (v) { state.tallies.set(v.poll.id, v); });
      state.breakdowns.clear();
      (msg.breakdowns || []).forEach(function (b) { state.breakdowns.set(b.poll_id, b); });
      state.themes = msg.themes;
      state.demographics = msg.demographics;
      document.getElementById("hub").hidden = msg.hub_healthy !== false;
      showJoin();
    } else if (msg.type === "hub") {
      document.getElementById("hub").hidden = msg.healthy;
    } else if (msg.type === "breakdown") {
      state.breakdowns.set(msg.poll_id, msg);
    } else if (msg.type === "tally") {
      state.tallies.set(msg.poll.id, msg);
    } else if (msg.type === "poll") {
      const known = state.tallies.get(msg.poll.id);
      state.tallies.set(msg.poll.id, Object.assign({ result: null, participants: 0 }, known || {}, { poll: msg.poll }));
    } else if (msg.type === "screen_changed") {
      if (msg.mode !== state.screen.mode) state.page = 0;
      state.screen = msg;
    } else if (msg.type === "published") {
      state.themes = msg.themes;
    } else if (msg.type === "demographics") {
      state.demographics = msg.questions;
    }
  }

  // The join address phones use (the server's public address, else this page's own).
  function showJoin() {
    const ev = state.event;
    let url = document.body.dataset.join || (location.origin + "/j/" + ev.code);
    let qr = "/join-qr.svg";
    if (state.site) { // a site's own screen: phones that scan it join this site
      url += "?site=" + encodeURIComponent(state.site.key);
      qr += "?site=" + encodeURIComponent(state.site.key);
    }
    document.querySelectorAll(".join-url").forEach(function (n) { n.textContent = url.replace(/^https?:\/\//, ""); });
    document.querySelectorAll(".event-code").forEach(function (n) { n.textContent = ev.code; });
    document.querySelectorAll("img.qr").forEach(function (img) { if (img.getAttribute("src") !== qr) img.src = qr; });
  }

  // The poll on screen: the one the producer named, else the open one, else the last closed.
  function shownTally() {
    const named = state.screen.poll_id !== null && state.screen.poll_id !== undefined ? state.tallies.get(state.screen.poll_id) : null;
    if (named) return named;
    let open = null;
    let last = null;
    state.tallies.forEach(function (v) {
      if (v.poll.status === "open") open = v;
      else if (v.poll.status === "closed" && (!last || (v.poll.closes_at || "") > (last.poll.closes_at || ""))) last = v;
    });
    return open || last;
  }

  function question(id) {
    for (const r of state.event.rounds) {
      for (const q of r.questions) { if (q.id === id) return q; }
    }
    return null;
  }

  // The themes wall: the named question's published themes, else the current question's,
  // else every published theme.
  function shownThemes() {
    const ids = [state.screen.question_id, state.event.current_question && state.event.current_question.id];
    for (const id of ids) {
      if (id === null || id === undefined) continue;
      const mine = state.themes.filter(function (th) { return th.question_id === id; });
      if (mine.length) return { list: mine, question: question(id) };
    }
    return { list: state.themes, question: null };
  }

  function render() {
    if (!state.event) return;
    document.getElementById("event-title").textContent =
      t.text(state.event.title) + (state.site ? " — " + t.text(state.site.name) : "");
    let mode = MODES.indexOf(state.screen.mode) >= 0 ? state.screen.mode : "poll";
    const v = shownTally();
    if (mode === "poll" && !v) mode = "join"; // nothing to show yet: help people join
    MODES.forEach(function (m) { document.getElementById("view-" + m).hidden = m !== mode; });
    document.body.dataset.view = mode; // what is on screen (tests and screenshots wait for it)
    const bd = v ? state.breakdowns.get(v.poll.id) : null;
    if (mode === "poll") {
      views.poll(v, bd);
      if (window.townhallShift) window.townhallShift.render(v && v.poll);
    } else if (mode === "breakdown") {
      views.breakdown(v, bd, state.page);
    } else if (mode === "themes") {
      const shown = shownThemes();
      views.themes(shown.list, shown.question);
    } else if (mode === "demographics") {
      views.demographics(state.demographics);
    }
    fit();
  }

  // Long prompts and labels (two languages, twelve options) shrink until they fit.
  function fit() {
    const view = document.querySelector(".view:not([hidden])");
    if (!view) return;
    charts.fitAll(view, "h1, .view-sub, .bar-label, .theme-card h2, .demo-q h2", 0.55);
    charts.fitAll(document, ".screen-title", 0.7);
  }

  setInterval(function () {
    if (!state.event || state.screen.mode !== "poll") return;
    const v = shownTally();
    if (v && v.poll.status === "open" && v.poll.closes_at) views.countdown(v.poll);
  }, 1000);

  setInterval(function () {
    if (!state.event || state.screen.mode !== "breakdown") return;
    state.page += 1;
    render();
  }, PAGE_SECONDS * 1000);
})();
