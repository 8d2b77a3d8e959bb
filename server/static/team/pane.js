// The comment pane: the open theme's (or bucket's) comments, one line each
// (table, words, star), in arrival order. The list is virtual: only the rows
// in view (and the focused one) are in the document, each placed at its index,
// so 5,000 comments cost what 40 do, and a message moving two comments touches
// two rows. Rows are built once per comment and kept. The focused row is the
// list's one Tab stop; its actions sit beside it and its full text below.
import {
  S, ALL, UNASSIGNED, DISCARDED, idsOf, labelOf, isTheme, matches, filtering, markLooked,
  tablesOf, plural,
} from "./model.js";
import { setText } from "./dom.js";

const t = window.townhall;
const $ = function (id) { return document.getElementById(id); };
const ROW = 32;       // px per row: .crow's height in workbench.css
const OVERSCAN = 8;   // rows built beyond the visible ones, each side
const rows = new Map();      // comment id -> li, built on first show
export const sel = new Set();  // selected comment ids, all in the open bucket
let view = [];               // ids listed (those matching the search and filters), ascending
let at = new Map();          // id -> its index in view
let anchor = null;           // where a Shift range starts
let active = null;           // the row that is the list's Tab stop
let freshMark = Infinity;    // ids above it arrived since the member last opened this theme
let on = { act: function () {} };
const list = $("comments");
const scroller = $("comments-scroll");
// The one set of row actions: it moves from row to row, so it is held here (a row
// taken out of the list takes it along, out of the document).
const tools = $("row-tools");

function hiddenText(text) { return t.el("span", text, "visually-hidden"); }

function rowFor(id) {
  let li = rows.get(id);
  if (li) return li;
  const c = S.comments.get(id) || { id: id, text: "(comment " + id + ")", table: "", site: "" };
  li = t.el("li", null, "crow");
  li.dataset.id = String(id);
  li.draggable = true;
  const label = t.el("label", null, "c-main");
  const box = t.el("input", null, "sel");
  box.type = "checkbox";
  box.tabIndex = -1;
  label.appendChild(box);
  label.appendChild(t.el("span", c.table || "", "c-table"));
  label.appendChild(t.el("span", c.text, "c-text"));
  if (c.star) {
    const star = t.el("span", "★", "c-star");
    star.appendChild(hiddenText(" starred by the table"));
    label.appendChild(star);
  }
  label.appendChild(t.el("span", "", "c-where"));
  li.appendChild(label);
  rows.set(id, li);
  return li;
}

function whereText(id) {
  const where = S.place.get(id);
  if (!where) return S.themed ? "arriving…" : "";
  return where === UNASSIGNED ? "not in a theme" : where === DISCARDED ? "discarded" : labelOf(where);
}

// A row's marks and place; only what differs is written (a message that moves two
// comments must not restyle the forty rows in view).
function fillRow(li, id) {
  const fresh = id > freshMark;
  if (li._fresh !== fresh) { li.classList.toggle("is-new", fresh); li._fresh = fresh; }
  const picked = sel.has(id);
  if (li._picked !== picked) {
    li.classList.toggle("selected", picked);
    li.firstChild.firstChild.checked = picked;
    li._picked = picked;
  }
  const i = at.get(id);
  if (li._i !== i) {
    li.setAttribute("aria-posinset", String(i + 1));
    li.style.transform = "translateY(" + i * ROW + "px)";
    li._i = i;
  }
  if (li._n !== view.length) { li.setAttribute("aria-setsize", String(view.length)); li._n = view.length; }
  if (S.open === ALL) {
    const where = whereText(id);
    if (li._where !== where) { li.querySelector(".c-where").textContent = where; li._where = where; }
  }
}

// -- the window ---------------------------------------------------------------------

// Puts in the document exactly the rows in view (plus the active one), each at its place.
function draw() {
  const top = scroller.scrollTop;
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(view.length - 1, Math.ceil((top + scroller.clientHeight) / ROW) + OVERSCAN);
  const want = new Set();
  for (let i = first; i <= last; i++) want.add(view[i]);
  if (active !== null && at.has(active)) want.add(active);
  Array.from(list.children).forEach(function (li) {
    if (!want.has(Number(li.dataset.id))) li.remove();
  });
  want.forEach(function (id) {
    const li = rowFor(id);
    fillRow(li, id);
    if (li.parentNode !== list) list.appendChild(li);
  });
}

let drawing = false;
function drawSoon() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(function () { drawing = false; draw(); });
}

// The listed ids after a change; keeps the rows on screen where they were when
// comments come or go above them (nothing jumps under the member's eyes).
function relist(ids) {
  const topIndex = view.length ? Math.floor(scroller.scrollTop / ROW) : 0;
  const topId = view.length ? view[Math.min(topIndex, view.length - 1)] : null;
  view = filtering() ? ids.filter(function (id) { const c = S.comments.get(id); return !c || matches(c); }) : ids.slice();
  at = new Map();
  view.forEach(function (id, i) { at.set(id, i); });
  list.style.height = view.length * ROW + "px";
  if (topId !== null && at.has(topId) && topIndex > 0) {
    const shift = at.get(topId) - topIndex;
    if (shift) scroller.scrollTop += shift * ROW;
  }
}

function fillHead() {
  const key = S.open;
  const ids = idsOf(key);
  const th = isTheme(key) ? S.themes.get(key) : null;
  setText($("pane-label"), labelOf(key));
  $("pane-badge").hidden = !(th && th.published);
  const bits = [plural(ids.length, "comment", "comments"), plural(tablesOf(ids), "table", "tables")];
  if (th && th.keywords && th.keywords.length) bits.push("keywords: " + th.keywords.join(", "));
  setText($("pane-meta"), bits.join(" · "));
  $("theme-tools").hidden = !th;
  const offer = th && th.suggested_label ? th.suggested_label : "";
  setText($("suggest-text"), offer);
  $("pane-suggest").hidden = !offer;
  const split = th && th.split_offer ? th.split_offer : null;
  setText($("split-count"), split ? plural(split.comments.length, "comment", "comments") : "");
  setText($("split-example"), split ? split.example : "");
  $("pane-split").hidden = !split;
  $("unpublish").hidden = !(th && th.published);
  const quotes = $("pane-quotes");
  const shownQuotes = th ? th.quotes.map(function (q) { return q.id + ":" + q.text; }).join("\n") : "";
  if (quotes._shown !== shownQuotes) {
    quotes._shown = shownQuotes;
    t.clear(quotes);
    if (th) th.quotes.forEach(function (q) {
      const li = t.el("li", null, "quote");
      li.appendChild(t.el("span", q.text, "q-text"));
      li.title = q.text;
      quotes.appendChild(li);
    });
  }
  quotes.hidden = !th || !th.quotes.length;
  list.classList.toggle("all", key === ALL);
  tools.querySelector("[data-act=pin]").hidden = !th;
  tools.querySelector("[data-act=move]").hidden = key === DISCARDED;
  tools.querySelector("[data-act=discard]").hidden = key === DISCARDED;
  tools.querySelector("[data-act=restore]").hidden = key !== DISCARDED;
}

function fillCount() {
  const total = idsOf(S.open).length;
  setText($("pane-count"), filtering() ? t.number(view.length) + " of " +
    plural(total, "comment", "comments") + " match" : plural(total, "comment", "comments"));
  const empty = $("pane-empty");
  empty.hidden = view.length > 0;
  empty.textContent = total && filtering() ? "No comment here matches the search or filters." :
    S.open === UNASSIGNED ? "Every comment is in a theme." :
      S.open === DISCARDED ? "Nothing discarded." : "No comments here yet.";
}

function noteSelection() {
  const n = sel.size;
  $("selection-note").textContent = n ? plural(n, "comment", "comments") + " selected" : "";
  $("move-selected").hidden = !n || S.open === DISCARDED;
  $("discard-selected").hidden = !n || S.open === DISCARDED;
  $("clear-selection").hidden = !n;
}

// The focused (or pointed-at) comment in full, below the list.
function preview(id) {
  const box = $("preview");
  const c = id === null ? null : S.comments.get(id);
  if (!c) { box.hidden = true; return; }
  box.hidden = false;
  $("preview-text").textContent = c.text;
  const when = c.ms ? new Date(c.ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  $("preview-meta").textContent = [c.table, c.site, when, S.open === ALL ? whereText(id) : ""]
    .filter(Boolean).join(" · ");
}

// -- opening and updating ---------------------------------------------------------

// Before the first themes of a question: nothing listed yet.
export function wait(text) {
  S.open = ALL;
  list.dataset.bucket = "";
  view = [];
  at = new Map();
  list.replaceChildren();
  list.style.height = "0px";
  active = null;
  $("pane-label").textContent = text;
  $("pane-meta").textContent = "";
  $("pane-count").textContent = "";
  $("theme-tools").hidden = true;
  $("pane-suggest").hidden = true;
  $("pane-quotes").hidden = true;
  $("pane-badge").hidden = true;
  $("pane-empty").hidden = true;
  preview(null);
}

export function waiting() { return list.dataset.bucket === ""; }

// Opens a bucket or theme at its top.
export function show(key) {
  S.open = key;
  list.dataset.bucket = key;
  sel.clear();
  anchor = null;
  freshMark = key === ALL || key === DISCARDED ? Infinity : markLooked(key);
  list.replaceChildren();
  view = [];
  // Everything written before the first layout is read (scrollTop, clientHeight):
  // one layout of the page, not two.
  fillHead();
  preview(null);
  relist(idsOf(key));
  active = view.length ? view[0] : null;
  fillCount();
  noteSelection();
  scroller.scrollTop = 0;
  draw();
  setActive(active);
}

// After a message: the list is recomputed (cheap), the rows in view re-placed.
export function update(headToo) {
  const key = S.open;
  if (isTheme(key) || key === UNASSIGNED) markLooked(key);
  const before = view;
  const focused = focusedId();
  relist(idsOf(key));
  sel.forEach(function (id) { if (!at.has(id)) sel.delete(id); });
  if (active !== null && !at.has(active)) {
    active = nearest(before, active);
    draw();
    setActive(active);
    if (focused !== null && active !== null) focusRow(active);
  } else {
    if (active === null && view.length) active = view[0];
    draw();
    setActive(active);
  }
  if (headToo) fillHead();
  fillCount();
  noteSelection();
}

function nearest(before, id) {
  const i = before.indexOf(id);
  for (let j = i + 1; j < before.length; j++) if (at.has(before[j])) return before[j];
  for (let j = i - 1; j >= 0; j--) if (at.has(before[j])) return before[j];
  return null;
}

// Search or filters changed: the list is what matches.
export function refilter() {
  relist(idsOf(S.open));
  sel.forEach(function (id) { if (!at.has(id)) sel.delete(id); });
  if (active !== null && !at.has(active)) active = view.length ? view[0] : null;
  draw();
  setActive(active);
  fillCount();
  noteSelection();
}

export function refreshHead() { fillHead(); }

// -- focus and selection ------------------------------------------------------------

function boxOf(id) { const li = rows.get(id); return li ? li.firstChild.firstChild : null; }

function setActive(id) {
  list.querySelectorAll("input.sel[tabindex='0']").forEach(function (b) { b.tabIndex = -1; });
  active = id;
  if (id !== null && boxOf(id)) boxOf(id).tabIndex = 0;
}

// Scrolls the row into view, puts it in the document and gives it the focus.
export function focusRow(id) {
  const i = at.get(id);
  if (i === undefined) return;
  const top = i * ROW;
  if (top < scroller.scrollTop) scroller.scrollTop = top;
  else if (top + ROW > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + ROW - scroller.clientHeight;
  active = id;
  draw();
  setActive(id);
  boxOf(id).focus({ preventScroll: true });
}

export function focusedId() {
  const a = document.activeElement;
  const li = a && a.closest ? a.closest("#comments li.crow") : null;
  return li ? Number(li.dataset.id) : null;
}

export function activeId() { return active; }

function select(id, yes) {
  if (yes) sel.add(id); else sel.delete(id);
  const li = rows.get(id);
  if (li && li.parentNode === list) {
    li.classList.toggle("selected", yes);
    li.firstChild.firstChild.checked = yes;
    li._picked = yes;
  }
}

export function clearSelection() {
  Array.from(sel).forEach(function (id) { select(id, false); });
  noteSelection();
}

function ascending(ids) { return ids.sort(function (a, b) { return a - b; }); }

// What an action applies to: the selection if it holds this row (or no row is
// given), else the row alone.
export function targets(id) {
  if (id === null || id === undefined || sel.has(id)) return ascending(Array.from(sel));
  return [id];
}

export function toggle(id) {
  select(id, !sel.has(id));
  anchor = id;
  noteSelection();
}

function range(from, to) {
  const a = at.get(from);
  const b = at.get(to);
  if (a === undefined || b === undefined) return [to];
  return view.slice(Math.min(a, b), Math.max(a, b) + 1);
}

function onKey(e) {
  const id = focusedId();
  if (id === null || e.altKey || e.ctrlKey || e.metaKey || !e.target.matches("input.sel")) return;
  const i = at.get(id);
  const page = Math.max(1, Math.floor(scroller.clientHeight / ROW) - 1);
  const step = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page }[e.key];
  let next;
  if (step !== undefined) next = view[Math.max(0, Math.min(view.length - 1, i + step))];
  else if (e.key === "Home") next = view[0];
  else if (e.key === "End") next = view[view.length - 1];
  else return;
  e.preventDefault();
  if (next === undefined || next === id) return;
  if (e.shiftKey) {
    if (anchor === null) anchor = id;
    range(anchor, next).forEach(function (x) { select(x, true); });
    noteSelection();
  }
  focusRow(next);
}

function onClick(e) {
  const li = e.target.closest("li.crow");
  if (!li || tools.contains(e.target)) return;
  const id = Number(li.dataset.id);
  if (e.shiftKey && anchor !== null) {
    e.preventDefault();  // the box would toggle too
    range(anchor, id).forEach(function (x) { select(x, true); });
    noteSelection();
    focusRow(id);
  }
}

function onChange(e) {
  if (!e.target.matches("input.sel")) return;
  const id = Number(e.target.closest("li").dataset.id);
  select(id, e.target.checked);
  anchor = id;
  setActive(id);
  noteSelection();
}

export function wirePane(handlers) {
  on = handlers;
  scroller.addEventListener("scroll", drawSoon, { passive: true });
  window.addEventListener("resize", drawSoon);
  list.addEventListener("keydown", onKey);
  list.addEventListener("click", onClick);
  list.addEventListener("change", onChange);
  list.addEventListener("focusin", function (e) {
    const li = e.target.closest("li.crow");
    if (!li) return;
    if (tools.parentNode !== li) li.appendChild(tools);
    if (e.target.matches("input.sel")) setActive(Number(li.dataset.id));
    preview(Number(li.dataset.id));
  });
  list.addEventListener("pointerover", function (e) {
    const li = e.target.closest("li.crow");
    if (!li || tools.contains(document.activeElement)) return;
    if (tools.parentNode !== li) li.appendChild(tools);
    preview(Number(li.dataset.id));
  });
  tools.addEventListener("click", function (e) {
    const b = e.target.closest("button[data-act]");
    const li = b && b.closest("li.crow");
    if (li) on.act(b.dataset.act, Number(li.dataset.id));
  });
  $("clear-selection").addEventListener("click", function () {
    clearSelection();
    if (active !== null) focusRow(active);
  });
}
