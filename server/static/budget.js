"use strict";
// Budgeting ballots on the phone (allocation, projects, tradeoff). phone.js
// hands a budget poll here; the server checks everything again, so this only
// keeps the participant from building a ballot it would refuse.
window.townhallBudget = (function () {
  const t = window.townhall;
  const tr = t.tr;
  const KINDS = ["allocation", "projects", "tradeoff"];

  const money = t.money;

  // ui: {form, help, status, prefill: {choice, amounts} | null, send(fields) -> Promise}
  function render(p, ballot, ui) {
    t.clear(ui.form);
    const summary = t.el("p", "", "budget-summary");
    summary.id = "budget-summary";
    summary.setAttribute("aria-live", "polite");
    const rows = [];
    if (p.kind === "allocation") allocation(p, ballot, ui, rows, summary);
    else picks(p, ballot, ui, rows, summary);
    ui.form.appendChild(summary);
    const bar = t.el("div", null, "submit-bar");
    const submit = t.el("button", ballot ? tr("Change my vote") : tr("Vote"), "wide");
    submit.type = "submit";
    bar.appendChild(submit);
    ui.form.appendChild(bar);
    const update = rows.update;
    update();
    ui.form.onsubmit = async function (ev) {
      ev.preventDefault();
      const fields = rows.ballot();
      if (!fields) return;
      ui.status.textContent = tr("Sending…");
      try {
        await ui.send(fields);
        ui.status.textContent = "✓ " + tr("Vote received. You can change it until the poll closes.");
        submit.textContent = tr("Change my vote");
      } catch (e) {
        ui.status.textContent = e.message || tr("Not sent; try again.");
      }
    };
  }

  function allocation(p, ballot, ui, rows, summary) {
    ui.help.textContent = tr("Spread up to {amount} across the options.", { amount: money(p.budget, p.unit) });
    // What this phone chose before (a reopened poll, a reconnect), else its ballot.
    const given = (ui.prefill && ui.prefill.amounts) || (ballot && ballot.amounts) || {};
    const inputs = [];
    p.options.forEach(function (o) {
      const label = t.el("label", t.text(o.label), "choice budget-row");
      const input = t.el("input");
      input.type = "number"; input.min = "0"; input.step = "1"; input.inputMode = "numeric";
      input.max = String(p.budget); input.name = o.key; input.id = "b-" + o.key;
      input.value = String(given[o.key] || 0);
      label.htmlFor = input.id;
      label.appendChild(input);
      ui.form.appendChild(label);
      inputs.push(input);
      // Never let the running total pass the budget: clamp the field just edited.
      input.addEventListener("input", function () {
        let v = Math.max(0, Math.floor(Number(input.value) || 0));
        const others = inputs.reduce(function (s, i) { return i === input ? s : s + value(i); }, 0);
        if (others + v > p.budget) {
          v = p.budget - others;
          ui.status.textContent = tr("That would pass the budget; {amount} is all that is left for this.", { amount: money(v, p.unit) });
        } else ui.status.textContent = "";
        if (String(v) !== input.value) input.value = String(v);
        rows.update();
      });
    });
    function value(i) { return Math.max(0, Math.floor(Number(i.value) || 0)); }
    rows.update = function () {
      const total = inputs.reduce(function (s, i) { return s + value(i); }, 0);
      summary.dataset.total = String(total);
      summary.dataset.left = String(p.budget - total);
      summary.textContent = tr("Given {given} · left {left}", { given: money(total, p.unit), left: money(p.budget - total, p.unit) });
    };
    rows.ballot = function () {
      const amounts = {};
      inputs.forEach(function (i) { if (value(i) > 0) amounts[i.name] = value(i); });
      if (!Object.keys(amounts).length) { ui.status.textContent = tr("Give some {unit} first.", { unit: t.text(p.unit) }); return null; }
      return { amounts: amounts };
    };
  }

  // projects (what is left of the budget) and tradeoff (the running balance).
  function picks(p, ballot, ui, rows, summary) {
    const projects = p.kind === "projects";
    ui.help.textContent = projects
      ? tr("Pick the projects you would fund; together they must fit in {amount}.", { amount: money(p.budget, p.unit) })
      : tr("Pick the measures you would accept to close a gap of {amount}.", { amount: money(p.deficit, p.unit) });
    const chosen = (ui.prefill || ballot || {}).choice || [];
    const boxes = [];
    p.options.forEach(function (o) {
      const amount = projects ? p.costs[o.key] : p.deltas[o.key];
      const text = projects ? t.text(o.label) + " — " + money(amount, p.unit)
        : t.text(o.label) + " — " + (amount >= 0 ? tr("saves {amount}", { amount: money(amount, p.unit) })
          : tr("costs {amount}", { amount: money(-amount, p.unit) }));
      const label = t.el("label", text, "choice");
      const input = t.el("input");
      input.type = "checkbox"; input.name = "choice"; input.value = o.key; input.id = "o-" + o.key;
      input.checked = chosen.indexOf(o.key) >= 0;
      label.htmlFor = input.id;
      label.prepend(input);
      const note = t.el("span", "", "note");
      label.appendChild(note);
      ui.form.appendChild(label);
      boxes.push({ input: input, amount: amount, note: note });
      input.addEventListener("change", function () {
        if (projects && input.checked && spent() > p.budget) {
          input.checked = false;
          ui.status.textContent = tr("That project does not fit in what is left.");
        } else ui.status.textContent = "";
        rows.update();
      });
    });
    function spent() {
      return boxes.reduce(function (s, b) { return b.input.checked ? s + b.amount : s; }, 0);
    }
    rows.update = function () {
      const total = spent();
      if (projects) {
        summary.dataset.left = String(p.budget - total);
        summary.textContent = tr("Chosen {chosen} · left {left}", { chosen: money(total, p.unit), left: money(p.budget - total, p.unit) });
        boxes.forEach(function (b) {
          // Grey out what no longer fits, and say so in words, not colour alone.
          b.input.disabled = !b.input.checked && total + b.amount > p.budget;
          b.note.textContent = b.input.disabled ? " (" + tr("does not fit") + ")" : "";
        });
      } else {
        const balance = total - p.deficit;
        summary.dataset.left = String(balance);
        summary.textContent = balance >= 0 ? tr("Balanced: {amount} to spare", { amount: money(balance, p.unit) })
          : tr("Still short by {amount}", { amount: money(-balance, p.unit) });
      }
    };
    rows.ballot = function () {
      const choice = boxes.filter(function (b) { return b.input.checked; }).map(function (b) { return b.input.value; });
      if (!choice.length) { ui.status.textContent = tr("Pick at least one first."); return null; }
      return { choice: choice };
    };
  }

  return { handles: function (p) { return !!p && KINDS.indexOf(p.kind) >= 0; }, render: render, money: money };
})();
