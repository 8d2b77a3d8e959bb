"use strict";
// Producer console: move the agenda, open and close polls, choose what the screens show.
(function () {
  const t = window.townhall;
  const token = document.body.dataset.token;
  const status = document.getElementById("status");
  let event = null;
  let comments = 0;
  const conn = t.connect("producer", token, function (msg) {
    if (msg.type === "hello") {
      event = msg.event;
      comments = msg.comments.length;
      render();
    } else if (msg.type === "poll") {
      event.polls = event.polls.map(function (p) { return p.id === msg.poll.id ? msg.poll : p; });
      render();
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
      const li = document.querySelector('[data-poll="' + msg.poll.id + '"] .turnout');
      if (li) li.textContent = msg.result.turnout + " votes";
    }
  });

  async function act(msg, done) {
    status.textContent = "…";
    try { await conn.send(msg); status.textContent = done; }
    catch (e) { status.textContent = "Refused: " + (e.message || e.code); }
  }

  function render() {
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
        b.disabled = current;
        b.addEventListener("click", function () { act({ type: "set_question", question_id: q.id }, "Question sent to every table."); });
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
      open.addEventListener("click", function () {
        if (p.status === "open") act({ type: "close_poll", poll_id: p.id }, "Poll closed.");
        else {
          const secs = Number(document.getElementById("timer").value) || null;
          act({ type: "open_poll", poll_id: p.id, seconds: secs }, "Poll open on every phone.");
        }
      });
      li.appendChild(open);
      li.appendChild(t.el("span", "", "turnout"));
      polls.appendChild(li);
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

  document.querySelectorAll("#screen-modes button").forEach(function (b) {
    b.addEventListener("click", function () { act({ type: "screen", mode: b.dataset.mode }, "Screens updated."); });
  });
})();
