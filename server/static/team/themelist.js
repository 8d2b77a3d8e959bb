// The compact theme list: one row per theme (label, keywords, size, tables,
// new since I looked, on-the-screens badge, a sparkline of arrivals), plus
// the "all", "not in a theme yet" and "discarded" buckets. Rows are built once
// and updated in place; only the rows a message changed are touched.
import {
  S, ALL, UNASSIGNED, DISCARDED, idsOf, labelOf, tablesOf, arrivals, newSince,
  filtering, matchCount, plural,
} from "./model.js";
import { setHidden, setText } from "./dom.js";

const t = window.townhall;
const SVG = "http://www.w3.org/2000/svg";
const rows = new Map();  // key -> li
let on = { open: function () {}, pick: function () {} };

export function rowOf(key) { return rows.get(key); }

function span(cls, text) { return t.el("span", text, cls); }

function setBars(li, ids) {
  const d = bars(arrivals(ids));
  if (li._bars !== d) { li.querySelector("path").setAttribute("d", d); li._bars = d; }
}

function hidden(text) { return span("visually-hidden", text); }

function buildRow(key, bucket) {
  const li = t.el("li", null, bucket ? "trow bucket" : "trow");
  li.dataset.key = key;
  if (!bucket) {
    li.draggable = true;
    const pick = t.el("input", null, "pick");
    pick.type = "checkbox";
    pick.tabIndex = -1;
    pick.setAttribute("aria-keyshortcuts", "x");
    li.appendChild(pick);
  }
  const open = t.el("button", null, "open");
  open.type = "button";
  open.tabIndex = -1;
  const top = span("t-top");
  top.appendChild(span("t-label"));
  top.appendChild(span("t-new"));
  top.appendChild(span("t-match"));
  const size = span("t-size");
  size.appendChild(span("n"));
  size.appendChild(hidden(" comments"));
  top.appendChild(size);
  open.appendChild(top);
  const bottom = span("t-bottom");
  bottom.appendChild(span("t-kw"));
  const badge = span("badge on-screens", "on screens");
  badge.hidden = true;
  bottom.appendChild(badge);
  const offer = span("badge offer", "new label?");
  offer.hidden = true;
  bottom.appendChild(offer);
  const split = span("badge split-offer", "two themes?");
  split.hidden = true;
  bottom.appendChild(split);
  bottom.appendChild(span("t-tables"));
  open.appendChild(bottom);
  if (!bucket) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 48 16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.appendChild(document.createElementNS(SVG, "path"));
    bottom.appendChild(svg);
  }
  li.appendChild(open);
  rows.set(key, li);
  return li;
}

function bars(bins) {
  const most = Math.max.apply(null, bins) || 1;
  let d = "";
  bins.forEach(function (n, i) {
    if (!n) return;
    const h = Math.max(1.5, (n / most) * 16);
    d += "M" + (i * 2 + 0.2) + " 16v-" + h.toFixed(1) + "h1.6v" + h.toFixed(1) + "z";
  });
  return d;
}

// Numbers and marks of one row, from the state (cheap: called for every row per message).
function fillCounts(key) {
  const li = rows.get(key);
  if (!li) return;
  const ids = idsOf(key);
  setText(li.querySelector(".t-size .n"), t.number(ids.length));
  const fresh = key === ALL || key === DISCARDED ? 0 : newSince(key);
  const nw = li.querySelector(".t-new");
  setText(nw, fresh ? "+" + t.number(fresh) + " new" : "");
  setHidden(nw, !fresh || S.open === key);
  const m = li.querySelector(".t-match");
  if (filtering()) setText(m, t.number(matchCount(key)) + " match");
  setHidden(m, !filtering());
}

function fillTheme(key) {
  const li = rows.get(key);
  const th = S.themes.get(key);
  if (!li || !th) return;
  setText(li.querySelector(".t-label"), th.label);
  setText(li.querySelector(".t-tables"), plural(tablesOf(th.members), "table", "tables"));
  setText(li.querySelector(".t-kw"), (th.keywords || []).join(" · "));
  setHidden(li.querySelector(".badge.on-screens"), !th.published);
  const offer = li.querySelector(".badge.offer");
  setHidden(offer, !th.suggested_label);
  offer.title = th.suggested_label ? "Its comments now suggest “" + th.suggested_label + "”" : "";
  const split = li.querySelector(".badge.split-offer");
  setHidden(split, !th.split_offer);
  split.title = th.split_offer ? plural(th.split_offer.comments.length, "comment", "comments") +
    " here form a group of their own, like “" + th.split_offer.example + "”" : "";
  li.classList.toggle("is-published", !!th.published);
  li.dataset.published = th.published ? "true" : "false";
  setBars(li, th.members);
  const pick = li.querySelector("input.pick");
  pick.setAttribute("aria-label", "select theme: " + th.label);
  pick.checked = S.picked.has(key);
  li.classList.toggle("picked", pick.checked);
}

function fillBucket(key) {
  const li = rows.get(key);
  setText(li.querySelector(".t-label"), labelOf(key));
  const ids = idsOf(key);
  setText(li.querySelector(".t-tables"), key === DISCARDED ? "" : plural(tablesOf(ids), "table", "tables"));
}

// The whole list, for a new question, the first themes, or a re-sort.
export function buildList() {
  rows.clear();
  const top = document.getElementById("buckets-top");
  const list = document.getElementById("themes");
  const end = document.getElementById("buckets-end");
  t.clear(top); t.clear(list); t.clear(end);
  top.appendChild(buildRow(ALL, true));
  top.appendChild(buildRow(UNASSIGNED, true));
  end.appendChild(buildRow(DISCARDED, true));
  const frag = document.createDocumentFragment();
  S.order.forEach(function (key) { frag.appendChild(buildRow(key, false)); });
  list.appendChild(frag);
  [ALL, UNASSIGNED, DISCARDED].forEach(function (k) { fillBucket(k); fillCounts(k); });
  S.order.forEach(function (k) { fillTheme(k); fillCounts(k); });
  markOpen(S.open);
  document.getElementById("theme-count").textContent = t.number(S.order.length);
}

// After a themes message: only added, removed and changed rows are rebuilt or
// refilled; counts (cheap) are refreshed on every row.
export function updateList(diff) {
  const list = document.getElementById("themes");
  diff.removed.forEach(function (key) {
    const li = rows.get(key);
    if (li) li.remove();
    rows.delete(key);
  });
  diff.added.forEach(function (key) { list.appendChild(buildRow(key, false)); fillTheme(key); });
  diff.changed.forEach(fillTheme);
  // A new comment widens the time span every sparkline is drawn over: the others
  // are redrawn a few seconds later, once for a whole burst of messages.
  if (diff.members.length) barsSoon();
  refreshCounts();
  setText(document.getElementById("theme-count"), t.number(S.order.length));
}

let barsTimer = null;
function barsSoon() {
  if (barsTimer !== null) return;
  barsTimer = setTimeout(function () {
    barsTimer = null;
    S.order.forEach(function (key) { if (rows.has(key)) setBars(rows.get(key), S.themes.get(key).members); });
  }, 3000);
}

export function refreshCounts() {
  [ALL, UNASSIGNED, DISCARDED].forEach(function (k) { fillBucket(k); fillCounts(k); });
  S.order.forEach(fillCounts);
}

export function refreshPicks() {
  S.order.forEach(function (key) {
    const li = rows.get(key);
    const pick = li.querySelector("input.pick");
    pick.checked = S.picked.has(key);
    li.classList.toggle("picked", pick.checked);
  });
}

// The open row is marked and is the list's one Tab stop (arrows move within).
export function markOpen(key) {
  rows.forEach(function (li, k) {
    const open = li.querySelector("button.open");
    if (k === key) open.setAttribute("aria-current", "true");
    else open.removeAttribute("aria-current");
    li.classList.toggle("is-open", k === key);
  });
  const li = rows.get(key) || rows.get(ALL);
  if (li) rove(li.querySelector("button.open"));
  fillCounts(key);
}

function rove(el) {
  document.querySelectorAll(".wb-side [tabindex='0']").forEach(function (x) { if (x !== el) x.tabIndex = -1; });
  el.tabIndex = 0;
}

// Every row in list order, buckets included.
export function rowsInOrder() {
  return Array.from(document.querySelectorAll(".wb-side li.trow"));
}

export function focusRow(key, part) {
  const li = rows.get(key);
  if (!li) return;
  const el = (part === "pick" && li.querySelector("input.pick")) || li.querySelector("button.open");
  rove(el);
  el.focus();
}

// Arrow keys inside the list: up/down between rows (opening them, as a tab list
// does), left/right between a row's select box and its name.
export function listKeys(e) {
  const el = e.target;
  const li = el.closest && el.closest("li.trow");
  if (!li) return false;
  const part = el.matches("input.pick") ? "pick" : "open";
  if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Home" || e.key === "End") {
    const all = rowsInOrder();
    const at = all.indexOf(li);
    let next = e.key === "Home" ? 0 : e.key === "End" ? all.length - 1 : at + (e.key === "ArrowDown" ? 1 : -1);
    next = Math.max(0, Math.min(all.length - 1, next));
    const key = all[next].dataset.key;
    on.open(key);
    focusRow(key, part);
    return true;
  }
  if (e.key === "ArrowLeft" && part === "open" && li.querySelector("input.pick")) { focusRow(li.dataset.key, "pick"); return true; }
  if (e.key === "ArrowRight" && part === "pick") { focusRow(li.dataset.key, "open"); return true; }
  return false;
}

export function wireList(handlers) {
  on = handlers;
  const side = document.querySelector(".wb-side");
  side.addEventListener("click", function (e) {
    const open = e.target.closest("button.open");
    if (open) { const key = open.closest("li").dataset.key; on.open(key); focusRow(key, "open"); }
  });
  side.addEventListener("change", function (e) {
    if (!e.target.matches("input.pick")) return;
    const key = e.target.closest("li").dataset.key;
    on.pick(key, e.target.checked);
  });
  side.addEventListener("focusin", function (e) {
    if (e.target.matches("button.open, input.pick")) rove(e.target);
  });
}
