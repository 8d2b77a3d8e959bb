"""What a projector needs, measured in the page: nothing scrolls or spills out of
its box, every QR code loaded, and every bar as long as the figure written beside
it says (± 2 px). Used by the big-screen tests and the screenshot script."""

from __future__ import annotations

import math
import re
from typing import Any

# Every element of the top strip and the visible view must lie inside the window, and
# an element that clips (overflow other than visible) must hold all of its content.
# Quotes are the one exception: comment excerpts clamped to a few lines on purpose.
SPILLS = """() => {
  const W = innerWidth, H = innerHeight, bad = [];
  const doc = document.scrollingElement;
  if (doc.scrollHeight > H || doc.scrollWidth > W) {
    bad.push(`the page scrolls (${doc.scrollWidth}×${doc.scrollHeight})`);
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    ` "${(el.textContent || "").trim().slice(0, 40)}"`;
  const roots = [document.querySelector(".screen-top"),
                 document.querySelector(".view:not([hidden])")];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (el.closest("[hidden]") || el.closest(".quote")) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1) {
        bad.push(name(el) + " is outside the window");
      }
      const cs = getComputedStyle(el);
      if ((cs.overflowX !== "visible" || cs.overflowY !== "visible") &&
          (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)) {
        bad.push(name(el) + ` clips its content (${el.scrollWidth}×${el.scrollHeight}` +
                 ` in ${el.clientWidth}×${el.clientHeight})`);
      }
    }
  }
  return bad;
}"""

QR_CODES = """() => [...document.querySelectorAll("img.qr")]
  .filter(img => img.offsetParent !== null)
  .map(img => ({src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth,
                shown: img.getBoundingClientRect().width}))"""

BARS = """() => [...document.querySelectorAll(
    ".view:not([hidden]) .chart, .view:not([hidden]) .grid-chart")]
  .map(chart => [...chart.querySelectorAll("[data-value]")].map(el => {
    const track = el.querySelector(".bar-track").getBoundingClientRect();
    const marker = el.querySelector(".bar-marker");
    const m = marker && !marker.hidden ? marker.getBoundingClientRect() : null;
    return {key: el.dataset.key || el.dataset.group || "", value: Number(el.dataset.value),
            fill: el.querySelector(".bar-fill").getBoundingClientRect().width, track: track.width,
            marker: el.dataset.marker === undefined || !m ? null : Number(el.dataset.marker),
            markerAt: m ? m.left + m.width / 2 - track.left : null,
            text: el.querySelector(".bar-value").innerText};
  }))"""

SETTLED = "() => document.getAnimations().length === 0"


async def spills(page: Any) -> list[str]:
    return list(await page.evaluate(SPILLS))


async def unloaded_qr_codes(page: Any) -> list[str]:
    codes = await page.evaluate(QR_CODES)
    assert codes, "no QR code on screen"
    return [
        f"{c['src']}: {c}" for c in codes if not c["complete"] or c["width"] <= 0 or c["shown"] <= 0
    ]


def first_number(text: str) -> int | None:
    found = re.search(r"\d[\d.,\u00a0\u202f]*", text)
    return int(re.sub(r"\D", "", found.group())) if found else None


async def bars_out_of_proportion(page: Any, tolerance: float = 2.0) -> list[str]:
    """Each chart's bars against its figures: one scale per chart (the longest bar's
    pixels per unit), every fill and marker within ``tolerance`` px of figure × scale,
    no fill past its track, and the figure written beside each bar is its value."""
    bad = []
    charts = await page.evaluate(BARS)
    assert any(charts), "no bar chart with figures on screen"
    for bars in charts:
        if not bars:
            continue
        top = max(bars, key=lambda b: b["value"])
        if top["value"] <= 0:
            continue
        scale = top["fill"] / top["value"]
        for b in bars:
            if abs(b["fill"] - b["value"] * scale) > tolerance:
                wanted = b["value"] * scale
                bad.append(f"{b['key']}: {b['fill']:.1f} px for {b['value']}, not {wanted:.1f}")
            if b["fill"] > b["track"] + 1:
                bad.append(
                    f"{b['key']}: fill {b['fill']:.1f} px longer than its track {b['track']:.1f}"
                )
            if (
                b["marker"] is not None
                and abs(b["markerAt"] - min(b["marker"] * scale, b["track"])) > tolerance
            ):
                bad.append(f"{b['key']}: marker at {b['markerAt']:.1f} px for {b['marker']}")
            if first_number(b["text"]) != math.floor(b["value"] + 0.5):  # as JS Math.round
                bad.append(
                    f"{b['key']}: bar for {b['value']} but the figure beside it reads {b['text']!r}"
                )
    return bad
