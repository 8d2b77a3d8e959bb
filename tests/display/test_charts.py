"""SVG charts: well-formed, accessible, escaped, readable without colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.charts import bar_chart_svg, distribution_svg, paired_bar_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'friends\''


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
    xml_ok = "".join(c for c in label if c in "\t\n\r" or (" " <= c and c not in "\ufffe\uffff"
                                                          and not "\ud800" <= c <= "\udfff"))
    assert xml_ok in texts(root)


def test_long_labels_are_shortened_on_screen_but_kept_in_full_for_readers() -> None:
    label = "A very long option label that would run into the bars " * 3
    root = parse(bar_chart_svg([(label, 1.0, "1")], "t"))
    shown = next(t for t in texts(root) if t.endswith("…"))
    assert len(shown) < len(label) and label.startswith(shown[:-1])
    assert label in [t.text for t in root.iter(f"{SVG}title")]


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
    ids = {next(parse(paired_bar_chart_svg(rows, t)).iter(f"{SVG}pattern")).get("id")
           for t in ("x", "y")}
    assert len(ids) == 2


def test_bad_values_draw_empty_bars_not_errors() -> None:
    root = parse(bar_chart_svg([("nan", float("nan"), "?"), ("neg", -3.0, "-3"),
                                ("zero", 0.0, "0")], "odd"))
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
    mean_line = next(ln for ln in root.iter(f"{SVG}line") if ln.get("stroke-dasharray"))
    assert mean_line.get("stroke-dasharray")  # dashed, so it reads without colour
    # The mean 2.0 sits on the centre of column "2".
    col = columns[1]
    assert float(mean_line.get("x1", "")) == pytest.approx(
        float(col.get("x", "")) + float(col.get("width", "")) / 2, abs=0.1)


def test_distribution_needs_one_label_per_point() -> None:
    with pytest.raises(ValueError):
        distribution_svg([1, 2], "t", labels=["only one"])
