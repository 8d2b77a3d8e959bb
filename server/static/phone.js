"use strict";
// The participant's phone: demographic questions once, then one poll at a time.
// The keypad is always in exactly one state: waiting for a poll, voting in one, or
// told that the poll it showed has closed. A ballot being filled in is never lost:
// if the poll is reopened (or the page re-renders) the choices come back.
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
  const prompt = document.getElementById("poll-prompt");
  const help = document.getElementById("poll-help");
  const timer = document.getElementById("poll-timer");
  let poll = null; // the poll on the keypad (open, or just closed)
  let order = []; // a ranking's order, as tapped
  const drafts = {}; // poll id -> {choice, amounts}: choices not sent yet
  const sent = {}; // poll id -> the ballot this phone sent
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
      if (msg.poll && msg.ballot) sent[msg.poll.id] = msg.ballot;
      if (!demographicsDone && Object.keys(msg.answers).length === 0 && msg.demographics.length) {
        showDemographics(msg.demographics);
      } else {
        showKeypad();
      }
      if (msg.poll) showPoll(msg.poll);
      else if (poll && poll.status === "open") closed(Object.assign({}, poll, { status: "closed" })); // closed while offline
      else if (!poll) waiting(); // a closed poll's thanks stay up
    } else if (msg.type === "poll") {
      if (msg.poll.status === "open") showPoll(msg.poll);
      else if (poll && poll.id === msg.poll.id) closed(msg.poll);
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
    const done = t.el("button", tr("Continue"), "wide");
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

  // What the participant has chosen so far in the form on screen.
  function readDraft() {
    if (!poll || poll.status !== "open" || !voteForm.firstChild) return null;
    const amounts = {};
    let any = false;
    voteForm.querySelectorAll("input[type=number]").forEach(function (i) {
      if (Number(i.value) > 0) { amounts[i.name] = Number(i.value); any = true; }
    });
    if (any) return { amounts: amounts, choice: [] };
    const checked = Array.from(voteForm.querySelectorAll("input:checked"), function (i) { return i.value; });
    const choice = poll.kind === "ranking" ? order.slice() : checked;
    return choice.length ? { choice: choice } : null;
  }

  function keepDraft() {
    const draft = readDraft();
    if (draft && poll) drafts[poll.id] = draft;
  }

  function setState(state, heading, text) {
    keypad.dataset.state = state;
    prompt.textContent = heading;
    help.textContent = text || "";
    timer.hidden = true;
  }

  function waiting() {
    keepDraft();
    poll = null;
    t.clear(voteForm);
    status.textContent = "";
    setState("waiting", tr("Waiting for the next poll…"), tr("Keep this page open: the next poll appears here by itself."));
  }

  function closed(p) {
    keepDraft();
    poll = p;
    t.clear(voteForm);
    status.textContent = "";
    setState("closed", tr("This poll is closed. Thank you!"), (sent[p.id] ? tr("Your vote was counted.") + " " : "") +
      tr("The results are on the big screen. The next poll appears here by itself."));
  }

  function showPoll(p) {
    if (poll && poll.id === p.id && poll.status === "open" && voteForm.firstChild) {
      poll = p; // reopened or its timer changed: keep the form and what is chosen in it
      countdown();
      return;
    }
    keepDraft();
    poll = p;
    order = [];
    t.clear(voteForm);
    status.textContent = "";
    const ballot = sent[p.id] || null;
    const prefill = drafts[p.id] || ballot;
    setState("voting", t.text(p.prompt), "");
    countdown();
    if (window.townhallBudget && window.townhallBudget.handles(p)) { // server/static/budget.js
      window.townhallBudget.render(p, ballot, { form: voteForm, help: help, status: status, prefill: prefill,
        send: function (f) { return send(p, f); } });
      return;
    }
    renderChoices(p, ballot, prefill);
  }

  function renderChoices(p, ballot, prefill) {
    const chosen = prefill ? prefill.choice : [];
    const multi = p.kind === "multi";
    const hint = multi ? tr("Pick up to {n}.", { n: p.max_choices }) :
      p.kind === "ranking" ? tr("Tap options in order of preference.") : tr("Pick one.");
    help.textContent = t.says(t.text(p.prompt), hint) ? "" : hint;
    p.options.forEach(function (o) {
      const id = "o-" + o.key;
      const input = t.el("input");
      input.type = multi || p.kind === "ranking" ? "checkbox" : "radio";
      input.name = "choice"; input.value = o.key; input.id = id;
      input.addEventListener("change", function () {
        const i = order.indexOf(o.key);
        if (input.checked && i < 0) order.push(o.key);
        if (!input.checked && i >= 0) order.splice(i, 1);
        if (multi && order.length > p.max_choices) {
          input.checked = false; order.pop();
          status.textContent = tr("You can pick at most {n}.", { n: p.max_choices });
        }
        if (input.type === "radio") order = [o.key];
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
    chosen.forEach(function (key) {
      const input = document.getElementById("o-" + key);
      if (input) { input.checked = true; order.push(key); }
    });
    function renderRanks() {
      if (p.kind !== "ranking") return;
      voteForm.querySelectorAll(".rank").forEach(function (r) {
        const i = order.indexOf(r.dataset.key);
        r.textContent = i >= 0 ? " #" + (i + 1) : "";
      });
    }
    renderRanks();
    const bar = t.el("div", null, "submit-bar");
    const submit = t.el("button", ballot ? tr("Change my vote") : tr("Vote"), "wide");
    submit.type = "submit";
    bar.appendChild(submit);
    voteForm.appendChild(bar);
    voteForm.onsubmit = async function (ev) {
      ev.preventDefault();
      const choice = p.kind === "ranking" ? order.slice() :
        Array.from(voteForm.querySelectorAll("input:checked"), function (i) { return i.value; });
      if (!choice.length) { status.textContent = tr("Pick an option first."); return; }
      status.textContent = tr("Sending…");
      try {
        await send(p, { choice: choice });
        status.textContent = "✓ " + tr("Vote received. You can change it until the poll closes.");
        submit.textContent = tr("Change my vote");
      } catch (e) {
        status.textContent = e.message || tr("Not sent; try again.");
      }
    };
  }

  async function send(p, fields) {
    const ack = await conn.send(Object.assign({ type: "vote", poll_id: p.id, seq: nextSeq() }, fields));
    sent[p.id] = fields;
    delete drafts[p.id];
    return ack;
  }

  function countdown() {
    if (!poll || poll.status !== "open" || !poll.closes_at) { timer.hidden = true; return; }
    const left = Math.max(0, Math.round((Date.parse(poll.closes_at) - Date.now()) / 1000));
    timer.hidden = false;
    const time = left < 100 ? left + " s" : Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    timer.textContent = tr("Closes in {time}", { time: time });
  }
  setInterval(countdown, 1000);
})();
