"""SVG charts: well-formed, accessible, escaped, readable without colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.charts import bar_chart_svg, paired_bar_chart_svg, text_width
from display.scale_charts import distribution_svg, dumbbell_svg, range_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(\"x\")</script> & 'friends'"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything not well-formed


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_bar_chart_is_accessible_and_prints_values_beside_bars() -> None:
    root = parse(bar_chart_svg([("Yes", 60.0, "60%"), ("No", 30.0, "30%")], "Keep the park?"))
    assert root.get("role") == "img" and root.get("aria-label") == "Keep the park?"
    assert root.find(f"{SVG}title").text == "Keep the park?"  # type: ignore[union-attr]
    assert "Yes: 60%" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    yes, no = bars(root)
    # Scale is the largest value: 30 is drawn half as long as 60.
    assert float(no.get("width", "")) == pytest.approx(float(yes.get("width", "")) / 2)
    value_text = next(t for t in root.iter(f"{SVG}text") if t.text == "60%")
    assert float(value_text.get("x", "")) > float(yes.get("x", "")) + float(yes.get("width", ""))
    assert yes.get("fill") == "#111111"  # dark ink, not a hue that vanishes in greyscale


def test_hostile_labels_and_titles_come_out_as_text() -> None:
    svg = bar_chart_svg([(HOSTILE, 1.0, HOSTILE)], HOSTILE)
    root = parse(svg)
    assert "<script>" not in svg
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert HOSTILE in texts(root)
    assert root.get("aria-label") == HOSTILE


def test_characters_xml_forbids_are_dropped_and_newlines_survive() -> None:
    root = parse(bar_chart_svg([("bad\x00\x1bname", 1.0, "1")], "line one\nline two"))
    assert "badname" in texts(root)
    assert root.get("aria-label") == "line one\nline two"


@given(label=st.text(max_size=20), title=st.text(max_size=60))
def test_any_text_gives_well_formed_svg_with_that_text(label: str, title: str) -> None:
    svg = paired_bar_chart_svg([(label, 1.0, label, 2.0, "2")], title)
    root = parse(svg)
    xml_ok = "".join(
        c
        for c in label
        if c in "\t\n\r" or (" " <= c and c not in "\ufffe\uffff" and not "\ud800" <= c <= "\udfff")
    )
    assert xml_ok in texts(root)


def test_long_labels_wrap_onto_lines_and_only_a_very_long_one_is_cut() -> None:
    label = "A long option label that wraps onto a second line"
    root = parse(bar_chart_svg([(label, 1.0, "1")], "t"))
    shown = [t for t in texts(root) if t not in ("t", "1")]
    assert len(shown) > 1 and " ".join(shown) == label  # every word, on several lines
    huge = "A very long option label that would run into the bars " * 3
    lines = [t for t in texts(parse(bar_chart_svg([(huge, 1.0, "1")], "t"))) if t not in "t1"]
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert huge.startswith(" ".join(lines)[:-1])
    assert huge in [
        t.text for t in parse(bar_chart_svg([(huge, 1.0, "1")], "t")).iter(f"{SVG}title")
    ]  # kept in full for screen readers


def test_a_long_title_wraps_and_the_chart_grows_to_hold_it() -> None:
    title = "Which projects should the £1.2m capital fund pay for? Pick any that fit."
    short = parse(bar_chart_svg([("a", 1.0, "1")], "Short"))
    root = parse(bar_chart_svg([("a", 1.0, "1")], title))
    lines = [t for t in root.iter(f"{SVG}text") if t.get("class") == "title"]
    assert len(lines) == 2 and " ".join(t.text or "" for t in lines) == title
    for line in lines:  # each line fits the width, at the generous estimate
        assert text_width(line.text or "", 28, bold=True) <= 960 - 32
    assert float(root.get("height", "")) > float(short.get("height", ""))


def test_value_texts_get_a_column_wide_enough_for_the_longest() -> None:
    long_text = "33.3 points (middle half 0–60)"
    root = parse(bar_chart_svg([("a", 100.0, long_text)], "t", max_value=100.0))
    bar = bars(root)[0]
    end = float(bar.get("x", "")) + float(bar.get("width", "")) + 10
    assert end + text_width(long_text, 22) <= 960


def test_range_chart_draws_mean_bar_and_spread_in_the_unit() -> None:
    root = parse(
        range_chart_svg(
            [("Housing", 30.0, 10.0, 50.0, "30.0 points (middle half 10–50)")],
            "Points per option",
            legend=("mean points per ballot", "middle half"),
            max_value=100.0,
        )
    )
    bar = bars(root)[0]
    assert float(bar.get("width", "")) == pytest.approx(0.3 * _plot_width(root, bar), rel=0.01)
    assert "30.0 points (middle half 10–50)" in texts(root)
    assert len(list(root.iter(f"{SVG}path"))) >= 2  # the whisker (cased)


def _plot_width(root: ET.Element, bar: ET.Element) -> float:
    # The bar of 30 of 100 is 0.3 of the plot; the whisker's end at 50 is half of it.
    whiskers = [g for g in root.iter(f"{SVG}g") if g.get("class") == "whisker"]
    d = next(whiskers[1].iter(f"{SVG}path")).get("d", "")  # [0] is the legend's
    x_end = float(d.split("H")[1].split("M")[0])
    return (x_end - float(bar.get("x", ""))) / 0.5


def test_hatched_rows_and_their_legend() -> None:
    root = parse(
        bar_chart_svg(
            [("Funded", 60.0, "60%"), ("Not", 40.0, "40%")],
            "t",
            hatched=[False, True],
            legend=("funded", "not funded"),
        )
    )
    solid, hatched = (r.get("fill", "") for r in bars(root))
    assert solid == "#111111" and hatched.startswith("url(#")
    assert {"funded", "not funded"} <= set(texts(root))


def test_dumbbell_puts_room_and_census_on_one_line_per_answer() -> None:
    root = parse(dumbbell_svg([("Age", [("16–29", 20.0, 40.0), ("30+", 80.0, 60.0)])], "Room"))
    room = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "room"]
    census = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "census"]
    assert len(room) == len(census) == 2
    assert float(room[0].get("cx", "")) < float(census[0].get("cx", ""))  # 20 % left of 40 %
    assert room[0].get("cy") == census[0].get("cy")
    assert "20% · 40%" in texts(root)


def test_paired_bars_differ_by_pattern_and_legend_names_them() -> None:
    rows = [("Women", 40.0, "40%", 51.0, "51%"), ("Men", 60.0, "60%", 49.0, "49%")]
    root = parse(paired_bar_chart_svg(rows, "Room vs census", series=("Room", "Census")))
    assert {"Room", "Census", "40%", "51%", "60%", "49%"} <= set(texts(root))
    fills = [r.get("fill", "") for r in bars(root)]
    assert len(fills) == 4 and fills[0] == fills[2] and fills[1] == fills[3] != fills[0]
    pattern_id = fills[1].removeprefix("url(#").removesuffix(")")
    patterns = [p.get("id") for p in root.iter(f"{SVG}pattern")]
    assert pattern_id in patterns
    swatches = [r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class") == "swatch"]
    assert swatches == fills[:2]  # legend shows the same solid / hatched fills, in order


def test_output_is_deterministic_and_ids_differ_between_charts() -> None:
    rows = [("a", 1.0, "1", 2.0, "2")]
    assert paired_bar_chart_svg(rows, "x") == paired_bar_chart_svg(rows, "x")
    ids = {
        next(parse(paired_bar_chart_svg(rows, t)).iter(f"{SVG}pattern")).get("id")
        for t in ("x", "y")
    }
    assert len(ids) == 2


def test_bad_values_draw_empty_bars_not_errors() -> None:
    root = parse(
        bar_chart_svg([("nan", float("nan"), "?"), ("neg", -3.0, "-3"), ("zero", 0.0, "0")], "odd")
    )
    assert [float(r.get("width", "")) for r in bars(root)] == [0.0, 0.0, 0.0]


def test_distribution_prints_count_and_percent_per_point() -> None:
    labels = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
    root = parse(distribution_svg([1, 2, 3, 4, 0], "How safe?", labels=labels, mean=2.0))
    # n = 10: 1 → 10 %, 2 → 20 %, 3 → 30 %, 4 → 40 %, 0 → 0 %.
    shown = texts(root)
    for text in ["1 (10%)", "2 (20%)", "3 (30%)", "4 (40%)", "0 (0%)", "n = 10, mean 2.0"]:
        assert text in shown
    columns = bars(root)
    heights = [float(r.get("height", "")) for r in columns]
    assert heights[3] == pytest.approx(2 * heights[1]) and heights[4] == 0.0
    marker = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "mean")
    tip_x = float(marker.get("d", "").split()[0].removeprefix("M"))
    # The mean 2.0 sits under the centre of column "2", below every column and label.
    col = columns[1]
    assert tip_x == pytest.approx(
        float(col.get("x", "")) + float(col.get("width", "")) / 2, abs=0.1
    )
    lowest = max(float(t.get("y", "")) for t in root.iter(f"{SVG}text") if t.text in labels)
    tip_y = float(marker.get("d", "").split()[1].split("L")[0])
    assert tip_y > lowest
    assert "mean 2.0" in shown


def test_distribution_needs_one_label_per_point() -> None:
    with pytest.raises(ValueError):
        distribution_svg([1, 2], "t", labels=["only one"])
