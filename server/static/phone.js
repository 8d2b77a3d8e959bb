"use strict";
(function () {
  const t = window.townhall;
  const tr = t.tr;
  const token = localStorage.getItem("townhall.participant");
  if (!token) { location.href = "/join"; return; }
  const demoSection = document.getElementById("demographics");
  const demoForm = document.getElementById("demo-form");
  const keypad = document.getElementById("keypad");
  const voteForm = document.getElementById("vote-form");
  const status = document.getElementById("vote-status");
  let poll = null;
  let seq = Number(localStorage.getItem("townhall.seq") || "0");
  let demographicsDone = localStorage.getItem("townhall.demo-done") === "1";

  function nextSeq() {
    seq = Math.max(seq, Date.now()); // monotonic across reloads and devices' restarts
    seq += 1;
    localStorage.setItem("townhall.seq", String(seq));
    return seq;
  }

  const conn = t.connect("phone", token, onMessage);

  function onMessage(msg) {
    if (window.townhallEvaluation) window.townhallEvaluation(msg, conn); // the end-of-day survey
    if (msg.type === "hello") {
      document.getElementById("event-title").textContent = t.text(msg.event.title);
      if (!demographicsDone && Object.keys(msg.answers).length === 0 && msg.demographics.length) {
        showDemographics(msg.demographics);
      } else {
        showKeypad();
      }
      showPoll(msg.poll, msg.ballot);
    } else if (msg.type === "poll") {
      if (msg.poll.status === "open") showPoll(msg.poll, null);
      else if (poll && poll.id === msg.poll.id) showPoll(null, null, tr("This poll is closed. Thank you!"));
    }
  }

  function showDemographics(questions) {
    t.clear(demoForm);
    questions.forEach(function (q) {
      const fs = t.el("fieldset");
      fs.appendChild(t.el("legend", t.text(q.prompt)));
      q.options.concat([{ key: "prefer_not", label: tr("Prefer not to say") }]).forEach(function (o) {
        const id = "d-" + q.key + "-" + o.key;
        const input = t.el("input");
        input.type = "radio"; input.name = q.key; input.value = o.key; input.id = id;
        const label = t.el("label", t.text(o.label), "choice");
        label.htmlFor = id;
        label.prepend(input);
        fs.appendChild(label);
      });
      demoForm.appendChild(fs);
    });
    const done = t.el("button", tr("Continue"));
    done.type = "submit";
    demoForm.appendChild(done);
    demoSection.hidden = false;
    keypad.hidden = true;
  }

  demoForm.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const answers = {};
    new FormData(demoForm).forEach(function (v, k) { answers[k] = String(v); });
    try {
      if (Object.keys(answers).length) await conn.send({ type: "demographics", answers: answers });
      demographicsDone = true;
      localStorage.setItem("townhall.demo-done", "1");
      showKeypad();
    } catch (e) {
      status.textContent = e.message || tr("Could not save; try again.");
    }
  });

  function showKeypad() { demoSection.hidden = true; keypad.hidden = false; }

  function showPoll(p, ballot, note) {
    poll = p;
    t.clear(voteForm);
    status.textContent = note || "";
    const prompt = document.getElementById("poll-prompt");
    const help = document.getElementById("poll-help");
    if (!p) { prompt.textContent = tr("Waiting for the next poll…"); help.textContent = ""; return; }
    prompt.textContent = t.text(p.prompt);
    if (window.townhallBudget && window.townhallBudget.handles(p)) { // server/static/budget.js
      window.townhallBudget.render(p, ballot, { form: voteForm, help: help, status: status,
        send: function (f) { return conn.send(Object.assign({ type: "vote", poll_id: p.id, seq: nextSeq() }, f)); } });
      return;
    }
    const chosen = ballot ? ballot.choice : [];
    const multi = p.kind === "multi";
    help.textContent = multi ? tr("Pick up to {n}.", { n: p.max_choices }) :
      p.kind === "ranking" ? tr("Tap options in order of preference.") : tr("Pick one.");
    const order = [];
    p.options.forEach(function (o) {
      const id = "o-" + o.key;
      const input = t.el("input");
      input.type = multi || p.kind === "ranking" ? "checkbox" : "radio";
      input.name = "choice"; input.value = o.key; input.id = id;
      input.checked = chosen.indexOf(o.key) >= 0;
      if (input.checked) order.push(o.key);
      input.addEventListener("change", function () {
        const i = order.indexOf(o.key);
        if (input.checked && i < 0) order.push(o.key);
        if (!input.checked && i >= 0) order.splice(i, 1);
        if (multi && order.length > p.max_choices) {
          input.checked = false; order.pop();
          status.textContent = tr("You can pick at most {n}.", { n: p.max_choices });
        }
        renderRanks();
      });
      const label = t.el("label", t.text(o.label), "choice");
      label.htmlFor = id;
      label.prepend(input);
      const rank = t.el("span", "", "rank");
      rank.dataset.key = o.key;
      label.appendChild(rank);
      voteForm.appendChild(label);
    });
    function renderRanks() {
      if (p.kind !== "ranking") return;
      voteForm.querySelectorAll(".rank").forEach(function (r) {
        const i = order.indexOf(r.dataset.key);
        r.textContent = i >= 0 ? " #" + (i + 1) : "";
      });
    }
    renderRanks();
    const submit = t.el("button", ballot ? tr("Change my vote") : tr("Vote"));
    submit.type = "submit";
    voteForm.appendChild(submit);
    voteForm.onsubmit = async function (ev) {
      ev.preventDefault();
      const choice = p.kind === "ranking" ? order.slice() :
        Array.from(voteForm.querySelectorAll("input:checked"), function (i) { return i.value; });
      if (!choice.length) { status.textContent = tr("Pick an option first."); return; }
      status.textContent = tr("Sending…");
      try {
        await conn.send({ type: "vote", poll_id: p.id, seq: nextSeq(), choice: choice });
        status.textContent = "✓ " + tr("Vote received. You can change it until the poll closes.");
        submit.textContent = tr("Change my vote");
      } catch (e) {
        status.textContent = e.message || tr("Not sent; try again.");
      }
    };
  }
})();
