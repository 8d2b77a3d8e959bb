"""The same-day report: one printable HTML document from the live data, at any moment.

``build_report`` reads one snapshot of the event (``report_data``), computes
every section as plain data and renders ``templates/report.html`` with
autoescaping on, so comment text is always shown as text. Charts are the
server-rendered SVGs of ``display.charts`` (black-and-white safe). There is no
script and no style attribute: the page works under the app's strict CSP when
its CSS is linked (``css_href``), and as a single self-contained file (CSS in
one ``<style>`` element) when written to disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from server.report.budget_sections import budget_sections
from server.report.poll_sections import poll_sections
from server.report.room_sections import demographics_section, sites_section
from server.report.shift_sections import evaluation_section, shift_sections
from server.storage.db import Database
from server.storage.event_store import EventData, load_event_data
from server.storage.poll_store import iso

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


def _where(data: EventData, table_id: int) -> tuple[str, str]:
    t = data.tables.get(table_id)
    site = data.sites.get(t.site_id) if t else None
    return (t.name if t else f"table {table_id}", site.name if site else "unknown site")


def _themes(data: EventData) -> dict[int, dict[str, Any]]:
    by_id = {c.id: c for c in data.comments}
    out: dict[int, dict[str, Any]] = {}
    for q in data.questions:
        themes = [t for t in data.themes if t.question_id == q.id]
        rows = []
        for t in sorted(
            themes, key=lambda t: (not t.published, -len(data.members.get(t.id or 0, [])))
        ):
            members = [by_id[c] for c in data.members.get(t.id or 0, []) if c in by_id]
            quote_ids = [int(c) for c in json.loads(t.quotes or "[]") if str(c).isdigit()]
            quotes = [by_id[c] for c in quote_ids if c in by_id][:3] or members[:2]
            places = Counter(_where(data, c.table_id)[1] for c in members)
            tables = sorted(
                {_where(data, c.table_id)[0] for c in members}, key=lambda n: (len(n), n)
            )
            rows.append(
                {
                    "key": t.key,
                    "label": t.label,
                    "published": t.published,
                    "size": len(members),
                    "quotes": [
                        {"text": c.text, "where": " · ".join(_where(data, c.table_id))}
                        for c in quotes
                    ],
                    "tables": tables,
                    "sites": sorted(places.items()),
                }
            )
        comments = [c for c in data.comments if c.question_id == q.id]
        themed = {c for t in themes for c in data.members.get(t.id or 0, [])}
        discarded = data.discarded.get(q.id or 0, {})
        out[q.id or 0] = {
            "themes": rows,
            "any_published": any(t.published for t in themes),
            "comments": len(comments),
            "unthemed": sum(1 for c in comments if c.id not in themed and c.id not in discarded),
            "discarded": len(discarded),
        }
    return out


def _methods(data: EventData, small_cell: int) -> dict[str, Any]:
    reasons: Counter[str] = Counter()
    for d in data.discarded.values():
        reasons.update(r or "no reason given" for r in d.values())
    return {
        "comments": len(data.comments),
        "discarded": sum(reasons.values()),
        "reasons": reasons.most_common(),
        "small_cell": small_cell,
        "model": EMBEDDING_MODEL,
        "census_questions": [d.question.prompt for d in data.demographics if d.census],
    }


def _curation(data: EventData) -> list[dict[str, str]]:
    qkeys = {q.id: q.key for q in data.questions}
    return [
        {
            "at": iso(c.at) or "",
            "actor": c.actor,
            "action": c.action,
            "question": qkeys.get(c.question_id, "") if c.question_id else "",
            "theme": c.theme_key or "",
            "before": _compact(c.before),
            "after": _compact(c.after),
        }
        for c in data.curation
    ]


def _compact(raw: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return "" if value in ({}, None, []) else json.dumps(value, ensure_ascii=False)


def report_context(data: EventData, small_cell: int) -> dict[str, Any]:
    themes = _themes(data)
    polls = poll_sections(data, small_cell)
    for p in polls:
        p.chart, p.extra_chart = Markup(p.chart), Markup(p.extra_chart)
    demographics = demographics_section(data, small_cell)
    for d in demographics:
        d["chart"] = Markup(d["chart"])  # charts escape their own text
    agenda = [
        {
            "title": r.title,
            "questions": [
                {"id": q.id, "key": q.key, "text": q.text, **themes[q.id or 0]}
                for q in data.questions
                if q.round_id == r.id
            ],
        }
        for r in data.rounds
    ]
    return {
        "event": data.event,
        "as_of": iso(data.as_of),
        "agenda": agenda,
        "polls": polls,
        "budget": budget_sections(data, small_cell),
        "demographics": demographics,
        "sites": sites_section(data),
        "methods": _methods(data, small_cell),
        "curation": _curation(data),
        "participants": len(data.participants),
        "small_cell": small_cell,
        "shifts": shift_sections(data, small_cell),
        "evaluation": evaluation_section(data, small_cell),
    }


def render_report(data: EventData, *, small_cell: int = 10, css_href: str | None = None) -> str:
    css = None if css_href else CSS_FILE.read_text(encoding="utf-8")
    tpl = _env().get_template("report.html")
    return tpl.render(**report_context(data, small_cell), css=css, css_href=css_href)


async def build_report(
    db: Database,
    event_slug_or_id: int | str,
    *,
    small_cell: int = 10,
    css_href: str | None = None,
) -> str:
    """The whole report as one HTML document, as of now (works mid-meeting).

    With ``css_href`` (e.g. ``/static/report.css`` when served under the CSP)
    the stylesheet is linked; without it, it is embedded so the file stands alone.
    """
    if small_cell < 1:
        raise ValueError("small_cell must be at least 1")
    return render_report(
        await load_event_data(db, event_slug_or_id), small_cell=small_cell, css_href=css_href
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
