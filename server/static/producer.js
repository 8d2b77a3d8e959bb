"use strict";
// Producer console: move the agenda, open and close polls, choose what the screens show.
(function () {
  const t = window.townhall;
  const token = document.body.dataset.token;
  const status = document.getElementById("status");
  let event = null;
  let comments = 0;
  let published = [];  // every published theme of the event
  const turnout = {};  // poll id -> votes so far
  let summary = null;  // the evaluation survey's summary, or null without a survey
  const fromThemesInput = {};  // question id -> {kind, max}: survives re-rendering
  const conn = t.connect("producer", token, function (msg) {
    if (msg.type === "hello") {
      event = msg.event;
      comments = msg.comments.length;
      published = (msg.themes || []).filter(function (th) { return th.published; });
      (msg.tallies || []).forEach(function (tl) { turnout[tl.poll.id] = tl.result.turnout; });
      summary = msg.evaluation_summary || null;
      render();
      renderSummary();
    } else if (msg.type === "poll") {
      if (event.polls.some(function (p) { return p.id === msg.poll.id; })) {
        event.polls = event.polls.map(function (p) { return p.id === msg.poll.id ? msg.poll : p; });
      } else {
        event.polls.push(msg.poll);  // a new draft, e.g. made from published themes
      }
      render();
    } else if (msg.type === "published") {
      published = msg.themes || [];
      render();
    } else if (msg.type === "evaluation_summary") {
      summary = msg.summary;
      renderSummary();
    } else if (msg.type === "question") {
      event.current_question = msg.question;
      render();
    } else if (msg.type === "screen_changed") {
      event.screen_mode = msg.mode;
      render();
    } else if (msg.type === "comment") {
      comments += 1;
      document.getElementById("comment-count").textContent = String(comments);
    } else if (msg.type === "tally") {
      turnout[msg.poll.id] = msg.result.turnout;
      const li = document.querySelector('[data-poll="' + msg.poll.id + '"] .turnout');
      if (li) li.textContent = turnoutText(msg.poll.id);
    }
  });

  async function act(msg, done) {
    status.textContent = "…";
    try { await conn.send(msg); status.textContent = done; }
    catch (e) { status.textContent = "Refused: " + (e.message || e.code); }
  }

  function turnoutText(pollId) {
    return turnout[pollId] === undefined ? "" : " " + turnout[pollId] + " votes";
  }

  function publishedCount(questionId) {
    return published.filter(function (th) { return th.question_id === questionId; }).length;
  }

  function fromThemesItem(q) {
    const li = t.el("li", q.text + " (" + publishedCount(q.id) + " published themes) ");
    li.dataset.question = String(q.id);
    const kindId = "ft-kind-" + q.id;
    const maxId = "ft-max-" + q.id;
    const kindLabel = t.el("label", "Kind ");
    kindLabel.htmlFor = kindId;
    const kind = t.el("select", "", "ft-kind");
    kind.id = kindId;
    [["multi", "pick several"], ["ranking", "rank them"]].forEach(function (o) {
      const opt = t.el("option", o[1]);
      opt.value = o[0];
      kind.appendChild(opt);
    });
    const maxLabel = t.el("label", " Most choices ");
    maxLabel.htmlFor = maxId;
    const max = t.el("input", "", "ft-max");
    max.id = maxId;
    max.type = "number";
    max.min = "1";
    max.placeholder = "3";
    const kept = fromThemesInput[q.id] || { kind: "multi", max: "" };
    kind.value = kept.kind;
    max.value = kept.max;
    max.disabled = kind.value !== "multi";
    function keep() { fromThemesInput[q.id] = { kind: kind.value, max: max.value }; }
    kind.addEventListener("change", function () { max.disabled = kind.value !== "multi"; keep(); });
    max.addEventListener("input", keep);
    const make = t.el("button", "Make a poll from published themes", "ft-make");
    make.type = "button";
    make.dataset.focus = "ft-make-" + q.id;
    make.setAttribute("aria-label", "Make a poll from published themes: " + q.text);
    make.addEventListener("click", async function () {
      const msg = { type: "poll_from_themes", question_id: q.id, kind: kind.value };
      if (kind.value === "multi" && max.value) msg.max_choices = Number(max.value);
      status.textContent = "…";
      try {
        const ack = await conn.send(msg);
        status.textContent = "Draft poll " + ack.poll_id + " made from the published themes; open it from the poll list.";
      } catch (e) { status.textContent = "Refused: " + (e.message || e.code); }
    });
    [kindLabel, kind, maxLabel, max, make].forEach(function (n) { li.appendChild(n); });
    return li;
  }

  function renderSummary() {
    const st = document.getElementById("evaluation-status");
    const openB = document.getElementById("evaluation-open");
    const closeB = document.getElementById("evaluation-close");
    const body = document.querySelector("#evaluation-questions tbody");
    const flagged = document.getElementById("evaluation-flagged");
    const flaggedList = document.getElementById("evaluation-flagged-tables");
    t.clear(body);
    t.clear(flaggedList);
    if (!summary) {
      st.textContent = "not set up for this event";
      openB.disabled = true;
      closeB.disabled = true;
      return;
    }
    st.textContent = summary.status;
    const focused = document.activeElement;
    openB.disabled = summary.status === "open";
    closeB.disabled = summary.status !== "open";
    // The button just pressed is now disabled and would drop the focus: hand it to the other.
    if ((focused === openB || focused === closeB) && focused.disabled) (openB.disabled ? closeB : openB).focus();
    document.getElementById("evaluation-respondents").textContent = String(summary.respondents);
    (summary.questions || []).forEach(function (q) {
      const tr = t.el("tr");
      tr.dataset.key = q.key;
      const th = t.el("th", q.text);
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(t.el("td", String(q.answered)));
      tr.appendChild(t.el("td", q.mean === null || q.mean === undefined ? "–" : q.mean.toFixed(2)));
      body.appendChild(tr);
    });
    const syn = summary.synthesis;
    if (!syn || !syn.flagged || syn.flagged.length === 0) {
      flagged.textContent = "No table flagged.";
      return;
    }
    flagged.textContent = syn.flagged.length + " table(s) flagged: they say the themes did not reflect their views (mean " +
      syn.flag_mean + " or lower, from " + syn.min_answers + " answers).";
    const byTable = {};
    (syn.tables || []).forEach(function (row) { byTable[row.table] = row; });
    syn.flagged.forEach(function (n) {
      const row = byTable[n];
      const detail = row && row.mean !== null && row.mean !== undefined
        ? " — mean " + row.mean.toFixed(2) + " from " + row.answered + " answers" : "";
      const li = t.el("li", "Table " + n + detail);
      li.dataset.table = String(n);
      flaggedList.appendChild(li);
    });
  }

  // render() rebuilds the lists on every change: put the focus back on the control
  // that had it (by its data-focus or id), so a keyboard user is not sent to the top.
  function focusKey() {
    const a = document.activeElement;
    if (!a || !a.closest("#agenda, #polls, #from-themes")) return null;
    return a.dataset.focus ? '[data-focus="' + a.dataset.focus + '"]' : (a.id ? "#" + a.id : null);
  }

  function render() {
    const refocus = focusKey();
    draw();
    const again = refocus && document.querySelector(refocus);
    if (again) again.focus();
  }

  function draw() {
    document.getElementById("event-title").textContent = event.title;
    document.getElementById("screen-mode").textContent = event.screen_mode;
    document.getElementById("comment-count").textContent = String(comments);
    const agenda = document.getElementById("agenda");
    t.clear(agenda);
    event.rounds.forEach(function (r) {
      const li = t.el("li", r.title);
      const ul = t.el("ul");
      r.questions.forEach(function (q) {
        const qi = t.el("li", q.text + " ");
        const current = event.current_question && event.current_question.id === q.id;
        const b = t.el("button", current ? "Current" : "Make current");
        b.type = "button";
        b.dataset.focus = "question-" + q.id;
        // aria-disabled, not disabled: the button keeps the focus it had when pressed.
        b.setAttribute("aria-disabled", String(!!current));
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
    const polls = document.getElementById("polls");
    t.clear(polls);
    event.polls.forEach(function (p) {
      const li = t.el("li", p.prompt + " [" + p.kind + ", " + p.status + "] ");
      li.dataset.poll = String(p.id);
      const open = t.el("button", p.status === "open" ? "Close" : "Open");
      open.type = "button";
      open.dataset.focus = "poll-" + p.id;
      open.setAttribute("aria-label", (p.status === "open" ? "Close" : "Open") + " poll: " + p.prompt);
      open.addEventListener("click", function () {
        if (p.status === "open") act({ type: "close_poll", poll_id: p.id }, "Poll closed.");
        else {
          const secs = Number(document.getElementById("timer").value) || null;
          act({ type: "open_poll", poll_id: p.id, seconds: secs }, "Poll open on every phone.");
        }
      });
      li.appendChild(open);
      li.appendChild(t.el("span", turnoutText(p.id), "turnout"));
      polls.appendChild(li);
    });
    const fromThemes = document.getElementById("from-themes");
    t.clear(fromThemes);
    event.rounds.forEach(function (r) {
      r.questions.forEach(function (q) { fromThemes.appendChild(fromThemesItem(q)); });
    });
    document.querySelectorAll("#screen-modes button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.mode === event.screen_mode));
    });
  }

  // Links: re-issue or revoke a role's link (the server closes the old one's sockets).
  function linkTarget(kind) {
    const role = document.getElementById("link-role").value;
    const msg = { type: kind, role: role };
    if (role === "table") msg.table = Number(document.getElementById("link-table").value);
    return msg;
  }
  document.getElementById("link-reissue").addEventListener("click", async function () {
    status.textContent = "…";
    try {
      const ack = await conn.send(linkTarget("reissue_token"));
      document.getElementById("link-new").textContent = ack.link;
      status.textContent = "New link issued; " + ack.revoked + " old link(s) stopped working.";
    } catch (e) { status.textContent = "Refused: " + (e.message || e.code); }
  });
  document.getElementById("link-revoke").addEventListener("click", function () {
    act(linkTarget("revoke_token"), "Link revoked; anyone using it was disconnected.");
  });

  document.getElementById("evaluation-open").addEventListener("click", function () {
    act({ type: "open_evaluation" }, "Evaluation survey open on every phone.");
  });
  document.getElementById("evaluation-close").addEventListener("click", function () {
    act({ type: "close_evaluation" }, "Evaluation survey closed.");
  });

  document.querySelectorAll("#screen-modes button").forEach(function (b) {
    b.addEventListener("click", function () { act({ type: "screen", mode: b.dataset.mode }, "Screens updated."); });
  });
})();
