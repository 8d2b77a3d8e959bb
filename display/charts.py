"""Server-rendered SVG charts for the printed report (and any page that wants one).

Readable in black and white: dark ink on white, every value printed as text
beside its bar, and two series told apart by solid vs hatched fill plus a
legend in words. Titles and row labels wrap onto more lines instead of being
cut, and the chart grows to hold them; value texts get a column wide enough for
the longest. All text is XML-escaped; output is deterministic (same input, same
bytes), so snapshots and caches work.

Widths of text are estimated (there is no font engine here) on the generous
side for DejaVu Sans, the widest of the fonts named, so a narrower fallback
only leaves more room.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

INK = "#111111"
PAPER = "#ffffff"
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
TITLE_SIZE = 28
PAD = 16

Row = tuple[str, float, str]  # label, value, text printed beside the bar
PairedRow = tuple[str, float, str, float, str]  # label, value A, text A, value B, text B

# Characters XML 1.0 forbids even when escaped; a phone can still send them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
_NARROW = set("ijlI.,:;'!|()[]{}ft·-/ ")
_WIDE = set("mwMW@%—")


def _text(value: str) -> str:
    """Escaped for both element text and double-quoted attributes.

    Line breaks and tabs become character references because XML parsers
    otherwise fold them (CR to LF in text, all of them to spaces in attributes).
    """
    return escape(_NOT_XML.sub("", value), _ENTITIES)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of the drawn width of ``text`` at ``size`` user units."""
    em = 0.0
    for c in text:
        if c in _NARROW:
            em += 0.36
        elif c in _WIDE:
            em += 1.0
        elif c.isupper() or (c.isdigit() and bold):
            em += 0.76
        else:
            em += 0.64
    return em * size * (1.1 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int = 4) -> list[str]:
    """Words of ``text`` in lines no wider than ``width``; a word longer than a
    line is cut into pieces, and past ``max_lines`` the last line ends in "…"."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while text_width(word, size, bold) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size, bold) > width:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate, size, bold) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line or not lines:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines


def _n(x: float) -> str:
    # Fixed precision keeps output byte-identical across runs and platforms.
    return f"{x:.1f}"


def _magnitude(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _chart_id(*parts: object) -> str:
    # Derived from content, not a counter: deterministic, and two charts inlined
    # in one page do not share (and fight over) pattern ids.
    return "c" + hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


@dataclass
class _Canvas:
    """The opening of a chart: its title wrapped to the width, and where drawing starts."""

    cid: str
    width: float
    title: str
    title_lines: list[str]

    @classmethod
    def make(cls, cid: str, width: float, title: str) -> _Canvas:
        return cls(cid, width, title, wrap(title, width - 2 * PAD, TITLE_SIZE, bold=True))

    @property
    def top(self) -> float:
        """First free y under the title."""
        return PAD + len(self.title_lines) * TITLE_SIZE * 1.25 + 6

    def open(self, height: float, desc: str) -> list[str]:
        cid, width = self.cid, self.width
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{_text(self.title)}" '
            f'aria-describedby="{cid}-desc" font-family="{FONT}">',
            f"<title>{_text(self.title)}</title>",
            f'<desc id="{cid}-desc">{_text(desc)}</desc>',
            f'<defs><pattern id="{cid}-hatch" patternUnits="userSpaceOnUse" width="10" '
            f'height="10" patternTransform="rotate(45)"><rect width="10" height="10" '
            f'fill="{PAPER}"/><rect width="4" height="10" fill="{INK}"/></pattern></defs>',
            f'<rect width="100%" height="100%" fill="{PAPER}"/>',
        ]
        for i, line in enumerate(self.title_lines):
            y = PAD + (i + 0.8) * TITLE_SIZE * 1.25
            out.append(
                f'<text class="title" x="{PAD}" y="{_n(y)}" font-size="{TITLE_SIZE}" '
                f'font-weight="bold" fill="{INK}">{_text(line)}</text>'
            )
        return out


def _label(x: float, y: float, text: str, size: float, anchor: str = "start") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
        f'dominant-baseline="middle" fill="{INK}" stroke="{PAPER}" stroke-width="4" '
        f'paint-order="stroke" stroke-linejoin="round">{_text(text)}</text>'
    )


def _lines(x: float, mid: float, lines: list[str], size: float, anchor: str) -> list[str]:
    """Several lines of text centred as a block on ``mid``."""
    step = size * 1.2
    first = mid - step * (len(lines) - 1) / 2
    return [_label(x, first + i * step, ln, size, anchor) for i, ln in enumerate(lines)]


def _bar(
    x: float, y: float, length: float, height: float, fill: str, tip: str, kind: str = "bar"
) -> str:
    return (
        f'<rect class="{kind}" x="{_n(x)}" y="{_n(y)}" width="{_n(length)}" '
        f'height="{_n(height)}" fill="{fill}" stroke="{INK}" stroke-width="2">'
        f"<title>{_text(tip)}</title></rect>"
    )


def _legend(cv: _Canvas, y: float, names: Sequence[str], size: float) -> list[str]:
    """Swatches in the chart's two fills, each with its name, one per line if need be."""
    fills = [INK, f"url(#{cv.cid}-hatch)"]
    out = []
    for i, name in enumerate(names):
        out.append(_bar(PAD, y - size / 2, size * 2, size, fills[i % 2], name, "swatch"))
        out.append(_label(PAD + size * 2.5, y, name, size))
        y += size * 1.5
    return out


def _legend_height(names: Sequence[str], size: float) -> float:
    return len(names) * size * 1.5 + size * 0.3 if names else 0.0


def bar_chart_svg(
    rows: Sequence[Row],
    title: str,
    *,
    width: int = 960,
    max_value: float | None = None,
    font_size: int = 22,
    hatched: Sequence[bool] | None = None,
    legend: Sequence[str] = (),
) -> str:
    """Horizontal bars, one per row, with the row's display text printed beside the bar.

    ``hatched`` marks rows drawn hatched instead of solid (e.g. projects not funded);
    ``legend`` then names the two fills, solid first."""
    marks = list(hatched) if hatched is not None else [False] * len(rows)
    return _bars(
        rows=[(lb, [(v, t, "", int(m))]) for (lb, v, t), m in zip(rows, marks, strict=True)],
        title=title,
        width=width,
        max_value=max_value,
        font_size=font_size,
        legend=list(legend),
    )


def paired_bar_chart_svg(
    rows: Sequence[PairedRow],
    title: str,
    *,
    series: tuple[str, str] = ("Room", "Census"),
    width: int = 960,
    max_value: float | None = None,
    font_size: int = 22,
) -> str:
    """Two bars per row (solid = first series, hatched = second), with a legend in words."""
    return _bars(
        rows=[
            (lb, [(va, ta, series[0], 0), (vb, tb, series[1], 1)])
            for lb, va, ta, vb, tb in rows
        ],
        title=title,
        width=width,
        max_value=max_value,
        font_size=font_size,
        legend=list(series),
    )


def _bars(
    rows: list[tuple[str, list[tuple[float, str, str, int]]]],
    title: str,
    width: int,
    max_value: float | None,
    font_size: int,
    legend: list[str],
) -> str:
    cid = _chart_id("bars", title, rows, legend, width, max_value, font_size)
    cv = _Canvas.make(cid, width, title)
    per_row = len(rows[0][1]) if rows else 1
    bar_h, gap = font_size * 1.3, font_size * 0.3
    label_w = width * 0.34
    value_w = max(
        (text_width(t, font_size) for _, bars in rows for _, t, _, _ in bars), default=0.0
    ) + 24
    plot_w = max(width - label_w - value_w - PAD, 10.0)
    labels = [wrap(lb, label_w - 24, font_size, max_lines=3) for lb, _ in rows]
    bars_h = per_row * bar_h + (per_row - 1) * gap
    heights = [max(bars_h, len(ls) * font_size * 1.2) + font_size * 0.9 for ls in labels]
    top = cv.top + _legend_height(legend, font_size)
    height = top + sum(heights) + font_size * 0.5
    scale = (
        max_value
        if max_value and max_value > 0
        else max((_magnitude(v) for _, bars in rows for v, _, _, _ in bars), default=0.0) or 1.0
    )
    fills = [INK, f"url(#{cid}-hatch)"]
    desc = "; ".join(
        f"{lb}: " + ", ".join(f"{s} {t}".strip() for _, t, s, _ in bars) for lb, bars in rows
    )
    out = cv.open(height, desc)
    out += _legend(cv, cv.top + font_size * 0.6, legend, font_size)
    y0 = top
    for (label, bars), lines, row_h in zip(rows, labels, heights, strict=True):
        block = max(bars_h, len(lines) * font_size * 1.2)
        mid = y0 + block / 2
        out.append(f"<g><title>{_text(label)}</title>")
        out += _lines(label_w - 12, mid, lines, font_size, "end")
        first = mid - bars_h / 2
        for i, (value, text, name, fill) in enumerate(bars):
            y = first + i * (bar_h + gap)
            length = plot_w * min(_magnitude(value) / scale, 1.0)
            tip = f"{label} — {name} {text}" if name else f"{label} — {text}"
            out.append(_bar(label_w, y, length, bar_h, fills[fill], tip))
            out.append(_label(label_w + length + 10, y + bar_h / 2, text, font_size))
        out.append("</g>")
        y0 += row_h
    out.append("</svg>")
    return "\n".join(out)
