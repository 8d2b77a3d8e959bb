"use strict";
// Traceability view: the page is rendered (and escaped) on the server; this
// shows times in the reader's own clock and filters comments by text, table
// or site as you type (a theme with no match is hidden, and so is its entry
// in the contents).
(function () {
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    const at = new Date(el.getAttribute("datetime"));
    if (!isNaN(at)) el.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  });
  const box = document.getElementById("trace-filter");
  if (!box) return;
  const found = document.getElementById("trace-found");
  const themes = Array.from(document.querySelectorAll(".trace-theme"));
  box.addEventListener("input", function () {
    const f = box.value.trim().toLowerCase();
    let rows = 0;
    let shown = 0;
    themes.forEach(function (th) {
      let hits = 0;
      th.querySelectorAll(".trace-comment").forEach(function (tr) {
        const hit = f === "" || tr.textContent.toLowerCase().indexOf(f) >= 0;
        tr.hidden = !hit;
        if (hit) hits += 1;
      });
      const keep = f === "" || hits > 0 || th.querySelector(".trace-label").textContent.toLowerCase().indexOf(f) >= 0;
      th.hidden = !keep;
      const entry = document.querySelector('.trace-toc a[href="#' + th.id + '"]');
      if (entry) entry.closest("li").hidden = !keep;
      rows += hits;
      if (keep) shown += 1;
    });
    found.textContent = f === "" ? "" : rows + (rows === 1 ? " comment" : " comments") + " in " +
      shown + (shown === 1 ? " theme" : " themes");
  });
})();
