// The workbench's state, as plain data: comments, themes as last seen, where
// each comment sits, what this member has already looked at. No DOM here; the
// list and the comment pane read it and re-draw only what changed.

export const ALL = "_all";
export const UNASSIGNED = "_unassigned";
export const DISCARDED = "_discarded";
export const BUCKETS = [ALL, UNASSIGNED, DISCARDED];
const BINS = 24;  // sparkline bars, from the question's first comment to its latest

export const S = {
  event: null,
  question: null,          // question id being curated
  comments: new Map(),     // comment id -> COMMENT (+ ms: its time as a number)
  qids: [],                // the question's comment ids, ascending (arrival order)
  themes: new Map(),       // theme key -> THEME as last seen
  order: [],               // theme keys in list order
  place: new Map(),        // comment id -> theme key, UNASSIGNED or DISCARDED
  unassigned: [],
  discarded: [],
  reasons: new Map(),      // discarded comment id -> reason
  themed: false,           // a themes message came for this question
  open: ALL,               // the bucket or theme shown in the pane
  picked: new Set(),       // theme keys selected (merge, publish)
  span: [0, 0],            // ms of the question's first and latest comment
};

export function reset(questionId) {
  S.question = questionId;
  S.qids = [];
  S.themes.clear();
  S.order = [];
  S.place.clear();
  S.unassigned = [];
  S.discarded = [];
  S.reasons.clear();
  S.themed = false;
  S.open = ALL;
  S.picked.clear();
  S.span = [0, 0];
  S.comments.forEach(function (c) {
    if (c.question_id !== questionId) return;
    if (c.ms === undefined) c.ms = Date.parse(c.at) || 0;
    S.qids.push(c.id);
    if (!S.span[0] || c.ms < S.span[0]) S.span[0] = c.ms;
    if (c.ms > S.span[1]) S.span[1] = c.ms;
  });
  S.qids.sort(function (a, b) { return a - b; });
}

// A comment of the current question joins the arrival list and the time span.
export function noteArrival(c) {
  if (c.ms === undefined) c.ms = Date.parse(c.at) || 0;
  const last = S.qids.length ? S.qids[S.qids.length - 1] : 0;
  if (c.id > last) S.qids.push(c.id);
  else if (S.qids.indexOf(c.id) < 0) { S.qids.push(c.id); S.qids.sort(function (a, b) { return a - b; }); }
  if (!S.span[0] || c.ms < S.span[0]) S.span[0] = c.ms;
  if (c.ms > S.span[1]) S.span[1] = c.ms;
}

export function addComment(c) {
  S.comments.set(c.id, c);
  if (c.question_id !== S.question) return false;
  noteArrival(c);
  return true;
}

function sameIds(a, b) {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Takes a themes message; returns what changed, so the page touches only that:
// {added, removed, changed: theme keys; members: keys whose members changed;
//  unassigned, discarded: whether those buckets changed}.
export function applyThemes(msg) {
  const out = { added: [], removed: [], changed: [], members: [], unassigned: false, discarded: false };
  const seen = new Set();
  msg.themes.forEach(function (th) {
    seen.add(th.key);
    th.members.sort(function (a, b) { return a - b; });
    const was = S.themes.get(th.key);
    if (!was) {
      out.added.push(th.key);
      S.order.push(th.key);
      out.members.push(th.key);
    } else {
      const moved = !sameIds(was.members, th.members);
      if (moved) out.members.push(th.key);
      if (moved || was.label !== th.label || was.version !== th.version || was.published !== th.published ||
          (was.suggested_label || "") !== (th.suggested_label || "") ||
          JSON.stringify(was.split_offer || null) !== JSON.stringify(th.split_offer || null) ||
          (was.keywords || []).join() !== (th.keywords || []).join() || quotesKey(was) !== quotesKey(th)) {
        out.changed.push(th.key);
      }
    }
    S.themes.set(th.key, th);
  });
  S.themes.forEach(function (th, key) {
    if (!seen.has(key)) { out.removed.push(key); S.themes.delete(key); S.picked.delete(key); }
  });
  if (out.removed.length) S.order = S.order.filter(function (k) { return S.themes.has(k); });
  const unassigned = (msg.unassigned || []).slice().sort(function (a, b) { return a - b; });
  out.unassigned = !sameIds(S.unassigned, unassigned);
  S.unassigned = unassigned;
  const discarded = (msg.discarded || []).map(function (d) { return d.id; }).sort(function (a, b) { return a - b; });
  out.discarded = !sameIds(S.discarded, discarded);
  S.discarded = discarded;
  S.reasons.clear();
  (msg.discarded || []).forEach(function (d) { S.reasons.set(d.id, d.reason); });
  const place = new Map();
  S.themes.forEach(function (th, key) { th.members.forEach(function (id) { place.set(id, key); }); });
  S.unassigned.forEach(function (id) { place.set(id, UNASSIGNED); });
  S.discarded.forEach(function (id) { place.set(id, DISCARDED); });
  S.place = place;
  S.themed = true;
  return out;
}

function quotesKey(th) { return (th.quotes || []).map(function (q) { return q.id; }).join(); }

// The comment ids a bucket or theme holds, ascending.
export function idsOf(key) {
  if (key === ALL) return S.qids;
  if (key === UNASSIGNED) return S.unassigned;
  if (key === DISCARDED) return S.discarded;
  const th = S.themes.get(key);
  return th ? th.members : [];
}

export function isTheme(key) { return BUCKETS.indexOf(key) < 0 && S.themes.has(key); }

export function labelOf(key) {
  if (key === ALL) return "All comments";
  if (key === UNASSIGNED) return "Not in a theme yet";
  if (key === DISCARDED) return "Discarded";
  const th = S.themes.get(key);
  return th ? th.label : key;
}

export function tablesOf(ids) {
  const names = new Set();
  ids.forEach(function (id) { const c = S.comments.get(id); if (c && c.table) names.add(c.table); });
  return names.size;
}

// Comments per time bin over the question's span: the theme's arrivals at a glance.
export function arrivals(ids) {
  const bins = new Array(BINS).fill(0);
  const from = S.span[0];
  const width = Math.max(1, S.span[1] - from);
  ids.forEach(function (id) {
    const c = S.comments.get(id);
    if (!c) return;
    bins[Math.min(BINS - 1, Math.floor(((c.ms - from) / width) * BINS))] += 1;
  });
  return bins;
}

// -- what this member has looked at (kept across reloads, per question) --------

function seenKey() { return "townhall.team.seen." + S.question; }
let looked = null;  // {since: newest comment id when first here, keys: {theme key: newest id seen}}

export function loadLooked() {
  try { looked = JSON.parse(localStorage.getItem(seenKey()) || "null"); } catch (e) { looked = null; }
  if (!looked || typeof looked !== "object") {
    looked = { since: S.qids.length ? S.qids[S.qids.length - 1] : 0, keys: {} };
    saveLooked();
  }
}
function saveLooked() {
  try { localStorage.setItem(seenKey(), JSON.stringify(looked)); } catch (e) { /* private mode: in memory only */ }
}

// Comments that reached the theme since this member last opened it.
export function newSince(key) {
  const mark = looked.keys[key] !== undefined ? looked.keys[key] : looked.since;
  const ids = idsOf(key);
  let n = 0;
  for (let i = ids.length - 1; i >= 0 && ids[i] > mark; i--) n++;
  return n;
}
export function markLooked(key) {
  const ids = idsOf(key);
  const newest = ids.length ? ids[ids.length - 1] : 0;
  const mark = looked.keys[key] !== undefined ? looked.keys[key] : looked.since;
  if (newest <= mark) return mark;
  looked.keys[key] = newest;
  saveLooked();
  return mark;
}
export function lookedMark(key) {
  return looked.keys[key] !== undefined ? looked.keys[key] : looked.since;
}

// -- search and filters ----------------------------------------------------------

export const filter = { text: "", table: "", site: "" };

export function filtering() { return !!(filter.text || filter.table || filter.site); }

export function matches(c) {
  if (filter.table && c.table !== filter.table) return false;
  if (filter.site && c.site !== filter.site) return false;
  if (!filter.text) return true;
  if (c.lower === undefined) c.lower = c.text.toLowerCase();
  return c.lower.indexOf(filter.text) >= 0 || (c.table || "").toLowerCase().indexOf(filter.text) >= 0;
}

export function matchCount(key) {
  let n = 0;
  idsOf(key).forEach(function (id) { const c = S.comments.get(id); if (c && matches(c)) n++; });
  return n;
}

export function plural(n, one, many) { return window.townhall.number(n) + " " + (n === 1 ? one : many); }
