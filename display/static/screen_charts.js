"use strict";
// Charts of the big screen, drawn as HTML (crisp text at any projector size).
// Every row and cell is keyed: when figures change, the same element stays and its
// bar slides to the new length (CSS transition), instead of being drawn again.
// Bar lengths are proportional to the figure written beside them: length =
// figure / the largest figure of the chart. Each bar carries data-value, the
// figure it stands for, so the browser tests can check the lengths.
window.townhallCharts = (function () {
  const t = window.townhall;

  // The child of `parent` with data-key `key`, made by `make()` the first time; moved
  // to position `index` so the DOM order follows the data.
  function keyed(parent, key, index, make) {
    let node = null;
    for (const child of parent.children) { if (child.dataset.key === key) { node = child; break; } }
    if (!node) { node = make(); node.dataset.key = key; }
    if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] || null);
    return node;
  }

  function prune(parent, keys) {
    Array.from(parent.children).forEach(function (c) { if (!keys.has(c.dataset.key)) parent.removeChild(c); });
  }

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  function percentOf(value, max) { return max > 0 ? Math.max(0, Math.min(100, 100 * value / max)) : 0; }

  // A track with its fill (and optional marker): the pieces every chart shares.
  function track() {
    const tr = t.el("span", null, "bar-track");
    tr.appendChild(t.el("span", null, "bar-fill"));
    const marker = t.el("span", null, "bar-marker");
    marker.hidden = true;
    tr.appendChild(marker);
    return tr;
  }

  // value null: no figure to show (a hidden small group): an empty track, no data-value.
  function setTrack(tr, value, max, marker) {
    if (value === null) delete tr.parentNode.dataset.value;
    else tr.parentNode.dataset.value = String(value);
    tr.querySelector(".bar-fill").style.width = percentOf(value || 0, max) + "%";
    const m = tr.querySelector(".bar-marker");
    m.hidden = marker === null || marker === undefined;
    if (!m.hidden) {
      m.style.left = percentOf(marker, max) + "%";
      tr.parentNode.dataset.marker = String(marker);
    }
  }

  // rows: [{key, label, value, text, note?, marker?, badges?}] → one bar each, longest = max.
  function bars(list, rows, max) {
    if (max === undefined) max = Math.max.apply(null, rows.map(function (r) { return r.value || 0; }).concat([0]));
    list.style.setProperty("--rows", String(Math.max(rows.length, 4)));
    const badges = rows.some(function (r) { return r.badges !== undefined; });
    list.classList.toggle("with-badges", badges);
    const keys = new Set();
    const top = Math.max.apply(null, rows.map(function (r) { return r.value || 0; }).concat([0]));
    rows.forEach(function (r, i) {
      keys.add(r.key);
      const li = keyed(list, r.key, i, function () {
        const li = t.el("li", null, "hbar");
        li.appendChild(t.el("span", null, "bar-label"));
        li.appendChild(track());
        li.appendChild(t.el("span", null, "bar-value"));
        return li;
      });
      setText(li.querySelector(".bar-label"), r.label);
      setTrack(li.querySelector(".bar-track"), r.value, max, r.marker);
      const value = li.querySelector(".bar-value");
      t.clear(value);
      value.appendChild(document.createTextNode(r.text));
      if (r.note) value.appendChild(t.el("small", r.note));
      let badge = li.querySelector(".bar-badges");
      if (badges && !badge) badge = li.appendChild(t.el("span", null, "bar-badges"));
      if (!badges && badge) { li.removeChild(badge); badge = null; }
      if (badge) {
        t.clear(badge);
        (r.badges || []).forEach(function (b) { badge.appendChild(t.el("span", b)); });
      }
      li.classList.toggle("is-top", top > 0 && r.value === top);
    });
    prune(list, keys);
  }

  // Small multiples: rows × columns of bars, all on one scale (the largest cell).
  // columns: [{key, label, note}] ; cell(rowKey, colKey) → {value, text} or null.
  function grid(box, rows, columns, cell) {
    box.style.setProperty("--groups", String(columns.length));
    box.style.setProperty("--rows", String(Math.max(rows.length, 5)));
    let max = 0;
    rows.forEach(function (r) {
      columns.forEach(function (c) { const v = cell(r.key, c.key); if (v) max = Math.max(max, v.value); });
    });
    const head = keyed(box, "head", 0, function () { return t.el("div", null, "grid-head"); });
    t.clear(head);
    head.appendChild(t.el("span", ""));
    columns.forEach(function (c) {
      const th = t.el("span", c.label);
      if (c.note) th.appendChild(t.el("small", c.note));
      head.appendChild(th);
    });
    const keys = new Set(["head"]);
    rows.forEach(function (r, i) {
      keys.add("row-" + r.key);
      const row = keyed(box, "row-" + r.key, i + 1, function () { return t.el("div", null, "grid-row"); });
      setText(row.firstChild ? row.firstChild : row.appendChild(t.el("span", null, "bar-label")), r.label);
      const cells = new Set();
      columns.forEach(function (c, j) {
        cells.add(c.key);
        const v = cell(r.key, c.key);
        const node = keyed(row, c.key, j + 1, function () { return t.el("div"); });
        node.dataset.group = c.key;
        if (!v) {
          node.className = "cell cell-hidden";
          delete node.dataset.value;
          t.clear(node);
          node.appendChild(t.el("span", "–"));
          return;
        }
        if (!node.querySelector(".bar-track")) {
          t.clear(node);
          node.appendChild(track());
          node.appendChild(t.el("span", null, "bar-value"));
        }
        node.className = "cell bar-cell";
        setTrack(node.querySelector(".bar-track"), v.value, max, null);
        setText(node.querySelector(".bar-value"), v.text);
      });
      Array.from(row.children).slice(1).forEach(function (c) { if (!cells.has(c.dataset.key)) row.removeChild(c); });
    });
    prune(box, keys);
  }

  // Shrinks a box's text until it fits its box (long labels, two languages), down to
  // `least` of its styled size; never below that, so it stays readable.
  function fit(node, least) {
    // The box as well as the window: an option's label moves from a poll of four
    // rows to one of twelve with the same text and must shrink again.
    const key = node.textContent + "|" + innerWidth + "x" + innerHeight + "|" + node.clientWidth +
      "x" + getComputedStyle(node).maxHeight;
    if (node.dataset.fitted === key) return; // same text, same box: already fitted
    node.dataset.fitted = key;
    node.style.fontSize = "";
    const base = parseFloat(getComputedStyle(node).fontSize);
    let size = base;
    while ((node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1) && size > base * (least || 0.6)) {
      size *= 0.92;
      node.style.fontSize = size + "px";
    }
  }

  function fitAll(root, selector, least) {
    root.querySelectorAll(selector).forEach(function (n) { if (n.offsetParent !== null) fit(n, least); });
  }

  return { bars: bars, grid: grid, keyed: keyed, prune: prune, fit: fit, fitAll: fitAll, setText: setText };
})();
