"use strict";
// The end-of-meeting evaluation on the phone: statements rated 1–5, an optional
// table number (checks the theme team's synthesis per table) and an optional
// email for a later survey, sent separately and never with the answers.
// phone.js calls window.townhallEvaluation(msg, conn) for every server message.
(function () {
  const t = window.townhall;
  const tr = t.tr;
  const section = document.getElementById("evaluation");
  const form = document.getElementById("eval-form");
  const status = document.getElementById("eval-status");
  const followup = document.getElementById("followup-form");
  let conn = null;

  window.townhallEvaluation = function (msg, connection) {
    conn = connection;
    if (msg.type === "hello") show(msg.evaluation);
    else if (msg.type === "evaluation") show(msg.evaluation);
  };

  function show(ev) {
    t.clear(form);
    t.clear(followup);
    status.textContent = "";
    section.hidden = !ev;
    followup.hidden = !ev || !ev.followup;
    if (!ev) return;
    const answers = ev.answers || {};
    ev.questions.forEach(function (q) {
      const fs = t.el("fieldset");
      fs.appendChild(t.el("legend", t.text(q.text)));
      ev.scale.forEach(function (label, i) {
        const value = String(i + 1);
        const id = "e-" + q.key + "-" + value;
        const input = t.el("input");
        input.type = "radio"; input.name = q.key; input.value = value; input.id = id;
        input.checked = answers[q.key] === i + 1;
        const lab = t.el("label", value + " · " + t.text(label), "choice");
        lab.htmlFor = id;
        lab.prepend(input);
        fs.appendChild(lab);
      });
      form.appendChild(fs);
    });
    if (ev.ask_table && ev.tables.length) {
      const lab = t.el("label", tr("Which table are you at?"));
      lab.htmlFor = "e-table";
      const select = t.el("select");
      select.id = "e-table"; select.name = "table";
      select.appendChild(new Option(tr("I'd rather not say"), ""));
      ev.tables.forEach(function (n) { select.appendChild(new Option(tr("Table {n}", { n: n }), String(n))); });
      select.value = ev.table ? String(ev.table) : "";
      form.appendChild(lab);
      form.appendChild(select);
    }
    const send = t.el("button", tr("Send my answers"));
    send.type = "submit";
    form.appendChild(send);
    if (ev.followup) showFollowup();
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const msg = { type: "evaluation", answers: {} };
    new FormData(form).forEach(function (v, k) {
      if (k === "table") msg.table = v ? Number(v) : null;
      else msg.answers[k] = Number(v);
    });
    status.textContent = tr("Sending…");
    try {
      await conn.send(msg);
      status.textContent = "✓ " + tr("Thank you — your answers were received. You can change them.");
    } catch (err) {
      status.textContent = err.message || tr("Not sent; try again.");
    }
  });

  function showFollowup() {
    followup.appendChild(t.el("p", tr("May we ask you a few questions again in a few months? Leave an email: it is kept apart from your votes and answers, and only used for that.")));
    const lab = t.el("label", tr("Email for a later survey (optional)"));
    lab.htmlFor = "e-email";
    const input = t.el("input");
    input.type = "email"; input.id = "e-email"; input.autocomplete = "email";
    lab.appendChild(input);
    followup.appendChild(lab);
    const keep = t.el("button", tr("Keep me in touch"));
    keep.type = "submit";
    const remove = t.el("button", tr("Remove my email"), "secondary");
    remove.type = "button";
    const note = t.el("p", "");
    note.setAttribute("role", "status");
    followup.appendChild(keep);
    followup.appendChild(remove);
    followup.appendChild(note);
    async function send(removing) {
      if (!input.value) { note.textContent = tr("Type your email first."); return; }
      try {
        await conn.send({ type: "followup", email: input.value, remove: removing });
        note.textContent = "✓ " + (removing ? tr("Removed: we will not contact you.") :
          tr("Saved. To remove it later, type it here and tap Remove."));
      } catch (err) {
        note.textContent = err.message || tr("Not sent; try again.");
      }
    }
    followup.onsubmit = function (e) { e.preventDefault(); send(false); };
    remove.addEventListener("click", function () { send(true); });
  }
})();
