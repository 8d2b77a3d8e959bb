// Drag and drop (native HTML5): comments onto a theme, onto "not in a theme
// yet" or onto "discarded"; a theme onto another theme to merge it there.
// Every drop does what a keyboard command does (t, d, m): the same op.
import { S, ALL, UNASSIGNED, DISCARDED, isTheme } from "./model.js";
import { targets } from "./pane.js";

const COMMENTS = "application/x-townhall-comments";
const THEME = "application/x-townhall-theme";
let drag = null;  // {kind: "comments", ids, from} or {kind: "theme", key}
let on = { move: function () {}, discard: function () {}, merge: function () {} };

function canDrop(li) {
  if (!drag || !li) return false;
  const key = li.dataset.key;
  if (drag.kind === "theme") return isTheme(key) && key !== drag.key;
  if (key === ALL || key === drag.from) return false;
  return key === UNASSIGNED || key === DISCARDED || isTheme(key);
}

function clearMarks() {
  document.querySelectorAll(".drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
}

export function wireDnd(handlers) {
  on = handlers;
  const pane = document.getElementById("comments");
  const side = document.querySelector(".wb-side");

  pane.addEventListener("dragstart", function (e) {
    const li = e.target.closest && e.target.closest("li.crow");
    if (!li) return;
    const ids = targets(Number(li.dataset.id));
    drag = { kind: "comments", ids: ids, from: S.open === ALL ? null : S.open };
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData(COMMENTS, JSON.stringify(ids));
    // Dropped outside the page (a text editor), the comments' words go with them.
    e.dataTransfer.setData("text/plain", ids.map(function (id) {
      const c = S.comments.get(id);
      return c ? c.text : "";
    }).join("\n"));
    document.body.classList.add("dragging-comments");
  });

  side.addEventListener("dragstart", function (e) {
    const li = e.target.closest && e.target.closest("li.trow");
    if (!li || !isTheme(li.dataset.key)) return;
    drag = { kind: "theme", key: li.dataset.key };
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData(THEME, li.dataset.key);
    e.dataTransfer.setData("text/plain", S.themes.get(li.dataset.key).label);
    document.body.classList.add("dragging-theme");
  });

  document.addEventListener("dragend", function () {
    drag = null;
    clearMarks();
    document.body.classList.remove("dragging-comments", "dragging-theme");
  });

  side.addEventListener("dragover", function (e) {
    const li = e.target.closest && e.target.closest("li.trow");
    if (!canDrop(li)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!li.classList.contains("drop-here")) { clearMarks(); li.classList.add("drop-here"); }
  });
  side.addEventListener("dragleave", function (e) {
    const li = e.target.closest && e.target.closest("li.trow");
    if (li && !li.contains(e.relatedTarget)) li.classList.remove("drop-here");
  });
  side.addEventListener("drop", function (e) {
    const li = e.target.closest && e.target.closest("li.trow");
    if (!canDrop(li)) return;
    e.preventDefault();
    const key = li.dataset.key;
    const what = drag;
    drag = null;
    clearMarks();
    if (what.kind === "theme") on.merge(what.key, key);
    else if (key === DISCARDED) on.discard(what.ids);
    else on.move(what.ids, key === UNASSIGNED ? null : key);
  });
}
