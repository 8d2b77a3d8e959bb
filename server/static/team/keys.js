// Keyboard shortcuts. Every one does what a visible control does (the list is
// in team.html). Single keys never fire while the focus is in a text field or
// a menu, and the member can switch them off (WCAG 2.1.4 Character Key Shortcuts).
import { anyOpen, openDialog } from "./dialogs.js";

const $ = function (id) { return document.getElementById(id); };
const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"];

export function typing(el) {
  if (!el) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && NOT_TYPED.indexOf(el.type) < 0;
}

// keys: {"j": fn, …}; arrows(e): the list's and pane's own arrow keys (true if used);
// escape(): what Esc does outside a field; undo(): Ctrl+Z.
export function wireKeys(keys, arrows, escape, undo) {
  const help = $("shortcuts");
  const keysOn = $("shortcuts-on");
  keysOn.checked = localStorage.getItem("townhall.team.keys") !== "off";
  keysOn.addEventListener("change", function () {
    localStorage.setItem("townhall.team.keys", keysOn.checked ? "on" : "off");
  });
  function openHelp() { openDialog(help, null); }
  $("shortcuts-button").addEventListener("click", openHelp);
  $("shortcuts-close").addEventListener("click", function () { help.close(); });
  keys["?"] = openHelp;

  document.addEventListener("keydown", function (e) {
    // No e.key: Chrome's autofill sends such keydowns.
    if (e.defaultPrevented || e.isComposing || !e.key || anyOpen()) return;
    const el = document.activeElement;
    const inField = typing(el);
    if (e.key === "F1") { e.preventDefault(); openHelp(); return; }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "z") {
      if (inField) return;  // the field's own undo of typing
      e.preventDefault();
      undo();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      if (inField && el.id === "rename-input") { escape(true); return; }
      if (!inField) { escape(false); return; }
    }
    if (!inField && arrows(e)) { e.preventDefault(); return; }
    if (inField || !keysOn.checked) return;
    const act = keys[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!act) return;
    e.preventDefault();
    act();
  });
}
