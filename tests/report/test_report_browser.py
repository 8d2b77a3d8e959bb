"""The report in headless Chromium: charts drawn, no CSP violations when served, PDF printed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from server.report.build import build_report, report_pdf
from server.storage.db import Database
from tests.support.eventgen import StoredMeeting

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000


async def write_report(meeting: StoredMeeting, path: Path) -> Path:
    db = Database(meeting.url)
    try:
        html = await build_report(db, meeting.gen.slug)
        await asyncio.to_thread(path.write_text, html, encoding="utf-8")
    finally:
        await db.dispose()
    return path


async def test_report_charts_render_in_chromium(
    meeting: StoredMeeting,
    browser: Any,
    tmp_path: Path,
) -> None:
    html = await write_report(meeting, tmp_path / "report.html")
    page = await browser.new_page(viewport={"width": 1000, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(html.as_uri(), timeout=TIMEOUT_MS)
    boxes = await page.eval_on_selector_all(
        "figure.chart svg",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.width, r.height,"
        " e.querySelectorAll('rect.bar, circle.room').length]; })",
    )
    # 3 polls + 3 budgeting polls + the poll asked twice + who was in the room (in the
    # body and on page 1).
    assert len(boxes) == 3 + 3 + 1 + 2
    for width, height, bars in boxes:
        assert width > 100 and height > 100 and bars > 0
    bar_widths = await page.eval_on_selector_all(
        "#poll-warmup rect.bar", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert any(w > 5 for w in bar_widths)
    shot = tmp_path / "report.png"
    await page.locator("#poll-warmup figure.chart").screenshot(path=str(shot), timeout=TIMEOUT_MS)
    assert shot.stat().st_size > 5_000
    assert errors == []
    await page.close()


async def test_report_with_linked_css_has_no_inline_style_or_script(meeting: StoredMeeting) -> None:
    db = Database(meeting.url)
    try:
        html = await build_report(db, meeting.gen.slug, css_href="/static/report.css")
    finally:
        await db.dispose()
    assert "<style" not in html and " style=" not in html and "<script" not in html
    assert '<link rel="stylesheet" href="/static/report.css">' in html


async def test_report_prints_to_pdf(meeting: StoredMeeting, browser: Any, tmp_path: Path) -> None:
    html = await write_report(meeting, tmp_path / "report.html")
    pdf = tmp_path / "report.pdf"
    await report_pdf(html, pdf, timeout_s=60)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 6


async def test_report_reads_on_a_phone_wide_tables_scroll_alone(
    meeting: StoredMeeting, browser: Any, tmp_path: Path
) -> None:
    """Seen at 390 px: the results-by-group tables pushed the whole report 178–288 px
    sideways. Each now scrolls inside a named region a keyboard can reach."""
    html = await write_report(meeting, tmp_path / "report.html")
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(html.as_uri(), timeout=TIMEOUT_MS)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report is {width} px wide on a 390 px phone"
    regions = await page.eval_on_selector_all(
        "table.crosstab",
        "ts => ts.map(t => { const w = t.parentElement; return [w.className,"
        " w.getAttribute('role'), w.getAttribute('tabindex'), w.getAttribute('aria-label') || '',"
        " w.scrollWidth > w.clientWidth]; })",
    )
    assert regions, "no table by group in the report"
    for cls, role, tabindex, name, _ in regions:
        assert (cls, role, tabindex) == ("wide", "region", "0") and name.strip(), regions
    assert any(scrolls for *_, scrolls in regions)  # the meeting has a wide one to scroll
    await page.screenshot(path=str(tmp_path / "report-phone.png"), full_page=True)
    await page.close()
