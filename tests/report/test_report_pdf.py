"""The demo meeting's report as printed: Chromium's PDF, its pages as images (pdftoppm)
and as text (pdftotext), read the way an organiser would before handing it over."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo_meeting import print_demo_report

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.timeout(420)]

MAIN_BODY_PAGES = 12
A4_CONTENT_PX = 703  # 210 mm less 2 × 12 mm margins, at 96 px per inch
SUMMARY_PARTS = {
    "What the room said": "comments from",
    "What the room decided": "voted",
    "Did minds change?": "answered both times",
    "Who was in the room": "participants",
    "How participants rated the day": "of 5",
}


@dataclass
class Printed:
    db: Path
    html: Path
    pdf: Path
    pages: list[str]  # pdftotext of each page
    images: list[Path]  # pdftoppm, one greyscale image per page


def _poppler(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} not found: apt-get install poppler-utils (.ci/run installs it)")
    return exe


def _pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary greyscale PGM (what pdftoppm -gray writes)."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1 : pos + 1 + width * height]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    pdftoppm, pdftotext = _poppler("pdftoppm"), _poppler("pdftotext")
    folder = tmp_path_factory.mktemp("demo-report")
    db, html, pdf = asyncio.run(print_demo_report(folder))
    subprocess.run([pdftoppm, "-r", "40", "-gray", str(pdf), str(folder / "page")], check=True)
    images = sorted(folder.glob("page-*.pgm"))
    pages = [
        subprocess.run(
            [pdftotext, "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, len(images) + 1)
    ]
    return Printed(db, html, pdf, pages, images)


def test_page_one_holds_the_summary_in_five_parts(printed: Printed) -> None:
    first = " ".join(printed.pages[0].split())
    for heading, content in SUMMARY_PARTS.items():
        assert heading in first, heading
        after = first[first.index(heading) + len(heading) :]
        assert content in after, (heading, content)
    # The published themes lead, largest first, each with its size and tables.
    with sqlite3.connect(printed.db) as con:
        label, size = con.execute(
            "select t.label, count(*) n from theme t join thememembership m on m.theme_id = t.id"
            " where t.published group by t.id order by n desc, t.label limit 1"
        ).fetchone()
    said = first[first.index("What the room said") : first.index("What the room decided")]
    assert said.index(f"1. {label}") < said.index(f"{size} comments from")
    _w, _h, ink = _pgm(printed.images[0])
    dark = sum(1 for p in ink if p < 128) / len(ink)
    assert dark > 0.02, "page 1 is nearly blank"


def test_main_body_fits_twelve_pages_with_the_appendices_after_it(printed: Printed) -> None:
    starts = [
        i
        for i, text in enumerate(printed.pages)
        if "Appendix" in text.split("\n", 3)[0] or text.lstrip().startswith("Appendix")
    ]
    assert starts, "no appendix found"
    main = starts[0]
    assert main <= MAIN_BODY_PAGES, f"main body is {main} pages"
    body = "\n".join(printed.pages[:main])
    for heading in (
        "What the tables said",
        "Polls",
        "Budgets",
        "Did minds change?",
        "How participants rated the day",
        "Who was in the room",
    ):
        assert heading in body, heading
    rest = "\n".join(printed.pages[main:])
    order = [rest.index(f"Appendix {x}.") for x in "BCD"]
    assert order == sorted(order)
    assert "What the tables said" not in rest


def test_nothing_is_printed_into_the_page_margins(printed: Printed) -> None:
    # 12 mm side margins at 40 dpi are 18 px; anything dark there was cut or overflowed.
    for n, image in enumerate(printed.images, start=1):
        width, height, ink = _pgm(image)
        edge = 12
        for y in range(height):
            row = ink[y * width : (y + 1) * width]
            assert min(row[:edge]) > 200 and min(row[-edge:]) > 200, f"ink in a margin, page {n}"


async def test_no_chart_text_is_clipped_or_overlapping(printed: Printed, browser: Any) -> None:
    page = await browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1000})
    await page.emulate_media(media="print")
    await page.goto(printed.html.as_uri())
    problems = await page.eval_on_selector_all(
        "figure.chart svg",
        """svgs => svgs.flatMap(svg => {
            const box = svg.getBoundingClientRect();
            const texts = [...svg.querySelectorAll("text")]
                .map(t => [t, t.getBoundingClientRect()]);
            const out = [];
            for (const [t, r] of texts) {
                if (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
                    r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
                    out.push('clipped: ' + t.textContent);
            }
            for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
                const a = texts[i][1], b = texts[j][1];
                const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (w > 1 && h > 1) out.push('overlap: ' + texts[i][0].textContent + ' / ' +
                                             texts[j][0].textContent);
            }
            for (const m of svg.querySelectorAll('.mean')) {
                const r = m.getBoundingClientRect();
                for (const [t, b] of texts) {
                    if (Math.min(r.right, b.right) - Math.max(r.left, b.left) > 1 &&
                        Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) > 1)
                        out.push('mean marker over: ' + t.textContent);
                }
            }
            return out;
        })""",
    )
    titles = await page.eval_on_selector_all("figure.chart svg text.title", "els => els.length")
    charts = await page.eval_on_selector_all("figure.chart svg", "els => els.length")
    await page.close()
    assert problems == []
    # 3 polls + 3 budgets + 1 asked twice + who was in the room (body and page 1)
    assert charts == 9 and titles >= charts


async def test_allocation_chart_is_in_points_with_each_options_mean(
    printed: Printed, browser: Any
) -> None:
    page = await browser.new_page()
    await page.goto(printed.html.as_uri())
    texts = await page.eval_on_selector_all(
        "#budget-spread-100 figure.chart svg text", "els => els.map(e => e.textContent)"
    )
    await page.close()
    with sqlite3.connect(printed.db) as con:
        ballots = [
            json.loads(a)
            for (a,) in con.execute(
                "select v.amounts from vote v join poll p on p.id = v.poll_id"
                " where p.key = 'spread-100'"
            )
        ]
        labels = dict(
            con.execute(
                "select o.key, o.label from polloption o join poll p on p.id = o.poll_id"
                " where p.key = 'spread-100'"
            )
        )
    assert len(ballots) >= 30
    values = [t for t in texts if "middle half" in t and t[0].isdigit()]
    assert len(values) == len(labels)
    assert all("points" in t and "%" not in t for t in values)
    for key in labels:
        mean = sum(b.get(key, 0) for b in ballots) / len(ballots)
        assert any(t.startswith(f"{mean:.1f} points") for t in values), (key, mean, values)
