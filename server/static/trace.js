"use strict";
// Traceability view: the page is rendered (and escaped) on the server; this
// only filters comments by text, table or site as you type.
(function () {
  const box = document.getElementById("trace-filter");
  if (!box) return;
  box.addEventListener("input", function () {
    const f = box.value.trim().toLowerCase();
    document.querySelectorAll(".trace-comment").forEach(function (li) {
      li.hidden = f !== "" && li.textContent.toLowerCase().indexOf(f) < 0;
    });
  });
})();
