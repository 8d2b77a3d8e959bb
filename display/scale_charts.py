"""Charts of values on a scale, for the printed report: a mean with its spread
(``range_chart_svg``), answers on a 1..k scale (``distribution_svg``) and the room
against the census (``dumbbell_svg``).

They share the text, layout and escaping rules of ``display.charts`` (black and
white, every value printed, titles wrapped, output deterministic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from display.charts import (
    INK,
    PAD,
    PAPER,
    _bar,
    _Canvas,
    _chart_id,
    _label,
    _lines,
    _magnitude,
    _n,
    _text,
    text_width,
    wrap,
)

RangeRow = tuple[str, float, float, float, str]  # label, mean, low, high, text
DumbbellRow = tuple[str, float, float]  # label, room share, census share (0..100)


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
    col_w = (width - 2 * PAD) / max(len(counts), 1)
    small = font_size - 4
    wrapped = [wrap(nm, col_w - 8, small, max_lines=2) if nm != k else []
               for k, nm in zip(keys, names, strict=True)]
    name_lines = max((len(w) for w in wrapped), default=0)
    summary = f"n = {sum(max(c, 0) for c in counts)}" + (
        f", mean {mean:.1f}" if mean is not None else ""
    )
    top = cv.top + font_size * 2.2  # room for the tallest column's count
    plot_h = font_size * 9
    bottom = top + plot_h
    names_end = bottom + font_size * 1.6 + name_lines * small * 1.2
    has_mean = mean is not None and bool(counts) and math.isfinite(mean)
    height = names_end + (font_size * 3.2 if has_mean else font_size * 0.8)
    desc = f"{summary}; " + "; ".join(
        f"{k} {nm}: {c}" for k, nm, c in zip(keys, names, counts, strict=True)
    )
    out = cv.open(height, desc)
    words = [_label(width - PAD, cv.top + font_size * 0.6, summary, font_size, "end")]
    _columns(out, words, counts, names, wrapped, col_w, plot_h, bottom, font_size)
    if has_mean and mean is not None:
        axis = names_end + font_size * 0.6
        label = mean_label.format(mean=f"{mean:.1f}")
        _mean_marker(out, words, mean, len(counts), col_w, axis, width, label, font_size)
    out.extend(words)  # text last, so it sits above the bars
    out.append("</svg>")
    return "\n".join(out)


def _columns(
    out: list[str],
    words: list[str],
    counts: Sequence[int],
    names: Sequence[str],
    wrapped: Sequence[list[str]],
    col_w: float,
    plot_h: float,
    bottom: float,
    font_size: int,
) -> None:
    """One column per scale point: the bar into ``out``, its count, key and wrapped
    name into ``words``."""
    total = sum(max(c, 0) for c in counts)
    peak = max(counts, default=0) or 1
    small = font_size - 4
    for i, (name, count) in enumerate(zip(names, counts, strict=True)):
        key = str(i + 1)
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


def _mean_marker(
    out: list[str],
    words: list[str],
    mean: float,
    points: int,
    col_w: float,
    axis: float,
    width: int,
    text: str,
    font_size: int,
) -> None:
    """The mean as a triangle on a dashed scale line at ``axis``, its value under it."""
    # Column centres sit at scale points 1..k, so the mean maps linearly between them.
    pos = min(max(mean, 1.0), float(points))
    first, last = PAD + col_w / 2, PAD + (points - 0.5) * col_w
    mx = PAD + (pos - 0.5) * col_w
    out.append(
        f'<line class="mean-scale" x1="{_n(first)}" y1="{_n(axis)}" x2="{_n(last)}" '
        f'y2="{_n(axis)}" stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    s = font_size * 0.5
    out.append(
        f'<path class="mean" d="M{_n(mx)} {_n(axis - s)}L{_n(mx - s)} {_n(axis + s)}'
        f'H{_n(mx + s)}Z" fill="{INK}"/>'
    )
    half = text_width(text, font_size) / 2
    tx = min(max(mx, PAD + half), width - PAD - half)
    words.append(_label(tx, axis + font_size * 1.5, text, font_size, "middle"))


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
    plot = (label_w, width - label_w - value_w - PAD)  # x and width of the 0..scale line
    row_h = font_size * 1.45
    y = cv.top + font_size * 1.9
    body: list[str] = []
    desc: list[str] = []
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
            body += _dumbbell_row(label, room, census, y + row_h / 2, plot, scale, font_size)
            desc.append(f"{heading} {label}: {series[0]} {room:.0f}%, {series[1]} {census:.0f}%")
            y += row_h
        y += font_size * 0.4
    out = cv.open(y + font_size * 0.3, "; ".join(desc))
    r = font_size * 0.38
    x, legend_y = float(PAD), cv.top + font_size * 0.6
    for name, fill in zip(series, (INK, PAPER), strict=True):
        out.append(f'<circle cx="{_n(x + r)}" cy="{_n(legend_y)}" r="{_n(r)}" fill="{fill}" '
                   f'stroke="{INK}" stroke-width="3"/>')
        out.append(_label(x + 3 * r, legend_y, name, font_size))
        x += 3 * r + text_width(name, font_size) + font_size * 1.5
    out += body
    out.append("</svg>")
    return "\n".join(out)


def _dumbbell_row(
    label: str,
    room: float,
    census: float,
    mid: float,
    plot: tuple[float, float],
    scale: float,
    font_size: int,
) -> list[str]:
    """One answer: its label, the thin 0..scale line, the bar joining the room's dot
    to the census ring, and both figures at the right."""
    plot_x, plot_w = plot
    r = font_size * 0.38
    xa = plot_x + plot_w * min(_magnitude(room) / scale, 1.0)
    xb = plot_x + plot_w * min(_magnitude(census) / scale, 1.0)
    name = wrap(label, plot_x - 36, font_size, max_lines=1)[0]
    return [
        _label(plot_x - 12, mid, name, font_size, "end"),
        f'<line x1="{_n(plot_x)}" y1="{_n(mid)}" x2="{_n(plot_x + plot_w)}" '
        f'y2="{_n(mid)}" stroke="#999999" stroke-width="1"/>',
        f'<line x1="{_n(xa)}" y1="{_n(mid)}" x2="{_n(xb)}" y2="{_n(mid)}" '
        f'stroke="{INK}" stroke-width="4"/>',
        f'<circle class="census" cx="{_n(xb)}" cy="{_n(mid)}" r="{_n(r)}" '
        f'fill="{PAPER}" stroke="{INK}" stroke-width="3"/>',
        f'<circle class="room" cx="{_n(xa)}" cy="{_n(mid)}" r="{_n(r)}" fill="{INK}"/>',
        _label(plot_x + plot_w + 24, mid, f"{room:.0f}% · {census:.0f}%", font_size),
    ]
