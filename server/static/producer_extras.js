"use strict";
// The producer console's secondary tools: polls made from published themes, the
// evaluation survey's summary, and re-issuing or revoking links. producer.js owns
// the connection and calls these with it (ctx: {send(msg) → Promise, say(text)}).
window.townhallProducerExtras = function (ctx) {
  const t = window.townhall;
  const fromThemesInput = {}; // question id -> {kind, max}: survives re-rendering
  let summary = null; // the evaluation survey's summary, or null without a survey

  function refused(e) { ctx.say("Refused: " + (e.message || e.code)); }

  function fromThemesItem(q, count) {
    const li = t.el("li", q.text + " (" + count + " published themes) ");
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
    make.disabled = count < 2;
    make.addEventListener("click", async function () {
      const msg = { type: "poll_from_themes", question_id: q.id, kind: kind.value };
      if (kind.value === "multi" && max.value) msg.max_choices = Number(max.value);
      ctx.say("…");
      try {
        const ack = await ctx.send(msg);
        ctx.say("Draft poll " + ack.poll_id + " made from the published themes; open it from the poll list.");
      } catch (e) { refused(e); }
    });
    const row = t.el("div", null, "ft-controls");
    [kindLabel, kind, maxLabel, max, make].forEach(function (n) { row.appendChild(n); });
    li.appendChild(row);
    return li;
  }

  function renderFromThemes(event, published) {
    const list = document.getElementById("from-themes");
    t.clear(list);
    event.rounds.forEach(function (r) {
      r.questions.forEach(function (q) {
        const count = published.filter(function (th) { return th.question_id === q.id; }).length;
        list.appendChild(fromThemesItem(q, count));
      });
    });
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

  function onMessage(msg) {
    if (msg.type === "hello") { summary = msg.evaluation_summary || null; renderSummary(); }
    else if (msg.type === "evaluation_summary") { summary = msg.summary; renderSummary(); }
  }

  // Links: re-issue or revoke a role's link (the server closes the old one's sockets).
  function linkTarget(kind) {
    const role = document.getElementById("link-role").value;
    const msg = { type: kind, role: role };
    if (role === "table") msg.table = Number(document.getElementById("link-table").value);
    return msg;
  }
  document.getElementById("link-reissue").addEventListener("click", async function () {
    ctx.say("…");
    try {
      const ack = await ctx.send(linkTarget("reissue_token"));
      document.getElementById("link-new").textContent = ack.link;
      ctx.say("New link issued; " + ack.revoked + " old link(s) stopped working.");
    } catch (e) { refused(e); }
  });
  document.getElementById("link-revoke").addEventListener("click", function () {
    ctx.act(linkTarget("revoke_token"), "Link revoked; anyone using it was disconnected.");
  });
  document.getElementById("evaluation-open").addEventListener("click", function () {
    ctx.act({ type: "open_evaluation" }, "Evaluation survey open on every phone.");
  });
  document.getElementById("evaluation-close").addEventListener("click", function () {
    ctx.act({ type: "close_evaluation" }, "Evaluation survey closed.");
  });

  return { onMessage: onMessage, renderFromThemes: renderFromThemes };
};
