// Shared by every page: a websocket that reconnects by itself (jittered
// backoff), shows whether it is connected, and matches acks to writes.
"use strict";

window.townhall = (function () {
  // Translations (server/i18n.py): the page's catalogue as JSON on <html data-i18n>;
  // msgids are the English text, so a missing entry shows English. tr("Pick up to {n}.", {n: 3})
  const root = document.documentElement;
  const has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
  function json(value) { try { return JSON.parse(value || "{}"); } catch (e) { return {}; } }
  let catalogue = json(root.dataset.i18n);
  // The event file's own texts (poll prompts, options, demographics…) in this language,
  // keyed by their first-language wording (server/localtext.py); data-texts on <html>.
  let texts = json(root.dataset.texts);
  function tr(msgid, values) {
    const text = has(catalogue, msgid) ? catalogue[msgid] : msgid;
    return text.replace(/\{(\w+)\}/g, function (m, k) {
      return values && values[k] !== undefined ? String(values[k]) : m;
    });
  }
  // An event text in the page's language; default texts (scale labels…) are interface
  // strings; anything else is shown as written. Never used on comments or quotes.
  function text(s) {
    if (s === null || s === undefined) return s;
    if (has(texts, s)) return texts[s];
    return has(catalogue, s) ? catalogue[s] : s;
  }
  // Whether a poll's prompt already says what an interface hint says ("… Pick up to
  // three." beside "Pick up to 3."): the hint's words before its first figure, found
  // in the prompt as shown. A page says it once.
  function says(prompt, hint) {
    const words = String(hint).split(/[0-9]/)[0].replace(/[\s.:]+$/, "").toLowerCase();
    // Two words at least: "From 1 (…) to 5" leaves "from", which any prompt may use.
    return /\S\s+\S/.test(words) && String(prompt || "").toLowerCase().indexOf(words) >= 0;
  }
  // Numbers in the page's language (1,200,000 or 1.200.000); one formatter per
  // language (toLocaleString builds one per call: slow on pages full of counts).
  let locale = root.lang === "en" ? "en-GB" : (root.lang || "en-GB");
  let numbers = null;
  function number(n) {
    if (!numbers || numbers.locale !== locale) numbers = { locale: locale, format: new Intl.NumberFormat(locale) };
    return numbers.format.format(Number(n));
  }
  // An amount of a budget: "£1,200,000" for a currency sign, "40 points" (in the
  // page's language) for a word; whole units, as ballots are (server/budget.py: money).
  function money(n, unit) {
    unit = text(unit);
    const digits = number(Math.round(Math.abs(n)));
    if (unit && unit.length <= 3 && !/^[A-Za-z]/.test(unit)) return (n < 0 ? "-" : "") + unit + digits;
    return (n < 0 ? "-" : "") + digits + " " + unit;
  }

  // A screen that alternates languages (data-languages: order, seconds, every catalogue):
  // setLanguage swaps the catalogues and re-translates the page's fixed strings, marked
  // data-tr="msgid" (text) or data-tr-alt="msgid" (alt); the page re-renders the rest.
  const languages = json(root.dataset.languages);
  const refreshers = [];
  let alternating = false;
  function setLanguage(code) {
    if (!languages.interface || !has(languages.interface, code)) return;
    catalogue = languages.interface[code];
    texts = (languages.texts && languages.texts[code]) || {};
    root.lang = code;
    locale = code === "en" ? "en-GB" : code;
    document.querySelectorAll("[data-tr]").forEach(function (n) { n.textContent = tr(n.dataset.tr); });
    document.querySelectorAll("[data-tr-alt]").forEach(function (n) { n.alt = tr(n.dataset.trAlt); });
    refreshers.forEach(function (f) { f(code); });
  }
  // Calls onChange after each switch; returns false when this page does not alternate.
  function alternate(onChange) {
    if (!languages.order || languages.order.length < 2 || !(languages.seconds > 0)) return false;
    refreshers.push(onChange);
    if (!alternating) {
      alternating = true;
      let i = Math.max(0, languages.order.indexOf(root.lang));
      setInterval(function () {
        i = (i + 1) % languages.order.length;
        setLanguage(languages.order[i]);
      }, languages.seconds * 1000);
    }
    return true;
  }

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
    // lang: the server words its refusals (poll closed, over budget…) in the page's language.
    return proto + "//" + location.host + "/ws/" + role + "?token=" + encodeURIComponent(token) +
      "&lang=" + encodeURIComponent(root.lang || "en");
  }

  // Opens /ws/<role>, calls onMessage for every server message, and reconnects
  // after any drop unless the server refused the token (close 1008 / 4001).
  function connect(role, token, onMessage, onState) {
    let ws = null;
    let attempt = 0;
    let stopped = false;
    const pending = new Map(); // client id -> {resolve, reject}
    const conn = document.getElementById("conn");

    let shown = null; // the state and how to word it, again after a language switch
    function setState(state, wording) {
      shown = { state: state, wording: wording };
      if (conn) {
        conn.textContent = wording();
        conn.dataset.state = state;
      }
      if (onState) onState(state);
    }
    refreshers.push(function () { if (shown && conn) conn.textContent = shown.wording(); });

    function open() {
      const again = attempt > 0;
      setState("connecting", function () { return again ? tr("reconnecting…") : tr("connecting…"); });
      ws = new WebSocket(wsUrl(role, token));
      ws.onopen = function () {
        attempt = 0;
        setState("connected", function () { return "● " + tr("connected"); });
      };
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
          setState("refused", function () { return "✕ " + (ev.reason || tr("link refused")); });
          return;
        }
        setState("offline", function () { return "○ " + tr("offline — reconnecting"); });
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

  return { el: el, uuid: uuid, connect: connect, clear: clear, tr: tr, text: text, says: says, number: number,
    money: money, setLanguage: setLanguage, alternate: alternate };
})();
