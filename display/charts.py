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


RangeRow = tuple[str, float, float, float, str]  # label, mean, low, high, text


def range_chart_svg(
    rows: Sequence[RangeRow],
    title: str,
    *,
    legend: tuple[str, str],
    max_value: float,
    width: int = 960,
    font_size: int = 22,
) -> str:
    """A bar for each row's mean and a whisker over its spread (low to high), with
    ``text`` printed past whichever ends further right. ``legend`` names the bar and
    the whisker, in words (e.g. "mean points per ballot", "middle half of ballots")."""
    cid = _chart_id("range", title, list(rows), legend, width, max_value, font_size)
    cv = _Canvas.make(cid, width, title)
    bar_h = font_size * 1.3
    label_w = width * 0.34
    value_w = max((text_width(t, font_size) for *_, t in rows), default=0.0) + 24
    plot_w = max(width - label_w - value_w - PAD, 10.0)
    scale = max_value if max_value > 0 else 1.0
    labels = [wrap(r[0], label_w - 24, font_size, max_lines=3) for r in rows]
    heights = [max(bar_h, len(ls) * font_size * 1.2) + font_size * 0.9 for ls in labels]
    legend_top = cv.top + font_size * 0.6
    top = cv.top + font_size * 3.3
    height = top + sum(heights) + font_size * 0.5
    desc = "; ".join(f"{r[0]}: {r[4]}" for r in rows)
    out = cv.open(height, desc)
    out.append(_bar(PAD, legend_top - font_size / 2, font_size * 2, font_size, INK,
                    legend[0], "swatch"))
    out.append(_label(PAD + font_size * 2.5, legend_top, legend[0], font_size))
    wy = legend_top + font_size * 1.5
    out.append(_whisker(PAD, PAD + font_size * 2, wy, font_size))
    out.append(_label(PAD + font_size * 2.5, wy, legend[1], font_size))
    y0 = top

    def x_of(v: float) -> float:
        return label_w + plot_w * min(_magnitude(v) / scale, 1.0)

    for (label, mean, low, high, text), lines, row_h in zip(rows, labels, heights, strict=True):
        block = max(bar_h, len(lines) * font_size * 1.2)
        mid = y0 + block / 2
        out.append(f"<g><title>{_text(label)}</title>")
        out += _lines(label_w - 12, mid, lines, font_size, "end")
        out.append(_bar(label_w, mid - bar_h / 2, x_of(mean) - label_w, bar_h, INK,
                        f"{label} — {text}"))
        out.append(_whisker(x_of(low), x_of(high), mid, font_size))
        end = max(x_of(mean), x_of(high))
        out.append(_label(end + 12, mid, text, font_size))
        out.append("</g>")
        y0 += row_h
    out.append("</svg>")
    return "\n".join(out)


def _whisker(x1: float, x2: float, y: float, size: float) -> str:
    """A line from x1 to x2 with end caps, cased in white so it shows over a dark bar."""
    cap = size * 0.45
    d = (
        f"M{_n(x1)} {_n(y)}H{_n(x2)}M{_n(x1)} {_n(y - cap)}V{_n(y + cap)}"
        f"M{_n(x2)} {_n(y - cap)}V{_n(y + cap)}"
    )
    return (
        f'<g class="whisker"><path d="{d}" stroke="{PAPER}" stroke-width="8" fill="none"/>'
        f'<path d="{d}" stroke="{INK}" stroke-width="3" fill="none"/></g>'
    )


def distribution_svg(
    counts: Sequence[int],
    title: str,
    *,
    labels: Sequence[str] | None = None,
    mean: float | None = None,
    mean_label: str = "mean {mean}",
    width: int = 960,
    font_size: int = 22,
) -> str:
    """Columns for a 1..k scale with count and percent above each; the mean is a
    marker on its own scale line under the column names, so it crosses no label."""
    keys = [str(i + 1) for i in range(len(counts))]
    names = list(labels) if labels is not None else keys
    if len(names) != len(counts):
        raise ValueError("one label per scale point")
    cid = _chart_id("dist", title, list(counts), names, mean, mean_label, width, font_size)
    cv = _Canvas.make(cid, width, title)
    total = sum(max(c, 0) for c in counts)
    col_w = (width - 2 * PAD) / max(len(counts), 1)
    small = font_size - 4
    wrapped = [wrap(nm, col_w - 8, small, max_lines=2) if nm != k else []
               for k, nm in zip(keys, names, strict=True)]
    name_lines = max((len(w) for w in wrapped), default=0)
    summary = f"n = {total}" + (f", mean {mean:.1f}" if mean is not None else "")
    top = cv.top + font_size * 2.2  # room for the tallest column's count
    plot_h = font_size * 9
    bottom = top + plot_h
    names_end = bottom + font_size * 1.6 + name_lines * small * 1.2
    has_mean = mean is not None and bool(counts) and math.isfinite(mean)
    height = names_end + (font_size * 3.2 if has_mean else font_size * 0.8)
    peak = max(counts, default=0) or 1
    desc = (
        summary
        + "; "
        + "; ".join(f"{k} {nm}: {c}" for k, nm, c in zip(keys, names, counts, strict=True))
    )
    out = cv.open(height, desc)
    words = [_label(width - PAD, cv.top + font_size * 0.6, summary, font_size, "end")]
    for i, (key, name, count) in enumerate(zip(keys, names, counts, strict=True)):
        x = PAD + i * col_w
        bar_h = plot_h * max(count, 0) / peak
        pct = 100.0 * max(count, 0) / total if total else 0.0
        text = f"{count} ({pct:.0f}%)"
        out.append(
            _bar(x + col_w * 0.15, bottom - bar_h, col_w * 0.7, bar_h, INK, f"{key} {name}: {text}")
        )
        cx = x + col_w / 2
        words.append(_label(cx, bottom - bar_h - font_size * 0.8, text, font_size, "middle"))
        words.append(_label(cx, bottom + font_size * 0.9, key, font_size, "middle"))
        for j, line in enumerate(wrapped[i]):
            words.append(
                _label(cx, bottom + font_size * 2.0 + j * small * 1.2, line, small, "middle")
            )
    if has_mean and mean is not None:
        # Column centres sit at scale points 1..k, so the mean maps linearly between them.
        pos = min(max(mean, 1.0), float(len(counts)))
        first, last = PAD + col_w / 2, PAD + (len(counts) - 0.5) * col_w
        mx, axis = PAD + (pos - 0.5) * col_w, names_end + font_size * 0.6
        out.append(
            f'<line class="mean-scale" x1="{_n(first)}" y1="{_n(axis)}" x2="{_n(last)}" '
            f'y2="{_n(axis)}" stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        s = font_size * 0.5
        out.append(
            f'<path class="mean" d="M{_n(mx)} {_n(axis - s)}L{_n(mx - s)} {_n(axis + s)}'
            f'H{_n(mx + s)}Z" fill="{INK}"/>'
        )
        text = mean_label.format(mean=f"{mean:.1f}")
        half = text_width(text, font_size) / 2
        tx = min(max(mx, PAD + half), width - PAD - half)
        words.append(_label(tx, axis + font_size * 1.5, text, font_size, "middle"))
    out.extend(words)  # text last, so it sits above the bars
    out.append("</svg>")
    return "\n".join(out)


DumbbellRow = tuple[str, float, float]  # label, room share, census share (0..100)


def dumbbell_svg(
    groups: Sequence[tuple[str, Sequence[DumbbellRow]]],
    title: str,
    *,
    series: tuple[str, str] = ("Room", "Census"),
    width: int = 960,
    font_size: int = 22,
) -> str:
    """Room against census in little space: per answer, a filled dot (room) and a
    hollow ring (census) on a 0–100 % line, joined; the figures printed at the right.
    ``groups`` are (heading, rows), e.g. one per demographic question."""
    cid = _chart_id("dumbbell", title, [(h, list(r)) for h, r in groups], series, width)
    cv = _Canvas.make(cid, width, title)
    label_w = width * 0.28
    texts = [f"{a:.0f}% · {b:.0f}%" for _, rows in groups for _, a, b in rows]
    value_w = max((text_width(t, font_size) for t in texts), default=0.0) + 24
    plot_x, plot_w = label_w, width - label_w - value_w - PAD
    row_h = font_size * 1.45
    legend_y = cv.top + font_size * 0.6
    y = cv.top + font_size * 1.9
    body: list[str] = []
    desc: list[str] = []
    r = font_size * 0.38
    peak = max([b for _, rows in groups for _, a, b in rows] +
               [a for _, rows in groups for _, a, _ in rows] + [1.0])
    scale = min(100.0, math.ceil(peak / 10) * 10)
    for heading, rows in groups:
        body.append(
            f'<text x="{PAD}" y="{_n(y + font_size * 0.5)}" font-size="{font_size}" '
            f'font-weight="bold" dominant-baseline="middle" fill="{INK}">'
            f"{_text(wrap(heading, width - 2 * PAD, font_size, True, 1)[0])}</text>"
        )
        y += row_h
        for label, room, census in rows:
            mid = y + row_h / 2
            xa = plot_x + plot_w * min(_magnitude(room) / scale, 1.0)
            xb = plot_x + plot_w * min(_magnitude(census) / scale, 1.0)
            body.append(_label(label_w - 12, mid, wrap(label, label_w - 36, font_size,
                                                        max_lines=1)[0], font_size, "end"))
            body.append(f'<line x1="{_n(plot_x)}" y1="{_n(mid)}" x2="{_n(plot_x + plot_w)}" '
                        f'y2="{_n(mid)}" stroke="#999999" stroke-width="1"/>')
            body.append(f'<line x1="{_n(xa)}" y1="{_n(mid)}" x2="{_n(xb)}" y2="{_n(mid)}" '
                        f'stroke="{INK}" stroke-width="4"/>')
            body.append(f'<circle class="census" cx="{_n(xb)}" cy="{_n(mid)}" r="{_n(r)}" '
                        f'fill="{PAPER}" stroke="{INK}" stroke-width="3"/>')
            body.append(f'<circle class="room" cx="{_n(xa)}" cy="{_n(mid)}" r="{_n(r)}" '
                        f'fill="{INK}"/>')
            text = f"{room:.0f}% · {census:.0f}%"
            body.append(_label(plot_x + plot_w + 24, mid, text, font_size))
            desc.append(f"{heading} {label}: {series[0]} {room:.0f}%, {series[1]} {census:.0f}%")
            y += row_h
        y += font_size * 0.4
    height = y + font_size * 0.3
    out = cv.open(height, "; ".join(desc))
    x = float(PAD)
    for name, fill in zip(series, (INK, PAPER), strict=True):
        out.append(f'<circle cx="{_n(x + r)}" cy="{_n(legend_y)}" r="{_n(r)}" fill="{fill}" '
                   f'stroke="{INK}" stroke-width="3"/>')
        out.append(_label(x + 3 * r, legend_y, name, font_size))
        x += 3 * r + text_width(name, font_size) + font_size * 1.5
    out += body
    out.append("</svg>")
    return "\n".join(out)
