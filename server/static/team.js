"use strict";
// Theme-team workbench. Themes and comments are updated in place, keyed by
// theme key and comment id, never re-rendered wholesale: the page must not
// jump under a member's cursor while 500 tables type. Comment text only ever
// goes through textContent (t.el). Every op carries the theme version this
// page last saw; a refusal reloads the question's themes.
(function () {
  const t = window.townhall;
  const token = document.body.dataset.token;
  const $ = function (id) { return document.getElementById(id); };
  const comments = new Map();   // comment id -> COMMENT
  const themes = new Map();     // theme key -> THEME (as last seen)
  const boxes = new Map();      // theme key -> article element
  let event = null;
  let question = null;          // question id being curated
  const nameBox = $("member-name");
  nameBox.value = localStorage.getItem("townhall.team.name") || "";
  nameBox.addEventListener("change", function () { localStorage.setItem("townhall.team.name", nameBox.value.trim()); });

  const conn = t.connect("team", token, function (msg) {
    if (msg.type === "hello") {
      event = msg.event;
      $("event-title").textContent = event.title;
      msg.comments.forEach(function (c) { comments.set(c.id, c); });
      fillQuestions();
      renderComments();
      sync();
    } else if (msg.type === "comment") {
      comments.set(msg.comment.id, msg.comment);
      if (msg.comment.question_id === question) addComment(msg.comment, true);
      noteFacets(msg.comment);
    } else if (msg.type === "themes" && msg.question_id === question) {
      applyThemes(msg);
    } else if (msg.type === "question") {
      event.current_question = msg.question;
    }
  });

  function say(text, isError) {
    $("status").textContent = text;
    $("status").className = "wb-status" + (isError ? " error" : "");
  }

  // Send one op; acks and refusals are shown, a refusal reloads the themes.
  async function send(msg, done) {
    msg.question_id = question;
    msg.name = nameBox.value.trim();
    say("…");
    try {
      const ack = await conn.send(msg);
      say(done);
      return ack;
    } catch (e) {
      say(e.message || e.code, true);
      if (e.code === "conflict" || e.code === "not_found") sync();
      return null;
    }
  }

  async function sync() {
    if (question === null) return;
    try {
      const ack = await conn.send({ type: "sync", question_id: question });
      applyThemes(ack.themes);
    } catch (e) { say(e.message || e.code, true); }
  }

  function fillQuestions() {
    const sel = $("question");
    t.clear(sel);
    event.rounds.forEach(function (r) {
      r.questions.forEach(function (q) {
        const o = t.el("option", r.title + ": " + q.text);
        o.value = String(q.id);
        sel.appendChild(o);
      });
    });
    if (question === null) {
      const cur = event.current_question || (event.rounds[0] && event.rounds[0].questions[0]);
      question = cur ? cur.id : null;
    }
    if (question !== null) sel.value = String(question);
    const q = event.rounds.flatMap(function (r) { return r.questions; }).find(function (x) { return x.id === question; });
    $("question-text").textContent = q ? q.text : "";
  }
  $("question").addEventListener("change", function () {
    question = Number($("question").value);
    themes.clear();
    boxes.forEach(function (b) { b.remove(); });
    boxes.clear();
    fillQuestions();
    renderComments();
    sync();
  });

  // -- comments ---------------------------------------------------------

  function facet(sel, value) {
    if (!value || Array.from(sel.options).some(function (o) { return o.value === value; })) return;
    const o = t.el("option", value);
    o.value = value;
    sel.appendChild(o);
  }
  function noteFacets(c) { facet($("filter-table"), c.table); facet($("filter-site"), c.site); }

  function matches(c) {
    const f = $("filter").value.trim().toLowerCase();
    const table = $("filter-table").value;
    const site = $("filter-site").value;
    return (!f || c.text.toLowerCase().indexOf(f) >= 0 || (c.table || "").toLowerCase().indexOf(f) >= 0) &&
      (!table || c.table === table) && (!site || c.site === site);
  }
  function refilter() {
    document.querySelectorAll("li[data-id]").forEach(function (li) {
      const c = comments.get(Number(li.dataset.id));
      li.hidden = !!c && !matches(c);
    });
  }
  ["filter", "filter-table", "filter-site"].forEach(function (id) { $(id).addEventListener("input", refilter); });

  function commentLine(c, li) {
    li.dataset.id = String(c.id);
    li.appendChild(t.el("span", c.text, "text"));
    li.appendChild(t.el("span", (c.table || "") + (c.site ? " · " + c.site : "") + (c.star ? " ★" : ""), "meta"));
    li.hidden = !matches(c);
    return li;
  }

  function renderComments() {
    const list = $("comments");
    t.clear(list);
    comments.forEach(function (c) { noteFacets(c); if (c.question_id === question) addComment(c, false); });
  }
  function addComment(c, fresh) {
    const li = commentLine(c, t.el("li", null, fresh ? "comment fresh" : "comment"));
    $("comments").appendChild(li);  // appended below: nothing above moves
    if (fresh) setTimeout(function () { li.classList.add("settled"); }, 50);
    $("comment-count").textContent = String($("comments").children.length);
  }

  // -- themes -----------------------------------------------------------

  function button(text, cls, onClick) {
    const b = t.el("button", text, cls);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // A comment inside a theme or a bucket: select (for split), move, discard, pin.
  function memberItem(id, key) {
    const c = comments.get(id) || { id: id, text: "(comment " + id + ")", table: "", site: "" };
    const li = commentLine(c, t.el("li", null, "member"));
    const tools = t.el("span", null, "tools");
    if (key) {
      const sel = t.el("input", null, "sel");
      sel.type = "checkbox";
      sel.setAttribute("aria-label", "select for split");
      li.insertBefore(sel, li.firstChild);
      tools.appendChild(button("Pin quote", "pin", function () {
        const th = themes.get(key);
        send({ type: "pin_quote", theme: key, comment: id, version: th.version }, "Quote pinned.");
      }));
    }
    const move = t.el("select", null, "move-to");
    move.setAttribute("aria-label", "move to");
    move.addEventListener("focus", function () { fillMoveTargets(move, key); });
    fillMoveTargets(move, key);
    move.addEventListener("change", function () {
      if (move.value === "") return;
      const to = move.value === "_unassigned" ? null : move.value;
      const dest = to ? themes.get(to) : null;
      send({ type: "move", comment: id, to: to, version: dest ? dest.version : null }, "Comment moved.");
    });
    tools.appendChild(move);
    const reason = t.el("input", null, "reason");
    reason.placeholder = "why discard?";
    reason.setAttribute("aria-label", "reason to discard");
    tools.appendChild(reason);
    tools.appendChild(button("Discard", "discard", function () {
      const th = key ? themes.get(key) : null;
      send({ type: "discard", comment: id, reason: reason.value.trim() || "not a comment on this question",
        version: th ? th.version : null }, "Comment discarded (kept on record).");
    }));
    li.appendChild(tools);
    return li;
  }

  function fillMoveTargets(sel, from) {
    const keep = sel.value;
    t.clear(sel);
    const first = t.el("option", "Move to…");
    first.value = "";
    sel.appendChild(first);
    if (from) { const u = t.el("option", "Not in a theme"); u.value = "_unassigned"; sel.appendChild(u); }
    themes.forEach(function (th, key) {
      if (key === from) return;
      const o = t.el("option", th.label);
      o.value = key;
      sel.appendChild(o);
    });
    sel.value = keep;
  }

  // Keep one list's items in step with ids, touching only what changed.
  function syncList(list, ids, key) {
    const want = new Set(ids);
    Array.from(list.children).forEach(function (li) {
      if (want.has(Number(li.dataset.id))) return;
      const hadFocus = li.contains(document.activeElement);
      li.remove();
      if (hadFocus) list.closest("article, section").focus();  // moved or discarded: stay near
    });
    const have = new Set(Array.from(list.children).map(function (li) { return Number(li.dataset.id); }));
    ids.forEach(function (id) { if (!have.has(id)) list.appendChild(memberItem(id, key)); });
  }

  let boxCount = 0;
  function themeBox(key) {
    const art = t.el("article", null, "theme");
    art.dataset.key = key;
    art.tabIndex = -1;  // j / k and the arrows move the focus here
    const label = t.el("span", "", "label");
    label.id = "theme-label-" + (++boxCount);
    art.setAttribute("aria-labelledby", label.id);
    const head = t.el("h3");
    const pick = t.el("input", null, "pick");
    pick.type = "checkbox";
    pick.setAttribute("aria-keyshortcuts", "x");
    head.appendChild(pick);
    head.appendChild(label);
    art.appendChild(head);
    art.appendChild(t.el("p", "", "theme-meta"));
    art.appendChild(t.el("div", null, "quotes"));
    const tools = t.el("div", null, "tools");
    const name = t.el("input", null, "rename-input");
    name.setAttribute("aria-keyshortcuts", "r");
    tools.appendChild(name);
    const rename = button("Rename", "rename", function () {
      const label = name.value.trim();
      if (!label) { say("Type the new label first.", true); return; }
      send({ type: "rename", theme: key, version: themes.get(key).version, label: label }, "Renamed.")
        .then(function (ack) { if (ack) name.value = ""; });
    });
    tools.appendChild(rename);
    name.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); rename.click(); }
    });
    const split = button("Split off selected (or auto)", "split", function () {
      const picked = Array.from(art.querySelectorAll("input.sel:checked")).map(function (b) { return Number(b.closest("li").dataset.id); });
      send({ type: "split", theme: key, version: themes.get(key).version, comments: picked.length ? picked : null }, "Theme split.");
    });
    split.setAttribute("aria-keyshortcuts", "s");
    tools.appendChild(split);
    art.appendChild(tools);
    art.appendChild(t.el("ol", null, "members"));
    $("themes").appendChild(art);  // new themes go last: nothing above moves
    return art;
  }

  function applyThemes(msg) {
    const seen = new Set();
    msg.themes.forEach(function (th) {
      seen.add(th.key);
      themes.set(th.key, th);
      const art = boxes.get(th.key) || themeBox(th.key);
      boxes.set(th.key, art);
      art.querySelector(".label").textContent = th.label;
      art.querySelector("input.pick").setAttribute("aria-label", "select theme: " + th.label);
      art.querySelector(".rename-input").setAttribute("aria-label", "new label for " + th.label);
      const tables = new Set(th.members.map(function (id) { const c = comments.get(id); return c ? c.table : null; }).filter(Boolean));
      art.querySelector(".theme-meta").textContent = th.size + " comments · " + tables.size + " tables: " +
        Array.from(tables).join(", ") + " · v" + th.version;
      art.classList.toggle("is-published", !!th.published);
      art.dataset.published = th.published ? "true" : "false";
      const quotes = art.querySelector(".quotes");
      t.clear(quotes);
      th.quotes.forEach(function (q) { quotes.appendChild(t.el("blockquote", q.text)); });
      syncList(art.querySelector(".members"), th.members, th.key);
    });
    let orphans = null;  // the members of a theme that went away with the focus in it
    boxes.forEach(function (art, key) {
      if (seen.has(key)) return;
      if (art.contains(document.activeElement)) orphans = themes.get(key).members;
      art.remove(); boxes.delete(key); themes.delete(key);
    });
    syncList($("unassigned"), msg.unassigned || [], null);
    $("unassigned-count").textContent = String((msg.unassigned || []).length);
    const gone = $("discarded");
    const restoring = gone.contains(document.activeElement);
    t.clear(gone);
    (msg.discarded || []).forEach(function (d) {
      const c = comments.get(d.id);
      const li = t.el("li", null, "member");
      li.dataset.id = String(d.id);
      li.appendChild(t.el("span", c ? c.text : "(comment " + d.id + ")", "text"));
      li.appendChild(t.el("span", "reason: " + d.reason, "meta"));
      li.appendChild(button("Restore", "restore", function () { send({ type: "restore", comment: d.id }, "Restored."); }));
      gone.appendChild(li);
    });
    if (restoring) gone.closest("section").focus();
    if (orphans) { const to = heir(orphans); if (to) to.focus(); }
    $("theme-count").textContent = String(themes.size);
  }

  // Where the focus goes when its theme is merged away or re-themed: the theme
  // that now holds most of its comments (after a merge, the merged theme).
  function heir(members) {
    const had = new Set(members);
    let best = null;
    let most = -1;
    themes.forEach(function (th, key) {
      const n = th.members.filter(function (id) { return had.has(id); }).length;
      if (n > most) { most = n; best = key; }
    });
    return best === null ? null : boxes.get(best);
  }

  function picked() {
    return Array.from(document.querySelectorAll("#themes input.pick:checked")).map(function (b) { return b.closest("article").dataset.key; });
  }

  $("retheme").addEventListener("click", function () { send({ type: "retheme" }, "Re-themed."); });
  $("undo").addEventListener("click", function () { send({ type: "undo" }, "Your last step was undone."); });
  $("merge").addEventListener("click", function () {
    const keys = picked();
    if (keys.length < 2) { say("Select two or more themes to merge.", true); return; }
    const versions = {};
    keys.forEach(function (k) { versions[k] = themes.get(k).version; });
    send({ type: "merge", themes: keys.slice(1), into: keys[0], versions: versions }, "Themes merged.");
  });
  $("publish").addEventListener("click", function () {
    const keys = picked().length ? picked() : Array.from(themes.keys());
    const versions = {};
    keys.forEach(function (k) { versions[k] = themes.get(k).version; });
    send({ type: "publish", themes: versions }, "Published " + keys.length + " themes to the screens.");
  });

  // -- keyboard ---------------------------------------------------------
  // Every shortcut does what a visible control does (the list is in team.html).
  // Single keys never fire while the focus is in a text field, list or menu, and
  // the member can switch them off (WCAG 2.1.4 Character Key Shortcuts).

  const help = $("shortcuts");
  const keysOn = $("shortcuts-on");
  keysOn.checked = localStorage.getItem("townhall.team.keys") !== "off";
  keysOn.addEventListener("change", function () {
    localStorage.setItem("townhall.team.keys", keysOn.checked ? "on" : "off");
  });
  let helpOpener = null;
  function openHelp() {
    if (help.open) return;
    helpOpener = document.activeElement;
    help.showModal();
  }
  help.addEventListener("close", function () {
    if (helpOpener && helpOpener.isConnected && helpOpener !== document.body) helpOpener.focus();
    helpOpener = null;
  });
  $("shortcuts-button").addEventListener("click", openHelp);
  $("shortcuts-close").addEventListener("click", function () { help.close(); });

  const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"];
  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && NOT_TYPED.indexOf(el.type) < 0;
  }

  function focusedTheme() {
    const a = document.activeElement;
    return a && a.closest ? a.closest("#themes article.theme") : null;
  }
  function stepTheme(by) {
    const list = Array.from($("themes").querySelectorAll("article.theme"));
    if (!list.length) { say("No themes yet.", true); return; }
    const at = list.indexOf(focusedTheme());
    const next = at < 0 ? (by > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + by));
    list[next].focus();
  }
  function onTheme(act) {
    return function () {
      const art = focusedTheme();
      if (!art) { say("Move to a theme first: j or k.", true); return; }
      act(art);
    };
  }

  const KEYS = {
    j: function () { stepTheme(1); },
    k: function () { stepTheme(-1); },
    x: onTheme(function (art) {
      art.querySelector("input.pick").click();
      say(picked().length + " theme(s) selected.");
    }),
    r: onTheme(function (art) { art.querySelector(".rename-input").focus(); }),
    s: onTheme(function (art) { art.querySelector("button.split").click(); }),
    m: function () { $("merge").click(); },
    // Publishing cannot be undone, and the button with nothing selected publishes
    // every theme: one stray key must not do that.
    p: function () {
      if (!picked().length) { say("Select the themes to publish first (x).", true); return; }
      $("publish").click();
    },
    u: function () { $("undo").click(); },
    "/": function () { $("filter").focus(); },
    "?": openHelp,
  };

  document.addEventListener("keydown", function (e) {
    // No e.key: Chrome's autofill sends such keydowns.
    if (e.defaultPrevented || e.isComposing || help.open || !e.key) return;
    const el = document.activeElement;
    const inField = typing(el);
    if (e.key === "F1") { e.preventDefault(); openHelp(); return; }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "z") {
      if (inField) return;  // the field's own undo of typing
      e.preventDefault();
      $("undo").click();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && el.tagName === "INPUT" && focusedTheme()) { focusedTheme().focus(); return; }
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && el.matches("#themes article.theme")) {
      e.preventDefault();
      stepTheme(e.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (inField || !keysOn.checked) return;
    const act = KEYS[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!act) return;
    e.preventDefault();
    act();
  });
})();
