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
