"use strict";
// Producer console: what the big screens show (and whether they follow the room by
// themselves), the polls, and the question the tables discuss. Secondary tools
// (polls from themes, the evaluation survey, links) are in producer_extras.js.
(function () {
  const t = window.townhall;
  const token = document.body.dataset.token;
  const status = document.getElementById("status");
  const AUTOPILOT = "autopilot"; // the label of the demo's simulated producer (server/demo.py)
  const MODE_NAMES = { poll: "Poll results", breakdown: "Results by group", themes: "Themes",
    demographics: "Who is in the room", join: "Join QR code" };
  const KIND_NAMES = { single: "pick one", ranking: "ranking", scale: "1–5 scale", allocation: "spread a budget",
    projects: "fund projects", tradeoff: "close a budget gap" };
  const STATUS_NAMES = { draft: "not opened yet", open: "open", closed: "closed" };
  let event = null;
  let comments = 0;
  let published = []; // every published theme of the event
  const turnout = {}; // poll id -> votes so far
  let actedHere = false;

  function say(text) { status.textContent = text; }

  async function act(msg, done) {
    say("…");
    actedHere = true;
    try { await conn.send(msg); say(done); } catch (e) { say("Refused: " + (e.message || e.code)); }
  }

  const extras = window.townhallProducerExtras({ send: function (m) { actedHere = true; return conn.send(m); }, say: say, act: act });

  const conn = t.connect("producer", token, function (msg) {
    extras.onMessage(msg);
    autopilot(msg);
    if (msg.type === "hello") {
      event = msg.event;
      comments = msg.comments.length;
      published = (msg.themes || []).filter(function (th) { return th.published; });
      (msg.tallies || []).forEach(function (tl) { turnout[tl.poll.id] = tl.result.turnout; });
      render();
    } else if (msg.type === "poll") {
      if (event.polls.some(function (p) { return p.id === msg.poll.id; })) {
        event.polls = event.polls.map(function (p) { return p.id === msg.poll.id ? msg.poll : p; });
      } else {
        event.polls.push(msg.poll); // a new draft, e.g. made from published themes
      }
      render();
    } else if (msg.type === "published") {
      published = msg.themes || [];
      render();
    } else if (msg.type === "question") {
      event.current_question = msg.question;
      render();
    } else if (msg.type === "screen_changed") {
      event.screen = msg;
      event.screen_mode = msg.mode;
      render();
    } else if (msg.type === "comment") {
      comments += 1;
      document.getElementById("comment-count").textContent = String(comments);
    } else if (msg.type === "tally") {
      turnout[msg.poll.id] = msg.result.turnout;
      const span = document.querySelector('[data-poll="' + msg.poll.id + '"] .turnout');
      if (span) span.textContent = turnoutText(msg.poll.id);
    }
  });

  // The demo's simulated producer says who it is on every change it makes; it stops
  // for good once anyone else acts in a console (server/demo.py).
  function autopilot(msg) {
    if (!msg.by) return;
    const note = document.getElementById("autopilot");
    if (msg.by === AUTOPILOT && !actedHere) {
      note.hidden = false;
      note.textContent = "Demo: a simulated producer (autopilot) is running the agenda. It stops for good as soon as you press anything here.";
    } else if (msg.by !== AUTOPILOT && !note.hidden) {
      note.textContent = "You have the controls: the autopilot has stopped.";
    }
  }

  function turnoutText(pollId) {
    const n = turnout[pollId];
    return n === undefined ? "" : n === 1 ? "1 vote" : n + " votes";
  }

  function kindName(p) {
    if (p.kind === "multi") return "pick up to " + p.max_choices;
    return KIND_NAMES[p.kind] || p.kind;
  }

  function phaseName(p) {
    if (p.phase === "before") return "asked at the start";
    if (p.phase === "after") return "asked again at the end";
    return "";
  }

  function questionText(id) {
    for (const r of event.rounds) for (const q of r.questions) if (q.id === id) return q.text;
    return "";
  }

  function pollPrompt(id) {
    const p = event.polls.find(function (x) { return x.id === id; });
    return p ? p.prompt : "";
  }

  // render() rebuilds the lists on every change: put the focus back on the control
  // that had it (by its data-focus or id), so a keyboard user is not sent to the top.
  function focusKey() {
    const a = document.activeElement;
    if (!a || !a.closest("#agenda, #polls, #from-themes, #screen-modes, .follow")) return null;
    return a.dataset.focus ? '[data-focus="' + a.dataset.focus + '"]' : (a.id ? "#" + a.id : null);
  }

  function render() {
    const refocus = focusKey();
    document.getElementById("event-title").textContent = event.title;
    document.getElementById("comment-count").textContent = String(comments);
    renderScreen();
    renderAgenda();
    renderPolls();
    extras.renderFromThemes(event, published);
    const again = refocus && document.querySelector(refocus);
    if (again) again.focus();
  }

  function renderScreen() {
    const screen = event.screen || { mode: event.screen_mode, follow: true };
    let now = MODE_NAMES[screen.mode] || screen.mode;
    if ((screen.mode === "poll" || screen.mode === "breakdown") && screen.poll_id) now += ": " + pollPrompt(screen.poll_id);
    if (screen.mode === "themes" && screen.question_id) now += ": " + questionText(screen.question_id);
    document.getElementById("screen-mode").textContent = now;
    document.querySelectorAll("#screen-modes button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.mode === screen.mode));
    });
    document.getElementById("follow-auto").checked = screen.follow !== false;
    document.getElementById("follow-pinned").checked = screen.follow === false;
  }

  function renderAgenda() {
    const agenda = document.getElementById("agenda");
    t.clear(agenda);
    event.rounds.forEach(function (r) {
      const li = t.el("li", null, "round");
      li.appendChild(t.el("span", r.title, "round-title"));
      const ul = t.el("ul");
      r.questions.forEach(function (q) {
        const current = !!event.current_question && event.current_question.id === q.id;
        const qi = t.el("li", null, current ? "question is-current" : "question");
        qi.appendChild(t.el("span", q.text, "question-text"));
        const b = t.el("button", current ? "Current" : "Make current", "quiet");
        b.type = "button";
        b.dataset.focus = "question-" + q.id;
        // aria-disabled, not disabled: the button keeps the focus it had when pressed.
        b.setAttribute("aria-disabled", String(current));
        b.setAttribute("aria-label", (current ? "Current question: " : "Make current: ") + q.text);
        b.addEventListener("click", function () {
          if (current) return;
          act({ type: "set_question", question_id: q.id }, "Question sent to every table.");
        });
        qi.appendChild(b);
        ul.appendChild(qi);
      });
      li.appendChild(ul);
      agenda.appendChild(li);
    });
  }

  function renderPolls() {
    const polls = document.getElementById("polls");
    const screen = event.screen || {};
    t.clear(polls);
    event.polls.forEach(function (p) {
      const li = t.el("li", null, "poll-row");
      li.dataset.poll = String(p.id);
      li.dataset.status = p.status;
      li.appendChild(t.el("span", STATUS_NAMES[p.status] || p.status, "chip chip-" + p.status));
      const what = t.el("span", null, "poll-what");
      what.appendChild(t.el("span", p.prompt, "poll-prompt"));
      const phase = phaseName(p);
      if (phase) what.appendChild(t.el("span", phase, "phase phase-" + p.phase));
      what.appendChild(t.el("span", kindName(p), "poll-kind"));
      li.appendChild(what);
      li.appendChild(t.el("span", turnoutText(p.id), "turnout"));
      const verb = p.status === "open" ? "Close" : p.status === "closed" ? "Reopen" : "Open";
      const toggle = t.el("button", verb, p.status === "open" ? "close" : "open");
      toggle.type = "button";
      toggle.dataset.focus = "poll-" + p.id;
      toggle.setAttribute("aria-label", verb + " poll: " + p.prompt);
      toggle.addEventListener("click", function () {
        if (p.status === "open") act({ type: "close_poll", poll_id: p.id }, "Poll closed.");
        else {
          const secs = Number(document.getElementById("timer").value) || null;
          act({ type: "open_poll", poll_id: p.id, seconds: secs }, "Poll open on every phone.");
        }
      });
      li.appendChild(toggle);
      const onScreen = screen.mode === "poll" && screen.poll_id === p.id;
      const show = t.el("button", onScreen ? "On screen" : "Show", "quiet");
      show.type = "button";
      show.dataset.focus = "show-" + p.id;
      show.setAttribute("aria-label", "Show on the big screens: " + p.prompt);
      show.setAttribute("aria-pressed", String(onScreen));
      show.disabled = p.status === "draft";
      show.addEventListener("click", function () {
        act({ type: "screen", mode: "poll", poll_id: p.id }, "Screens updated.");
      });
      li.appendChild(show);
      polls.appendChild(li);
    });
  }

  document.querySelectorAll("#screen-modes button").forEach(function (b) {
    b.addEventListener("click", function () { act({ type: "screen", mode: b.dataset.mode }, "Screens updated."); });
  });
  document.querySelectorAll(".follow input").forEach(function (input) {
    input.addEventListener("change", function () {
      const follow = input.value === "auto";
      act({ type: "screen_follow", follow: follow }, follow
        ? "The screens follow the room again." : "The screens are pinned: only your buttons change them.");
    });
  });
})();
