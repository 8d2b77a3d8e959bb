"""The same-day report: one printable HTML document from the live data, at any moment.

``build_report`` reads one snapshot of the event (``storage/event_store``), computes
every section as plain data and renders ``templates/report.html`` with
autoescaping on, so comment text is always shown as text. Charts are the
server-rendered SVGs of ``display.charts`` (black-and-white safe). There is no
script and no style attribute: the page works under the app's strict CSP when
its CSS is linked (``css_href``), and as a single self-contained file (CSS in
one ``<style>`` element) when written to disk.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from server.report.budget_sections import budget_sections
from server.report.log_sections import log_sections
from server.report.poll_sections import poll_sections, room_weights
from server.report.room_sections import demographics_section, sites_section
from server.report.shift_sections import evaluation_section, shift_sections
from server.report.summary import build_summary
from server.report.theme_sections import theme_sections
from server.report.words import Words
from server.storage.db import Database
from server.storage.event_store import EventData, load_event_data

HERE = Path(__file__).resolve().parents[1]  # server/: its templates and static files
CSS_FILE = HERE / "static" / "report.css"
CHROMIUM = os.environ.get("TOWNHALL_CHROMIUM", "/usr/bin/chromium")
EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class ReportError(RuntimeError):
    pass


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _methods(data: EventData, small_cell: int, w: Words) -> dict[str, Any]:
    _ = w.gettext
    reasons: Counter[str] = Counter()
    for d in data.discarded.values():
        reasons.update(r or _("no reason given") for r in d.values())
    return {
        "comments": len(data.comments),
        "discarded": sum(reasons.values()),
        "reasons": reasons.most_common(),
        "small_cell": small_cell,
        "model": EMBEDDING_MODEL,
        "census_questions": [w.text(d.question.prompt) for d in data.demographics if d.census],
    }


def _svg(items: list[Any], *names: str) -> None:
    """Charts are SVG text that escapes its own content: mark them safe for Jinja."""
    for item in items:
        for name in names:
            if isinstance(item, dict):
                item[name] = Markup(item[name])
            else:
                setattr(item, name, Markup(getattr(item, name)))


def report_context(data: EventData, small_cell: int, w: Words) -> dict[str, Any]:
    themes = theme_sections(data, w)
    polls = poll_sections(data, small_cell, w, room_weights(data))
    budget = budget_sections(data, small_cell, w)
    shifts = shift_sections(data, small_cell, w)
    evaluation = evaluation_section(data, small_cell, w)
    room = demographics_section(data, small_cell, w)
    sites = sites_section(data, w)
    summary = build_summary(
        w=w, themes=themes, polls=polls, budget=budget, shifts=shifts, evaluation=evaluation,
        room=room, sites=sites, participants=len(data.participants), tables=len(data.tables),
    )
    _svg(polls, "chart")
    _svg(budget, "chart")
    _svg(shifts, "chart")
    room.chart = Markup(room.chart)
    summary.room_chart = Markup(summary.room_chart)
    return {
        "_": w.gettext,
        "lang": w.lang,
        "event_title": w.text(data.event.title),
        "as_of": w.when(data.as_of),
        "as_of_iso": w.local(data.as_of).isoformat(timespec="seconds"),
        "timezone": w.zone.key,
        "summary": summary,
        "themes": themes,
        "polls": polls,
        "budget": budget,
        "shifts": shifts,
        "evaluation": evaluation,
        "room": room,
        "sites": sites,
        "methods": _methods(data, small_cell, w),
        "log": log_sections(data, w),
        "participants": len(data.participants),
        "tables": len(data.tables),
        "small_cell": small_cell,
        "unreviewed": any(q.unreviewed for q in themes),
    }


def render_report(
    data: EventData, *, small_cell: int = 10, css_href: str | None = None, lang: str | None = None
) -> str:
    """The report in ``lang`` (one of the event's languages; default its first)."""
    w = Words.make(data.languages, data.event.timezone, data.texts, lang)
    css = None if css_href else CSS_FILE.read_text(encoding="utf-8")
    tpl = _env().get_template("report.html")
    return tpl.render(**report_context(data, small_cell, w), css=css, css_href=css_href)


async def build_report(
    db: Database,
    event_slug_or_id: int | str,
    *,
    small_cell: int = 10,
    css_href: str | None = None,
    lang: str | None = None,
) -> str:
    """The whole report as one HTML document, as of now (works mid-meeting).

    With ``css_href`` (e.g. ``/static/report.css`` when served under the CSP)
    the stylesheet is linked; without it, it is embedded so the file stands alone.
    """
    if small_cell < 1:
        raise ValueError("small_cell must be at least 1")
    return render_report(
        await load_event_data(db, event_slug_or_id),
        small_cell=small_cell,
        css_href=css_href,
        lang=lang,
    )


def chromium_path() -> str | None:
    return shutil.which(CHROMIUM)


async def report_pdf(html_path: Path | str, pdf_path: Path | str, *, timeout_s: float = 60) -> None:
    """Print the HTML report to PDF with headless Chromium (A4, backgrounds on)."""
    exe = chromium_path()
    if exe is None:
        raise ReportError(
            f"Chromium not found at {CHROMIUM} (install it, e.g. `apt-get install chromium`, "
            "or set TOWNHALL_CHROMIUM); the HTML report can still be printed from any browser"
        )
    # Here, not at the top: Playwright adds ~0.4 s to start-up, and only PDFs need it.
    from playwright.async_api import async_playwright

    uri = await asyncio.to_thread(lambda: Path(html_path).resolve().as_uri())

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=exe, args=args, headless=True, timeout=timeout_s * 1000
        )
        try:
            page = await browser.new_page()
            await page.goto(uri, timeout=timeout_s * 1000)
            await page.pdf(
                path=str(pdf_path),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            await browser.close()
