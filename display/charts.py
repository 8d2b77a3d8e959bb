"""Server-rendered SVG charts for projectors, phones and the printed report.

Readable in black and white: dark ink on white, every value printed as text
beside its bar, and paired series told apart by solid vs hatched fill plus a
legend in words. All text is XML-escaped; output is deterministic (same input,
same bytes), so snapshots and caches work.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

INK = "#111111"
PAPER = "#ffffff"
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"

Row = tuple[str, float, str]  # label, value, text printed beside the bar
PairedRow = tuple[str, float, str, float, str]  # label, value A, text A, value B, text B

# Characters XML 1.0 forbids even when escaped; a phone can still send them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


def _text(value: str) -> str:
    """Escaped for both element text and double-quoted attributes.

    Line breaks and tabs become character references because XML parsers
    otherwise fold them (CR to LF in text, all of them to spaces in attributes).
    """
    return escape(_NOT_XML.sub("", value), _ENTITIES)


def _fit(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max(1, max_chars - 1)] + "…"


def _n(x: float) -> str:
    # Fixed precision keeps output byte-identical across runs and platforms.
    return f"{x:.1f}"


def _magnitude(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _chart_id(*parts: object) -> str:
    # Derived from content, not a counter: deterministic, and two charts inlined
    # in one page do not share (and fight over) pattern ids.
    return "c" + hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


def _open(cid: str, width: float, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{_text(title)}" '
        f'aria-describedby="{cid}-desc" font-family="{FONT}">',
        f"<title>{_text(title)}</title>",
        f'<desc id="{cid}-desc">{_text(desc)}</desc>',
        f'<defs><pattern id="{cid}-hatch" patternUnits="userSpaceOnUse" width="10" height="10" '
        f'patternTransform="rotate(45)"><rect width="10" height="10" fill="{PAPER}"/>'
        f'<rect width="4" height="10" fill="{INK}"/></pattern></defs>',
        f'<rect width="100%" height="100%" fill="{PAPER}"/>',
        f'<text x="16" y="{_n(1.4 * 28)}" font-size="28" font-weight="bold" '
        f'fill="{INK}">{_text(title)}</text>',
    ]


def _label(x: float, y: float, text: str, size: int, anchor: str = "start") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
        f'dominant-baseline="middle" fill="{INK}" stroke="{PAPER}" stroke-width="4" '
        f'paint-order="stroke" stroke-linejoin="round">{_text(text)}</text>'
    )


def _bar(
    x: float, y: float, length: float, height: float, fill: str, tip: str, kind: str = "bar"
) -> str:
    return (
        f'<rect class="{kind}" x="{_n(x)}" y="{_n(y)}" width="{_n(length)}" '
        f'height="{_n(height)}" fill="{fill}" stroke="{INK}" stroke-width="2">'
        f"<title>{_text(tip)}</title></rect>"
    )


def bar_chart_svg(
    rows: Sequence[Row],
    title: str,
    *,
    width: int = 960,
    max_value: float | None = None,
    font_size: int = 22,
) -> str:
    """Horizontal bars, one per row, with the row's display text printed beside the bar."""
    return _bars(
        rows=[(lb, [(v, t, "")]) for lb, v, t in rows],
        title=title,
        width=width,
        max_value=max_value,
        font_size=font_size,
        series=None,
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
        rows=[(lb, [(va, ta, series[0]), (vb, tb, series[1])]) for lb, va, ta, vb, tb in rows],
        title=title,
        width=width,
        max_value=max_value,
        font_size=font_size,
        series=series,
    )


def _bars(
    rows: list[tuple[str, list[tuple[float, str, str]]]],
    title: str,
    width: int,
    max_value: float | None,
    font_size: int,
    series: tuple[str, str] | None,
) -> str:
    cid = _chart_id("bars", title, rows, series, width, max_value, font_size)
    per_row = len(rows[0][1]) if rows else 1
    bar_h, gap = font_size * 1.3, font_size * 0.3
    row_h = per_row * bar_h + (per_row - 1) * gap + font_size * 0.9
    label_w, value_w = width * 0.34, font_size * 6.0
    plot_w = max(width - label_w - value_w - 32, 10.0)
    top = 1.4 * 28 + font_size * (2.6 if series else 1.0)
    height = top + len(rows) * row_h + font_size
    scale = (
        max_value
        if max_value and max_value > 0
        else max((_magnitude(v) for _, bars in rows for v, _, _ in bars), default=0.0) or 1.0
    )
    fills = [INK, f"url(#{cid}-hatch)"]
    desc = "; ".join(
        f"{lb}: " + ", ".join(f"{s} {t}".strip() for _, t, s in bars) for lb, bars in rows
    )
    out = _open(cid, width, height, title, desc)
    if series:
        y = 1.4 * 28 + font_size * 1.3
        for i, name in enumerate(series):
            x = 16 + i * width / 2
            out.append(
                _bar(x, y - font_size / 2, font_size * 2, font_size, fills[i], name, "swatch")
            )
            out.append(_label(x + font_size * 2.5, y, name, font_size))
    max_chars = max(int(label_w / (0.58 * font_size)), 4)
    for r, (label, bars) in enumerate(rows):
        y0 = top + r * row_h
        mid = y0 + (per_row * bar_h + (per_row - 1) * gap) / 2
        out.append(f"<g><title>{_text(label)}</title>")
        out.append(_label(label_w - 12, mid, _fit(label, max_chars), font_size, "end"))
        for i, (value, text, name) in enumerate(bars):
            y = y0 + i * (bar_h + gap)
            length = plot_w * min(_magnitude(value) / scale, 1.0)
            tip = f"{label} — {name} {text}" if name else f"{label} — {text}"
            out.append(_bar(label_w, y, length, bar_h, fills[i], tip))
            out.append(_label(label_w + length + 10, y + bar_h / 2, text, font_size))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def distribution_svg(
    counts: Sequence[int],
    title: str,
    *,
    labels: Sequence[str] | None = None,
    mean: float | None = None,
    width: int = 960,
    height: int = 480,
    font_size: int = 22,
) -> str:
    """Columns for a 1..k scale with count and percent above each, and a dashed mean line."""
    keys = [str(i + 1) for i in range(len(counts))]
    names = list(labels) if labels is not None else keys
    if len(names) != len(counts):
        raise ValueError("one label per scale point")
    cid = _chart_id("dist", title, list(counts), names, mean, width, height, font_size)
    total = sum(max(c, 0) for c in counts)
    # The band above the tallest column holds its count, and above that the mean label.
    top, bottom = 1.4 * 28 + font_size * 3.6, height - font_size * 4.2
    col_w = (width - 32) / max(len(counts), 1)
    peak = max(counts, default=0) or 1
    summary = f"n = {total}" + (f", mean {mean:.1f}" if mean is not None else "")
    desc = (
        summary
        + "; "
        + "; ".join(f"{k} {nm}: {c}" for k, nm, c in zip(keys, names, counts, strict=True))
    )
    out = _open(cid, width, height, title, desc)
    words = [_label(width - 16, 1.4 * 28, summary, font_size, "end")]
    max_chars = max(int(col_w / (0.58 * (font_size - 4))), 4)
    for i, (key, name, count) in enumerate(zip(keys, names, counts, strict=True)):
        x = 16 + i * col_w
        bar_h = (bottom - top) * max(count, 0) / peak
        pct = 100.0 * max(count, 0) / total if total else 0.0
        text = f"{count} ({pct:.0f}%)"
        out.append(
            _bar(x + col_w * 0.15, bottom - bar_h, col_w * 0.7, bar_h, INK, f"{key} {name}: {text}")
        )
        cx = x + col_w / 2
        words.append(_label(cx, bottom - bar_h - font_size * 0.8, text, font_size, "middle"))
        words.append(_label(cx, bottom + font_size * 1.0, key, font_size, "middle"))
        if name != key:
            words.append(
                _label(cx, bottom + font_size * 2.2, _fit(name, max_chars), font_size - 4, "middle")
            )
    if mean is not None and counts and math.isfinite(mean):
        # Column centres sit at scale points 1..k, so the mean maps linearly between them.
        pos = min(max(mean, 1.0), float(len(counts)))
        mx = 16 + (pos - 0.5) * col_w
        out.extend(_mean_line(mx, top - font_size * 1.6, bottom))
        words.append(_label(mx + 8, top - font_size * 2.2, f"mean {mean:.1f}", font_size))
    out.extend(words)  # text last, so it sits above bars and the mean line
    out.append("</svg>")
    return "\n".join(out)


def _mean_line(x: float, y1: float, y2: float) -> list[str]:
    """A dashed vertical line with a white casing under the dashes, so it stays
    visible across dark columns."""
    return [
        f'<line x1="{_n(x)}" y1="{_n(y1)}" x2="{_n(x)}" y2="{_n(y2)}" stroke="{stroke}" {extra}/>'
        for stroke, extra in (
            (PAPER, 'stroke-width="8"'),
            (INK, 'stroke-width="3" stroke-dasharray="10 6"'),
        )
    ]
