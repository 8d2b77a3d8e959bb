// Shared by every page: a websocket that reconnects by itself (jittered
// backoff), shows whether it is connected, and matches acks to writes.
"use strict";

window.townhall = (function () {
  // Translations (server/i18n.py): the page's catalogue as JSON on <html data-i18n>;
  // msgids are the English text, so a missing entry shows English. tr("Pick up to {n}.", {n: 3})
  let catalogue = {};
  try { catalogue = JSON.parse(document.documentElement.dataset.i18n || "{}"); } catch (e) { catalogue = {}; }
  function tr(msgid, values) {
    const text = Object.prototype.hasOwnProperty.call(catalogue, msgid) ? catalogue[msgid] : msgid;
    return text.replace(/\{(\w+)\}/g, function (m, k) {
      return values && values[k] !== undefined ? String(values[k]) : m;
    });
  }
  // Numbers in the page's language (1,200,000 or 1.200.000).
  const locale = document.documentElement.lang === "en" ? "en-GB" : (document.documentElement.lang || "en-GB");
  function number(n) { return Number(n).toLocaleString(locale); }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function wsUrl(role, token) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/ws/" + role + "?token=" + encodeURIComponent(token);
  }

  // Opens /ws/<role>, calls onMessage for every server message, and reconnects
  // after any drop unless the server refused the token (close 1008 / 4001).
  function connect(role, token, onMessage, onState) {
    let ws = null;
    let attempt = 0;
    let stopped = false;
    const pending = new Map(); // client id -> {resolve, reject}
    const conn = document.getElementById("conn");

    function setState(state, text) {
      if (conn) {
        conn.textContent = text;
        conn.dataset.state = state;
      }
      if (onState) onState(state);
    }

    function open() {
      setState("connecting", attempt ? tr("reconnecting…") : tr("connecting…"));
      ws = new WebSocket(wsUrl(role, token));
      ws.onopen = function () { attempt = 0; setState("connected", "● " + tr("connected")); };
      ws.onmessage = function (ev) {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        if ((msg.type === "ack" || msg.type === "error") && msg.id && pending.has(msg.id)) {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (msg.type === "ack") p.resolve(msg); else p.reject(msg);
        }
        onMessage(msg);
      };
      ws.onclose = function (ev) {
        if (ev.code === 1008 || ev.code === 4001) {
          stopped = true;
          setState("refused", "✕ " + (ev.reason || tr("link refused")));
          return;
        }
        setState("offline", "○ " + tr("offline — reconnecting"));
        if (stopped) return;
        attempt += 1;
        const cap = Math.min(10000, 500 * Math.pow(2, attempt));
        setTimeout(open, Math.random() * cap);
      };
    }

    function send(msg) {
      if (!msg.id) msg.id = uuid();
      return new Promise(function (resolve, reject) {
        pending.set(msg.id, { resolve: resolve, reject: reject });
        if (!ws || ws.readyState !== WebSocket.OPEN) {
          pending.delete(msg.id);
          reject({ code: "offline", message: tr("Not connected — try again in a moment.") });
          return;
        }
        ws.send(JSON.stringify(msg));
      });
    }

    open();
    return { send: send };
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  return { el: el, uuid: uuid, connect: connect, clear: clear, tr: tr, number: number };
})();
