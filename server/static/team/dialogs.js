// The workbench's three questions to the member: where to move comments, why
// to discard them, and — before anything reaches the big screens — exactly
// what will be published. Each is a modal <dialog>; the focus returns to where
// it was when the dialog closes.
import { S, UNASSIGNED, idsOf, labelOf, plural } from "./model.js";

const t = window.townhall;
const $ = function (id) { return document.getElementById(id); };
const openers = new Map();  // dialog -> element focused before it opened

export function openDialog(dlg, focus) {
  if (dlg.open) return;
  openers.set(dlg, document.activeElement);
  dlg.showModal();
  if (focus) focus.focus();
}

export function anyOpen() {
  return Array.from(document.querySelectorAll("dialog")).some(function (d) { return d.open; });
}

document.querySelectorAll("dialog").forEach(function (dlg) {
  dlg.addEventListener("close", function () {
    const back = openers.get(dlg);
    openers.delete(dlg);
    // The browser has usually put the focus back already, and "close" comes a
    // task later: a key pressed meanwhile (Escape, then Tab) must keep its move.
    const now = document.activeElement;
    const lost = !now || now === document.body || dlg.contains(now);
    if (lost && back && back.isConnected && back !== document.body) back.focus();
  });
  dlg.querySelectorAll("[data-close]").forEach(function (b) {
    b.addEventListener("click", function () { dlg.close(); });
  });
});

// -- move to… -----------------------------------------------------------------

let moveChosen = null;

function targetButton(key, size) {
  const li = t.el("li");
  const b = t.el("button", null, "target");
  b.type = "button";
  b.dataset.key = key;
  b.appendChild(t.el("span", labelOf(key), "target-label"));
  b.appendChild(t.el("span", plural(size, "comment", "comments"), "target-size"));
  li.appendChild(b);
  return li;
}

export function openMove(ids, from, chosen) {
  moveChosen = chosen;
  $("move-h").textContent = "Move " + plural(ids.length, "comment", "comments") + " to…";
  const list = $("move-targets");
  t.clear(list);
  if (from !== UNASSIGNED) list.appendChild(targetButton(UNASSIGNED, idsOf(UNASSIGNED).length));
  S.order.forEach(function (key) {
    if (key !== from) list.appendChild(targetButton(key, idsOf(key).length));
  });
  $("move-find").value = "";
  openDialog($("move-dialog"), $("move-find"));
}

function visibleTargets() {
  return Array.from($("move-targets").querySelectorAll("li:not([hidden]) button.target"));
}

$("move-find").addEventListener("input", function () {
  const f = $("move-find").value.trim().toLowerCase();
  $("move-targets").querySelectorAll("li").forEach(function (li) {
    li.hidden = f !== "" && li.textContent.toLowerCase().indexOf(f) < 0;
  });
});
$("move-find").addEventListener("keydown", function (e) {
  const first = visibleTargets()[0];
  if (e.key === "Enter" && first) { e.preventDefault(); first.click(); }
  if (e.key === "ArrowDown" && first) { e.preventDefault(); first.focus(); }
});
$("move-targets").addEventListener("keydown", function (e) {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const all = visibleTargets();
  const at = all.indexOf(document.activeElement);
  e.preventDefault();
  if (e.key === "ArrowUp" && at <= 0) { $("move-find").focus(); return; }
  const next = all[Math.min(all.length - 1, at + (e.key === "ArrowDown" ? 1 : -1))];
  if (next) next.focus();
});
$("move-targets").addEventListener("click", function (e) {
  const b = e.target.closest("button.target");
  if (!b) return;
  $("move-dialog").close();
  if (moveChosen) moveChosen(b.dataset.key === UNASSIGNED ? null : b.dataset.key);
});

// -- discard -------------------------------------------------------------------

let discardChosen = null;

export function openDiscard(ids, chosen) {
  discardChosen = chosen;
  $("discard-h").textContent = "Discard " + plural(ids.length, "comment", "comments");
  $("discard-reason").value = "";
  openDialog($("discard-dialog"), $("discard-reason"));
}

function confirmDiscard() {
  const reason = $("discard-reason").value.trim();
  if (!reason) {
    $("discard-reason").setAttribute("aria-invalid", "true");
    $("discard-reason").focus();
    return;
  }
  $("discard-reason").removeAttribute("aria-invalid");
  $("discard-dialog").close();
  if (discardChosen) discardChosen(reason);
}
$("discard-confirm").addEventListener("click", confirmDiscard);
$("discard-reason").addEventListener("keydown", function (e) {
  if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); confirmDiscard(); }
});

// -- publish -------------------------------------------------------------------

let publishChosen = null;
let publishShown = null;  // the plan the member read: the one carried out

// What publishing the selected themes (or, with none selected, every theme)
// would put on the screens: themes already there stay there.
export function publishPlan() {
  const published = S.order.filter(function (k) { return S.themes.get(k).published; });
  const picked = S.order.filter(function (k) { return S.picked.has(k); });
  const chosen = picked.length ? picked : S.order.slice();
  const adding = chosen.filter(function (k) { return published.indexOf(k) < 0; });
  const result = S.order.filter(function (k) { return published.indexOf(k) >= 0 || adding.indexOf(k) >= 0; });
  return { picked: picked, adding: adding, published: published, result: result };
}

// What the big screens will do: the producer chose once whether they follow the
// room (a publish brings the themes wall up) or stay where the producer pins them.
function screensNote() {
  const screen = S.event && S.event.screen;
  if (!screen) return "";
  return screen.follow ? "The big screens switch to this question's themes wall as soon as you publish." :
    "The producer has pinned the big screens: the themes show when the producer puts the themes wall up.";
}

export function openPublish(chosen) {
  publishChosen = chosen;
  const plan = publishPlan();
  publishShown = plan;
  const n = plan.adding.length;
  const what = $("publish-what");
  const confirm = $("publish-confirm");
  if (!S.order.length) {
    $("publish-h").textContent = "Nothing to publish yet";
    what.textContent = "This question has no themes yet.";
  } else if (!n) {
    $("publish-h").textContent = "Already on the screens";
    what.textContent = plan.picked.length ? "The selected themes are already on the screens." :
      "Every theme of this question is already on the screens.";
  } else if (!plan.picked.length) {
    $("publish-h").textContent = "No theme is selected — publish all " + plural(n, "theme", "themes") + "?";
    what.textContent = "With no theme selected, this publishes every theme of the question not yet " +
      "on the screens. To publish only some, cancel and select them first (their boxes, or x).";
  } else {
    $("publish-h").textContent = "Publish " + plural(n, "theme", "themes") + " to the screens?";
    what.textContent = "These go to the big screens, with their quotes:";
  }
  confirm.hidden = !n;
  $("publish-dialog").querySelector("[data-close]").textContent = n ? "Cancel" : "Close";
  confirm.textContent = !plan.picked.length ? "Publish all " + plural(n, "theme", "themes") :
    "Publish " + plural(n, "theme", "themes");
  const list = $("publish-list");
  t.clear(list);
  plan.result.forEach(function (key) {
    const th = S.themes.get(key);
    const li = t.el("li", null, plan.adding.indexOf(key) >= 0 ? "adding" : "staying");
    li.appendChild(t.el("span", th.label, "p-label"));
    li.appendChild(t.el("span", plural(th.size, "comment", "comments"), "p-size"));
    li.appendChild(t.el("span", plan.adding.indexOf(key) >= 0 ? "new" : "already on the screens", "p-mark"));
    list.appendChild(li);
  });
  $("publish-note").textContent = n ? screensNote() + " Afterwards the screens' themes wall holds " +
    plural(plan.result.length, "theme", "themes") + " for this question; take one off later from its " +
    "page here (“Take off the screens”)." : "";
  openDialog($("publish-dialog"), n ? confirm : $("publish-dialog").querySelector("[data-close]"));
}

$("publish-confirm").addEventListener("click", function () {
  $("publish-dialog").close();
  if (publishChosen && publishShown) publishChosen(publishShown);
});
