// Facilitator page: the same guarantee as the terminal client.
// A comment is written to IndexedDB before it is sent, stays "waiting" until
// the server's ack (sent only after commit), and is resent in seq order on
// every reconnect. The server dedupes by uuid, so resending is always safe.
// "queued" means never on the wire: a comment is marked "sent" before the write.
// Comment text is only ever put in the page with textContent.
"use strict";

(() => {
  const WINDOW = 50; // max comments in flight
  const BACKOFF_BASE = 500; // ms; full jitter, capped
  const BACKOFF_CAP = 10000;
  const MAX_TEXT = 2000;
  const GIVE_UP_CODES = new Set([1008, 4001]); // bad token / wrong role; token revoked
  // "Not now" rather than "never": keep waiting, reconnect, resend in order.
  const TRANSIENT = new Set(["server_error", "rate_limited", "conflict"]);

  const body = document.body;
  const token = body.dataset.token || "";
  const wsBase = body.dataset.wsUrl || defaultWsUrl();
  const $ = (id) => document.getElementById(id);

  let db = null;
  let tableKey = "";
  let ws = null;
  let connected = false;
  let refused = false;
  let attempt = 0;
  let strikes = 0; // consecutive transient refusals, reset by an ack
  let retryTimer = null;
  let question = null;
  // After a hello, until the server has answered for the doubtful comments:
  // { sock, lastSeq, queue (not yet resent), unanswered (uuids) }.
  let settling = null;
  let cursor = 0; // highest seq written on this connection
  let pumping = false;
  let pumpAgain = false;
  let inbox = Promise.resolve();
  const inFlight = new Set();
  const starsSent = new Set();
  const comments = new Map(); // uuid -> record (a cache of the IndexedDB rows)
  const questionTexts = new Map(); // question id -> text (the agenda, from the hello)
  let grouping = 0; // a regroup of the list by question waits for the next frame
  const rows = new Map(); // uuid -> <li>

  function defaultWsUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/table`;
  }

  // crypto.randomUUID / crypto.subtle need a secure context; venue servers
  // are often plain http on a LAN address, so build both from getRandomValues.
  function uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Key rows by a hash of URL + token so the raw token is not stored.
  function keyFor(text) {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 16777619) >>> 0;
      h2 = Math.imul(h2 ^ c, 2246822519) >>> 0;
    }
    return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
  }

  // ---- IndexedDB ----------------------------------------------------------

  function req(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  function openDb() {
    const open = indexedDB.open("townhall-table", 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      d.createObjectStore("tables", { keyPath: "tableKey" });
      const s = d.createObjectStore("comments", { keyPath: "uuid" });
      s.createIndex("byTable", "tableKey");
    };
    return req(open);
  }

  // Run fn(stores) in one readwrite transaction; resolve once committed.
  // "strict" (flushed to disk) for what the facilitator typed; bookkeeping
  // such as acks is relaxed: losing one only costs a harmless resend.
  function write(fn, durability = "relaxed") {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(["tables", "comments"], "readwrite", { durability });
      let result;
      Promise.resolve(fn(tx.objectStore("tables"), tx.objectStore("comments")))
        .then((r) => { result = r; })
        .catch((e) => {
          try { tx.abort(); } catch { /* already finished */ }
          reject(e);
        });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    });
  }

  async function tableRow(tables) {
    return (await req(tables.get(tableKey))) || { tableKey, nextSeq: 1, hello: null };
  }

  async function save(record, durability = "relaxed") {
    await write((_t, store) => req(store.put(record)), durability);
    comments.set(record.uuid, record);
    render(record);
    showStatus();
  }

  // ---- writes from the facilitator ---------------------------------------

  async function submit(text) {
    text = text.trim();
    if (!text) throw new Error("The comment is empty.");
    if (text.length > MAX_TEXT) throw new Error(`Comments are limited to ${MAX_TEXT} characters.`);
    const record = await write(async (tables, store) => {
      const t = await tableRow(tables);
      const r = {
        uuid: uuid4(), tableKey, seq: t.nextSeq, text,
        question_id: question ? question.id : null,
        star: false, star_initial: false, star_server: null, star_op: null, star_op_value: null,
        created_at: new Date().toISOString(), state: "queued", comment_id: null, error: null,
      };
      t.nextSeq += 1;
      await req(tables.put(t));
      await req(store.put(r));
      return r;
    }, "strict");
    comments.set(record.uuid, record);
    render(record, true);
    showStatus();
    pump();
  }

  async function toggleStar(uuid) {
    // Read in the transaction, not from the cache: pump may be marking it sent.
    const r = await write(async (_t, store) => {
      const row = await req(store.get(uuid));
      row.star = !row.star;
      if (row.state === "queued") row.star_initial = row.star; // not on the wire yet: it rides along
      await req(store.put(row));
      return row;
    }, "strict");
    comments.set(uuid, r);
    render(r);
    showStatus();
    pump();
  }

  // ---- the connection ----------------------------------------------------

  function connect() {
    if (refused || ws) return;
    clearTimeout(retryTimer);
    showStatus("connecting");
    const sock = new WebSocket(`${wsBase}?token=${encodeURIComponent(token)}`);
    ws = sock;
    sock.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      // One message at a time, in arrival order, even though saving is async.
      inbox = inbox.then(() => handle(msg, sock)).catch((err) => console.error("townhall:", err));
    };
    sock.onclose = (e) => {
      ws = null;
      connected = false;
      settling = null;
      if (GIVE_UP_CODES.has(e.code)) {
        refused = true;
        showStatus();
        return;
      }
      const step = Math.max(attempt, strikes);
      const delay = Math.random() * Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** step);
      attempt = Math.min(attempt + 1, 30);
      retryTimer = setTimeout(connect, delay);
      showStatus();
    };
  }

  async function handle(msg, sock) {
    if (msg.type === "hello") return onHello(msg, sock);
    if (msg.type === "question") return showQuestion(msg.question);
    if (msg.type === "table_comment") return adopt([msg.comment], sock);
    const asked = settling !== null && settling.sock === sock && settling.unanswered.delete(msg.id);
    if (asked && msg.type === "error" && msg.code === "conflict") {
      // Its number went to another device: it waits to be renumbered. No resync.
    } else if (msg.type === "ack") {
      await onAck(msg);
    } else if (msg.type === "error") {
      await onError(msg);
    }
    if (asked) await settle();
  }

  async function onHello(hello, sock) {
    if (sock !== ws) return; // from a socket already closed
    await write(async (tables) => {
      const t = await tableRow(tables);
      t.hello = hello;
      await req(tables.put(t));
    });
    if (sock !== ws) return;
    showHello(hello);
    await adopt(hello.comments);
    if (sock !== ws) return;
    attempt = 0;
    cursor = 0;
    inFlight.clear();
    starsSent.clear();
    // A sent comment at or below last_seq was either stored before the link
    // lost its ack, or its number went to another device. Only the server
    // knows which (it looks up ids before seqs), so ask before renumbering:
    // a stored one given a new number is acked at its old one, and the new
    // number is never used, a gap before the comments that follow it. A
    // queued comment was never on the wire, so it needs no question.
    const lastSeq = Number(hello.last_seq) || 0;
    const queue = sortedWaiting().filter((c) => c.state === "sent" && c.seq <= lastSeq);
    settling = { sock, lastSeq, queue, unanswered: new Set() };
    showStatus();
    await settle();
  }

  // The table's comments the server holds: those typed on another device (or
  // before this browser's storage was cleared) join the list as sent, so the
  // list is the table's and any of them can be starred here; one this device
  // sent whose ack was lost is sent, not doubtful; a star changed elsewhere
  // shows, unless this device has its own change on the way. Pushed while
  // connected (``sock``: another laptop of the table just sent it), a new one
  // moves this device's numbering past it, so what is typed next is not
  // refused for a number already taken.
  async function adopt(list, sock = null) {
    if (!Array.isArray(list) || !list.length) return;
    if (sock !== null && sock !== ws) return;
    const changed = await write(async (tables, store) => {
      const out = [];
      let top = 0;
      for (const s of list) {
        const row = await req(store.get(s.id));
        const star = Boolean(s.star);
        let r = null;
        if (!row) {
          r = { uuid: s.id, tableKey, seq: s.seq, text: s.text, question_id: s.question_id ?? null,
            star, star_initial: star, star_server: star, star_op: null, star_op_value: null,
            created_at: null, state: "acked", comment_id: s.comment_id ?? null, error: null,
            elsewhere: true };
          top = Math.max(top, Number(s.seq) || 0);
        } else if (row.tableKey !== tableKey) {
          continue;
        } else if (row.state === "sent") {
          r = { ...row, seq: s.seq, state: "acked", comment_id: s.comment_id ?? null,
            star_server: star };
        } else if (row.state === "acked" && row.star === row.star_server && row.star_server !== star) {
          r = { ...row, star, star_server: star };
        }
        if (r) { await req(store.put(r)); out.push(r); }
      }
      if (sock !== null && top) {
        const t = await tableRow(tables);
        if (t.nextSeq <= top) { t.nextSeq = top + 1; await req(tables.put(t)); }
      }
      return out;
    });
    for (const r of changed) { comments.set(r.uuid, r); render(r); }
    if (sock !== null && changed.length) showStatus();
  }

  // Resend the doubtful comments alone, within the window; once each has its
  // answer, renumber what still waits and send as usual.
  async function settle() {
    const s = settling;
    if (!s || s.sock !== ws || s.sock.readyState !== WebSocket.OPEN) return;
    while (s.queue.length && s.unanswered.size < WINDOW) {
      const c = comments.get(s.queue.shift().uuid);
      if (!c || c.state !== "sent") continue;
      s.sock.send(commentMessage(c));
      s.unanswered.add(c.uuid);
    }
    if (s.queue.length || s.unanswered.size) return;
    settling = null;
    const renumbered = await renumberAfter(s.lastSeq);
    for (const r of renumbered) { comments.set(r.uuid, r); render(r); }
    if (s.sock !== ws) return;
    connected = true;
    showStatus();
    pump();
  }

  async function renumberAfter(lastSeq) {
    return write(async (tables, store) => {
      const t = await tableRow(tables);
      const changed = [];
      const waiting = sortedWaiting();
      if (lastSeq >= t.nextSeq || (waiting.length && waiting[0].seq <= lastSeq)) {
        // The server refuses a new comment whose seq is not above last_seq.
        // Its numbers are ahead of ours (storage wiped, or another device on
        // this table took ours: every doubtful one still waiting was answered
        // conflict): move every waiting comment after it, in typed order.
        let top = lastSeq;
        for (const c of comments.values()) if (!waiting.includes(c)) top = Math.max(top, c.seq);
        let next = top + 1;
        for (const r of waiting) {
          const moved = { ...r, seq: next++ };
          await req(store.put(moved));
          changed.push(moved);
        }
        t.nextSeq = Math.max(t.nextSeq, next);
      }
      await req(tables.put(t));
      return changed;
    }, "strict");
  }

  async function onAck(msg) {
    inFlight.delete(msg.id);
    strikes = 0;
    const r = comments.get(msg.id);
    if (r && (r.state === "queued" || r.state === "sent")) {
      await save({ ...r, state: "acked", comment_id: msg.comment_id ?? null, error: null,
        star_server: r.star_initial });
    } else {
      const s = [...comments.values()].find((c) => c.star_op === msg.id);
      if (s) await save({ ...s, star_server: s.star_op_value, star_op: null });
    }
    pump();
  }

  async function onError(msg) {
    inFlight.delete(msg.id);
    const text = msg.message || msg.code || "error";
    const r = comments.get(msg.id);
    const ours = r || [...comments.values()].some((c) => c.star_op === msg.id);
    if (ours && TRANSIENT.has(msg.code)) {
      strikes += 1; // grows the reconnect delay until an ack comes back
      if (ws) ws.close(4000, "resync");
      return;
    }
    if (r && (r.state === "queued" || r.state === "sent")) {
      await save({ ...r, state: "refused", error: text });
    } else {
      const s = [...comments.values()].find((c) => c.star_op === msg.id);
      if (s) await save({ ...s, star: s.star_server, star_op: null, error: `star refused: ${text}` });
    }
    pump();
  }

  function commentMessage(c) {
    return JSON.stringify({ type: "comment", id: c.uuid, seq: c.seq, text: c.text,
      question_id: c.question_id, star: c.star_initial });
  }

  // Marked before the first write: a link cut mid-batch may deliver some, and
  // a comment still "queued" must be one the server cannot hold. Returns the
  // batch as stored, which is what goes on the wire.
  async function markSent(batch) {
    const stored = await write(async (_t, store) => {
      const out = [];
      for (const c of batch) {
        const row = await req(store.get(c.uuid));
        if (!row) continue;
        if (row.state === "queued") {
          row.state = "sent";
          await req(store.put(row));
        }
        out.push(row);
      }
      return out;
    });
    for (const r of stored) { comments.set(r.uuid, r); render(r); }
    showStatus();
    return stored.filter((r) => r.state === "sent");
  }

  function sortedWaiting() {
    return [...comments.values()]
      .filter((c) => c.state === "queued" || c.state === "sent")
      .sort((a, b) => a.seq - b.seq);
  }

  // Send what is waiting, in seq order, within the window. One pump at a time.
  async function pump() {
    if (pumping) { pumpAgain = true; return; }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        if (!connected || !ws || ws.readyState !== WebSocket.OPEN) return;
        const sock = ws;
        const room = WINDOW - inFlight.size;
        const batch = sortedWaiting().filter((c) => c.seq > cursor).slice(0, Math.max(room, 0));
        const ready = batch.length ? await markSent(batch) : [];
        if (!connected || ws !== sock || sock.readyState !== WebSocket.OPEN) continue;
        for (const c of ready) {
          sock.send(commentMessage(c));
          inFlight.add(c.uuid);
        }
        if (batch.length) cursor = batch[batch.length - 1].seq;
        for (const c of [...comments.values()]) {
          if (c.state !== "acked" || c.star === c.star_server) continue;
          let r = c;
          if (!r.star_op || r.star_op_value !== r.star) {
            r = { ...r, star_op: uuid4(), star_op_value: r.star };
            await save(r);
          }
          if (!starsSent.has(r.star_op) && ws === sock && sock.readyState === WebSocket.OPEN) {
            starsSent.add(r.star_op);
            sock.send(JSON.stringify({ type: "star", id: r.star_op, comment: r.uuid, star: r.star_op_value }));
          }
        }
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
  }

  // ---- drawing -----------------------------------------------------------

  function waitingCount() {
    let n = 0;
    for (const c of comments.values()) {
      if (c.state === "queued" || c.state === "sent") n++;
      else if (c.state === "acked" && c.star !== c.star_server) n++;
    }
    return n;
  }

  function showStatus(phase) {
    const el = $("status");
    const n = waitingCount();
    let text;
    let cls;
    if (refused) {
      text = "✖ token refused — ask the organisers for a new link";
      cls = "refused";
    } else if (connected) {
      text = n ? `● connected — sending ${n}` : "● connected — all sent";
      cls = "connected";
    } else {
      const word = phase === "connecting" || settling ? "connecting" : "offline";
      text = n ? `○ ${word} — ${n} waiting` : `○ ${word}`;
      cls = "offline";
    }
    el.textContent = text;
    el.className = `status ${cls}`;
  }

  function showQuestion(q) {
    question = q || null;
    let text = "No question is open right now — comments are still saved.";
    // round is the round's title ("What we value about Riverton"), not a number.
    if (question) text = question.round ? `${question.round} — ${question.text}` : question.text;
    $("question").textContent = text;
    if (question) questionTexts.set(question.id, question.text);
    groupByQuestion();
  }

  // The list holds every question's comments, oldest first: once it holds more than
  // one question's, each run of a question opens with its text, and the earlier
  // questions' comments are muted, so the facilitator reads this question's at a glance.
  function groupByQuestion() {
    if (!grouping) grouping = requestAnimationFrame(regroup);
  }
  function regroup() {
    grouping = 0;
    const rowsInOrder = [...$("comments").children];
    const asked = (li) => comments.get(li.dataset.uuid)?.question_id ?? null;
    const several = new Set(rowsInOrder.map(asked)).size > 1;
    let previous;
    for (const li of rowsInOrder) {
      const qid = asked(li);
      const now = question !== null && qid === question.id;
      li.classList.toggle("earlier", several && !now);
      let head = li.querySelector(".qhead");
      if (!several || qid === previous) {
        if (head) head.remove();
      } else {
        if (!head) {
          head = document.createElement("p");
          head.className = "qhead";
          li.prepend(head);
        }
        const text = qid === null ? "Sent while no question was open" : questionTexts.get(qid) || "An earlier question";
        head.textContent = `${now ? "This question" : "Earlier question"}: ${text}`;
      }
      previous = qid;
    }
  }

  function showHello(hello) {
    const table = hello.table || {};
    $("event-title").textContent = (hello.event && hello.event.title) || "townhall";
    $("table-name").textContent = table.site ? `${table.name} (${table.site})` : table.name || "";
    for (const q of hello.questions || []) questionTexts.set(q.id, q.text);
    showQuestion(hello.question);
  }

  function stateText(c) {
    if (c.state === "acked") return [c.elsewhere ? "sent ✓ (other device)" : "sent ✓", "acked"];
    if (c.state === "refused") return [`refused: ${c.error || "no reason given"}`, "refused"];
    return ["waiting", "waiting"];
  }

  function render(c, scroll = false) {
    let li = rows.get(c.uuid);
    if (!li) {
      li = document.createElement("li");
      li.dataset.uuid = c.uuid;
      for (const part of ["seq", "text", "state"]) {
        const span = document.createElement("span");
        span.className = part;
        li.append(span);
      }
      const star = document.createElement("button");
      star.type = "button";
      star.className = "star";
      star.addEventListener("click", () => toggleStar(c.uuid).catch(reportError));
      li.append(star);
      rows.set(c.uuid, li);
    }
    if (li.dataset.seq !== String(c.seq)) place(li, c.seq);
    const [label, cls] = stateText(c);
    li.querySelector(".seq").textContent = String(c.seq);
    li.querySelector(".text").textContent = c.text;
    const state = li.querySelector(".state");
    state.textContent = label;
    state.className = `state ${cls}`;
    const star = li.querySelector(".star");
    const pending = c.state === "acked" && c.star !== c.star_server;
    star.textContent = (c.star ? "★" : "☆") + (pending ? "…" : "");
    star.setAttribute("aria-pressed", String(c.star));
    star.setAttribute("aria-label", `${c.star ? "Unstar" : "Star"} comment ${c.seq}`);
    if (scroll) li.scrollIntoView({ block: "nearest" });
    groupByQuestion();
  }

  // Rows in seq order: comments from the server arrive after this device's own.
  function place(li, seq) {
    li.dataset.seq = String(seq);
    const list = $("comments");
    const after = [...list.children].find((x) => x !== li && Number(x.dataset.seq) > seq);
    list.insertBefore(li, after || null);
  }

  function reportError(err) {
    $("form-error").textContent = err && err.message ? err.message : String(err);
  }

  // ---- keyboard ----------------------------------------------------------
  // Each shortcut also has a visible control (the list is in table.html). The one
  // single-character key, "?", is ignored while typing and can be switched off
  // (WCAG 2.1.4); the others need Alt, or are F1.

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    const notTyped = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"];
    return el.tagName === "INPUT" && !notTyped.includes(el.type);
  }

  // The comment whose row has the focus, else the latest one.
  async function starFocusedOrLatest() {
    const focused = document.activeElement && document.activeElement.closest("#comments li");
    const li = focused || $("comments").lastElementChild;
    if (!li) {
      $("key-note").textContent = "No comment to star yet.";
      return;
    }
    await toggleStar(li.dataset.uuid);
    const c = comments.get(li.dataset.uuid);
    $("key-note").textContent = `Comment ${c.seq} ${c.star ? "starred" : "unstarred"}.`;
  }

  function setUpShortcuts() {
    const help = $("shortcuts");
    const keysOn = $("shortcuts-on");
    keysOn.checked = localStorage.getItem("townhall.table.keys") !== "off";
    keysOn.addEventListener("change", () => {
      localStorage.setItem("townhall.table.keys", keysOn.checked ? "on" : "off");
    });
    let opener = null;
    const openHelp = () => {
      if (help.open) return;
      opener = document.activeElement;
      help.showModal();
    };
    help.addEventListener("close", () => {
      // The browser has usually put the focus back already, and "close" comes
      // a task later: a key pressed meanwhile (Escape, then Tab) must keep its move.
      const now = document.activeElement;
      const lost = !now || now === document.body || help.contains(now);
      if (lost && opener && opener.isConnected && opener !== document.body) opener.focus();
      opener = null;
    });
    $("shortcuts-button").addEventListener("click", openHelp);
    $("shortcuts-close").addEventListener("click", () => help.close());

    document.addEventListener("keydown", (e) => {
      // No e.key: Chrome's autofill sends such keydowns.
      if (e.defaultPrevented || e.isComposing || help.open || !e.key) return;
      const alt = e.altKey && !e.ctrlKey && !e.metaKey;
      // e.code too: on a Mac, Alt+N types a dead key, not "n".
      if (alt && (e.code === "KeyN" || e.key.toLowerCase() === "n")) {
        e.preventDefault();
        $("comment-text").focus();
      } else if (alt && (e.code === "KeyS" || e.key.toLowerCase() === "s")) {
        e.preventDefault();
        starFocusedOrLatest().catch(reportError);
      } else if (e.key === "F1" || (e.key === "?" && keysOn.checked && !typing(document.activeElement)
                                    && !e.ctrlKey && !e.metaKey && !e.altKey)) {
        e.preventDefault();
        openHelp();
      }
    });
  }

  // ---- start -------------------------------------------------------------

  async function start() {
    tableKey = keyFor(`${wsBase}\n${token}`);
    db = await openDb();
    const tx = db.transaction(["tables", "comments"], "readonly");
    const t = await req(tx.objectStore("tables").get(tableKey));
    const saved = await req(tx.objectStore("comments").index("byTable").getAll(tableKey));
    saved.sort((a, b) => a.seq - b.seq);
    for (const c of saved) { comments.set(c.uuid, c); render(c); }
    if (t && t.hello) showHello(t.hello);
    showStatus("connecting");

    const form = $("comment-form");
    const input = $("comment-text");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      reportError("");
      submit(input.value).then(() => { input.value = ""; input.focus(); }).catch(reportError);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    // The OS knows before our backoff does: reconnect as soon as wifi is back.
    window.addEventListener("online", () => { attempt = 0; connect(); });
    connect();
  }

  setUpShortcuts();
  start().catch((err) => {
    reportError(new Error(`This browser cannot keep comments safely (${err.message || err}).`));
  });
})();
