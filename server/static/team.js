"use strict";
// Theme-team workbench: comments arrive live (highlighted) and the theming
// worker's themes show with their size, tables and quotes.
(function () {
  const t = window.townhall;
  const token = document.body.dataset.token;
  const list = document.getElementById("comments");
  const filter = document.getElementById("filter");
  let count = 0;
  let event = null;

  t.connect("team", token, function (msg) {
    if (msg.type === "hello") {
      event = msg.event;
      document.getElementById("event-title").textContent = event.title;
      const q = event.current_question;
      document.getElementById("question-text").textContent = q ? q.text : "";
      t.clear(list);
      count = 0;
      msg.comments.forEach(function (c) { addComment(c, false); });
      renderThemes(msg.themes);
    } else if (msg.type === "comment") {
      addComment(msg.comment, true);
    } else if (msg.type === "themes") {
      renderThemes(msg.themes);
    } else if (msg.type === "question") {
      document.getElementById("question-text").textContent = msg.question ? msg.question.text : "";
    }
  });

  function addComment(c, fresh) {
    const li = t.el("li", null, fresh ? "comment fresh" : "comment");
    li.dataset.id = String(c.id);
    li.appendChild(t.el("span", c.text, "text"));
    li.appendChild(t.el("span", (c.table || "") + (c.site ? " · " + c.site : "") + (c.star ? " ★" : ""), "meta"));
    applyFilter(li);
    list.appendChild(li);
    count += 1;
    document.getElementById("comment-count").textContent = String(count);
  }

  function applyFilter(li) {
    const f = filter.value.trim().toLowerCase();
    li.hidden = f !== "" && li.textContent.toLowerCase().indexOf(f) < 0;
  }
  filter.addEventListener("input", function () { list.querySelectorAll("li").forEach(applyFilter); });

  function renderThemes(themes) {
    const box = document.getElementById("themes");
    t.clear(box);
    themes.forEach(function (th) {
      const art = t.el("article", null, "theme");
      art.dataset.key = th.key;
      art.appendChild(t.el("h3", th.label + " · " + th.size + " comments" + (th.published ? " · published" : "")));
      th.quotes.forEach(function (q) { art.appendChild(t.el("blockquote", q.text)); });
      box.appendChild(art);
    });
  }
})();
