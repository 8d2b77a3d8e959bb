// Theme-team workbench: a compact theme list beside the open theme's comments.
// Messages update only what they change (model.js says what did); comment
// text only ever goes through textContent. Every op carries the theme version
// this page last saw; a refusal says why in one line and reloads the themes.
import {
  S, ALL, UNASSIGNED, DISCARDED, reset, addComment, applyThemes, idsOf, isTheme, labelOf,
  loadLooked, filter, plural,
} from "./model.js";
import { buildList, updateList, refreshCounts, refreshPicks, markOpen, focusRow as focusTheme,
  listKeys, wireList } from "./themelist.js";
import { show, update, refilter, refreshHead, wirePane, targets, focusedId, activeId, focusRow,
  clearSelection, toggle, sel, wait, waiting } from "./pane.js";
import { openMove, openDiscard, openPublish } from "./dialogs.js";
import { wireDnd } from "./dnd.js";
import { wireKeys } from "./keys.js";

const t = window.townhall;
const $ = function (id) { return document.getElementById(id); };
const token = document.body.dataset.token;
let sorted = false;  // the list was ordered biggest first for this question

const nameBox = $("member-name");
nameBox.value = localStorage.getItem("townhall.team.name") || "";
nameBox.addEventListener("change", function () { localStorage.setItem("townhall.team.name", nameBox.value.trim()); });

function say(text, isError) {
  $("status").textContent = text;
  $("status").className = "wb-status" + (isError ? " error" : "");
}

// -- the connection -----------------------------------------------------------

const conn = t.connect("team", token, function (msg) {
  if (msg.type === "hello") {
    reopen = isTheme(S.open) ? S.open : null;
    S.event = msg.event;
    $("event-title").textContent = S.event.title;
    S.comments.clear();
    msg.comments.forEach(function (c) { S.comments.set(c.id, c); });
    fillFacets(msg.comments);
    fillQuestions();
    startQuestion();
  } else if (msg.type === "comment") {
    noteFacets(msg.comment);
    if (addComment(msg.comment)) {
      if (S.open === ALL && !waiting()) update(true);
      refreshCounts();
    }
  } else if (msg.type === "themes" && msg.question_id === S.question) {
    themesArrived(msg);
  } else if (msg.type === "question" && S.event) {
    S.event.current_question = msg.question;
  } else if (msg.type === "screen_changed" && S.event) {
    // What the screens show and whether they follow the room: the publish dialog says it.
    S.event.screen = { mode: msg.mode, poll_id: msg.poll_id, question_id: msg.question_id, follow: msg.follow };
  }
});

function themesArrived(msg) {
  const first = !S.themed;
  const diff = applyThemes(msg);
  if (first) {
    if (!sorted) sortBySize();
    buildList();
    const again = reopen !== null && S.themes.has(reopen) ? reopen : S.order[0];
    reopen = null;
    if (waiting()) open(again !== undefined ? again : ALL);
    else update(true);
  } else {
    updateList(diff);
    const key = S.open;
    if (key === ALL || key === UNASSIGNED || key === DISCARDED || isTheme(key)) {
      const touched = key === ALL || (key === UNASSIGNED ? diff.unassigned : key === DISCARDED ? diff.discarded :
        diff.members.indexOf(key) >= 0);
      if (touched) update(true);
      else if (diff.changed.indexOf(key) >= 0) refreshHead();
    } else {
      gone((msg.retired || []).find(function (r) { return r.theme === key; }));
    }
  }
  lastMembers = idsOf(S.open).slice();
  noteThemePicks();
}

// The open theme went away (merged, or retired by an automatic re-cluster, which
// says where its comments went): show the theme that holds them now.
function gone(retired) {
  const had = new Set(lastMembers);
  let best = retired && retired.into && S.themes.has(retired.into) ? retired.into : null;
  let most = 0;
  if (best === null) {
    S.themes.forEach(function (th, k) {
      const n = th.members.filter(function (id) { return had.has(id); }).length;
      if (n > most) { most = n; best = k; }
    });
  }
  const focusWasHere = document.activeElement && document.activeElement.closest &&
    document.activeElement.closest(".wb-pane");
  const was = retired ? retired.label : null;
  open(best || UNASSIGNED);
  if (retired) {
    say("The automatic re-cluster folded “" + was + "” into " + (best ? "“" + labelOf(best) + "”" :
      "those not in a theme yet") + "; showing " + (best ? "it" : "them") + ".");
  } else if (!busy && Date.now() - lastAck > 2000) {
    // After this member's own merge the status already says what happened.
    say("The theme you had open is gone (merged or re-themed); showing “" + labelOf(S.open) +
      "”, which now holds its comments.");
  }
  if (focusWasHere && activeId() !== null) focusRow(activeId());
}

let lastMembers = [];  // the open theme's members, to follow them if it goes
let busy = 0;          // this member's ops waiting for their answer
let lastAck = 0;       // when the last one was answered (ms)
let reopen = null;     // after a reconnect, the theme that was open

function open(key) {
  if (S.open === key && $("comments").dataset.bucket === key) return;
  show(key);
  lastMembers = idsOf(key).slice();
  markOpen(key);
}

async function sync() {
  if (S.question === null) return;
  try {
    const ack = await conn.send({ type: "sync", question_id: S.question });
    themesArrived(ack.themes);
  } catch (e) {
    if (e.code === "forbidden") {
      say("Theming is off on this server: comments are listed as they arrive, without themes.");
    } else {
      say(e.message || e.code, true);
    }
    if (waiting()) open(ALL);
  }
}

// Send one op; the ack or the refusal is shown; a refusal reloads the themes.
async function send(msg, done) {
  msg.question_id = S.question;
  msg.name = nameBox.value.trim();
  say("…");
  busy += 1;
  try {
    const ack = await conn.send(msg);
    say(typeof done === "function" ? done(ack) : done);
    return ack;
  } catch (e) {
    say(e.message || e.code, true);
    if (e.code === "conflict" || e.code === "not_found") sync();
    return null;
  } finally {
    busy -= 1;
    lastAck = Date.now();
  }
}

// -- questions and filters ----------------------------------------------------

function questions() {
  return S.event.rounds.flatMap(function (r) {
    return r.questions.map(function (q) { return { round: r, q: q }; });
  });
}

function fillQuestions() {
  const box = $("question");
  t.clear(box);
  questions().forEach(function (x) {
    const o = t.el("option", x.round.title + ": " + x.q.text);
    o.value = String(x.q.id);
    box.appendChild(o);
  });
  if (S.question === null) {
    const cur = S.event.current_question || (questions()[0] && questions()[0].q);
    S.question = cur ? cur.id : null;
  }
  if (S.question !== null) box.value = String(S.question);
}

function startQuestion() {
  reset(S.question);
  sorted = false;
  loadLooked();
  const q = questions().find(function (x) { return x.q.id === S.question; });
  $("question-text").textContent = q ? q.q.text : "";
  buildList();
  wait("Loading the themes…");
  sync();
}

$("question").addEventListener("change", function () {
  S.question = Number($("question").value);
  reopen = null;
  startQuestion();
});

// Table and site filters list what has been seen, in natural order (Table 2 before Table 10).
const collator = new Intl.Collator(undefined, { numeric: true });
const facets = new Map();  // select -> Set of its values
function facet(box, value) {
  if (!value) return;
  if (!facets.has(box)) facets.set(box, new Set());
  const known = facets.get(box);
  if (known.has(value)) return;
  known.add(value);
  const opts = box.options;
  for (let i = 1; i < opts.length; i++) {
    if (collator.compare(opts[i].value, value) > 0) { box.insertBefore(optionFor(value), opts[i]); return; }
  }
  box.appendChild(optionFor(value));
}
function optionFor(value) { const o = t.el("option", value); o.value = value; return o; }
function noteFacets(c) { facet($("filter-table"), c.table); facet($("filter-site"), c.site); }
// All at once (a hello with 5,000 comments): sorted once, not inserted one by one.
function fillFacets(all) {
  [["filter-table", "table"], ["filter-site", "site"]].forEach(function (pair) {
    const box = $(pair[0]);
    const known = new Set(all.map(function (c) { return c[pair[1]]; }).filter(Boolean));
    facets.set(box, known);
    const keep = box.value;
    while (box.options.length > 1) box.remove(1);
    Array.from(known).sort(collator.compare).forEach(function (v) { box.appendChild(optionFor(v)); });
    box.value = known.has(keep) ? keep : "";
  });
}

function refilterAll() {
  filter.text = $("filter").value.trim().toLowerCase();
  filter.table = $("filter-table").value;
  filter.site = $("filter-site").value;
  refilter();
  refreshCounts();
}
["filter", "filter-table", "filter-site"].forEach(function (id) { $(id).addEventListener("input", refilterAll); });

function sortBySize() {
  S.order.sort(function (a, b) { return S.themes.get(b).size - S.themes.get(a).size; });
  sorted = true;
}
$("sort").addEventListener("click", function () {
  sortBySize();
  buildList();
  say("Themes ordered biggest first (new themes join at the end until you order them again).");
});

// -- ops ------------------------------------------------------------------------

function versionOf(key) { const th = S.themes.get(key); return th ? th.version : null; }

function comments(ids) { return ids.length === 1 ? { comment: ids[0] } : { comments: ids }; }

// "Moved 3 comments", and how many near-duplicates went with them (the engine keeps
// a comment and its near-duplicates together).
function howMany(ids, ack) {
  const all = ack.comments ? ack.comments.length : ids.length;
  const extra = all - ids.length;
  return plural(all, "comment", "comments") + (extra > 0 ? " (" + plural(extra, "near-duplicate", "near-duplicates") +
    " of " + (ids.length === 1 ? "it" : "them") + " included)" : "");
}

function move(ids, to) {
  if (!ids.length) { say("Select comments first (their boxes, or x).", true); return; }
  const where = to === null ? "not in a theme" : "“" + labelOf(to) + "”";
  send(Object.assign({ type: "move", to: to, version: to === null ? null : versionOf(to) }, comments(ids)),
    function (ack) { return "Moved " + howMany(ids, ack) + " to " + where + "."; });
}

function discard(ids) {
  if (!ids.length) { say("Select comments first (their boxes, or x).", true); return; }
  openDiscard(ids, function (reason) {
    const from = S.open;
    send(Object.assign({ type: "discard", reason: reason, version: isTheme(from) ? versionOf(from) : null },
      comments(ids)), function (ack) { return "Discarded " + howMany(ids, ack) + " (kept on record, with the reason)."; });
  });
}

function merge(sources, into) {
  if (!sources.length) { say("Select the themes to merge into this one first (their boxes, or x).", true); return; }
  const versions = {};
  sources.concat([into]).forEach(function (k) { versions[k] = versionOf(k); });
  const names = sources.map(function (k) { return "“" + labelOf(k) + "”"; }).join(", ");
  const target = labelOf(into);
  send({ type: "merge", themes: sources, into: into, versions: versions }, function () {
    return "Merged " + names + " into “" + target + "” (u undoes it).";
  });
}

function publish(plan) {
  const versions = {};
  plan.result.forEach(function (k) { versions[k] = versionOf(k); });
  const added = plan.adding.length;
  send({ type: "publish", themes: versions }, function (ack) {
    S.picked.clear();
    refreshPicks();
    noteThemePicks();
    return "Published " + plural(added, "theme", "themes") + ": the screens now show " +
      plural(ack.published, "theme", "themes") + " for this question.";
  });
}

function unpublish(key) {
  const versions = {};
  S.order.forEach(function (k) { if (k !== key && S.themes.get(k).published) versions[k] = versionOf(k); });
  const label = labelOf(key);
  send({ type: "publish", themes: versions }, function (ack) {
    return "“" + label + "” is off the screens; they show " + plural(ack.published, "theme", "themes") +
      " for this question.";
  });
}

function rename() {
  const key = S.open;
  const label = $("rename-input").value.trim();
  if (!isTheme(key)) return;
  if (!label) { say("Type the new label first.", true); $("rename-input").focus(); return; }
  send({ type: "rename", theme: key, version: versionOf(key), label: label }, "Renamed.")
    .then(function (ack) { if (ack) $("rename-input").value = ""; });
}

function split() {
  const key = S.open;
  if (!isTheme(key)) { say("Open a theme first (j / k).", true); return; }
  const picked = Array.from(sel);
  send({ type: "split", theme: key, version: versionOf(key), comments: picked.length ? picked : null },
    picked.length ? "Split " + plural(picked.length, "comment", "comments") + " off into a new theme." :
      "Theme split in two.");
}

// The machine's offer for a published or curated theme grown into two: split
// off the comments it names, one logged step as any other split.
function takeSplitOffer() {
  const key = S.open;
  const th = S.themes.get(key);
  if (!th || !th.split_offer) return;
  send({ type: "split", theme: key, version: versionOf(key), comments: th.split_offer.comments },
    "Split " + plural(th.split_offer.comments.length, "comment", "comments") + " off into a new theme.");
}

function pin(id) {
  const key = S.open;
  if (!isTheme(key)) { say("Quotes are pinned in a theme: open one first.", true); return; }
  send({ type: "pin_quote", theme: key, comment: id, version: versionOf(key) }, "Quote pinned: the screens show it first.");
}

function mergeSelectedHere() {
  const into = S.open;
  if (!isTheme(into)) { say("Open the theme to merge into first.", true); return; }
  merge(S.order.filter(function (k) { return S.picked.has(k) && k !== into; }), into);
}

function publishLabel() {
  const n = S.order.filter(function (k) { return S.picked.has(k); }).length;
  return n ? "Publish " + plural(n, "theme", "themes") + "…" : "Publish…";
}

function noteThemePicks() {
  const n = S.picked.size;
  $("picked-note").textContent = n ? plural(n, "selected", "selected") : "";
  $("publish").textContent = publishLabel();
  const here = S.order.filter(function (k) { return S.picked.has(k) && k !== S.open; }).length;
  $("merge").textContent = here ? "Merge " + plural(here, "theme", "themes") + " here" : "Merge selected here";
}

const listHandlers = {
  open: function (key) { open(key); noteThemePicks(); },
  pick: function (key, yes) {
    if (yes) S.picked.add(key); else S.picked.delete(key);
    refreshPicks();
    noteThemePicks();
  },
};
wireList(listHandlers);

wirePane({
  act: function (act, id) {
    if (act === "pin") pin(id);
    else if (act === "move") openMove(targets(id), S.open, function (to) { move(targets(id), to); });
    else if (act === "discard") discard(targets(id));
    else if (act === "restore") send({ type: "restore", comment: id }, "Restored: it waits among those not in a theme yet.");
  },
});

wireDnd({ move: move, discard: discard, merge: function (from, into) { merge([from], into); } });

$("retheme").addEventListener("click", function () { send({ type: "retheme" }, "Re-themed."); });
$("undo").addEventListener("click", function () { send({ type: "undo" }, "Your last step was undone."); });
$("publish").addEventListener("click", function () { openPublish(publish); });
$("rename").addEventListener("click", rename);
$("use-suggestion").addEventListener("click", function () {
  const th = S.themes.get(S.open);
  if (!th || !th.suggested_label) return;
  $("rename-input").value = th.suggested_label;
  rename();
});
$("rename-input").addEventListener("keydown", function (e) {
  if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); rename(); }
});
$("split").addEventListener("click", split);
$("take-split").addEventListener("click", takeSplitOffer);
$("merge").addEventListener("click", mergeSelectedHere);
$("unpublish").addEventListener("click", function () { unpublish(S.open); });
$("move-selected").addEventListener("click", function () {
  const ids = targets(null);
  openMove(ids, S.open, function (to) { move(ids, to); });
});
$("discard-selected").addEventListener("click", function () { discard(targets(null)); });

// -- keyboard -------------------------------------------------------------------

function here() { const id = focusedId(); return id !== null ? id : activeId(); }

function stepTheme(by) {
  const keys = S.order;
  if (!keys.length) { say("No themes yet.", true); return; }
  const at = keys.indexOf(S.open);
  const next = at < 0 ? (by > 0 ? 0 : keys.length - 1) : Math.min(keys.length - 1, Math.max(0, at + by));
  open(keys[next]);
  noteThemePicks();
  focusTheme(keys[next], "open");
}

function onThemeRow() {
  const a = document.activeElement;
  const li = a && a.closest ? a.closest(".wb-side li.trow") : null;
  return li && isTheme(li.dataset.key) ? li.dataset.key : null;
}

wireKeys({
  j: function () { stepTheme(1); },
  k: function () { stepTheme(-1); },
  n: function () { open(UNASSIGNED); focusTheme(UNASSIGNED, "open"); },
  a: function () { open(ALL); focusTheme(ALL, "open"); },
  x: function () {
    const key = onThemeRow();
    if (key) { listHandlers.pick(key, !S.picked.has(key)); say(plural(S.picked.size, "theme", "themes") + " selected."); return; }
    const id = focusedId();
    if (id !== null) { toggle(id); return; }
    say("Move to a theme (j / k) or a comment (↓) first.", true);
  },
  t: function () {
    const ids = targets(sel.size ? null : here());
    if (!ids.length || S.open === DISCARDED) { say("Select comments first (x), or move to one (↓).", true); return; }
    openMove(ids, S.open, function (to) { move(ids, to); });
  },
  d: function () {
    const ids = targets(sel.size ? null : here());
    if (!ids.length || S.open === DISCARDED) { say("Select comments first (x), or move to one (↓).", true); return; }
    discard(ids);
  },
  q: function () { const id = here(); if (id !== null) pin(id); },
  r: function () { if (isTheme(S.open)) $("rename-input").focus(); else say("Open a theme first (j / k).", true); },
  s: split,
  m: mergeSelectedHere,
  p: function () { openPublish(publish); },
  u: function () { $("undo").click(); },
  "/": function () { $("filter").focus(); },
}, function arrows(e) {
  if (e.target.closest && e.target.closest(".wb-side")) return listKeys(e);
  if ((e.key === "ArrowDown" || e.key === "ArrowUp") && !e.target.closest(".wb-pane, dialog")) {
    // From anywhere else, the arrows go into the comments.
    const id = activeId();
    if (id !== null) { focusRow(id); return true; }
  }
  return false;
}, function escape(fromRename) {
  if (fromRename) { focusTheme(S.open, "open"); return; }
  if (sel.size) { clearSelection(); say("Selection cleared."); }
}, function () { $("undo").click(); });
