"""HTML pages and small JSON/HTTP endpoints."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import os
import re
import resource
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import select, update
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from server.core import errors
from server.event import i18n
from server.live.meeting import Meeting
from server.report.build import build_report
from server.storage.models import Event, HealthProbe
from server.web import connections

log = logging.getLogger("townhall.web")
HEALTH_PROBE_TIMEOUT = 5.0

ROOT = Path(__file__).resolve().parents[2]  # the repository: server/, display/, table_client/
TEMPLATE_DIRS = [
    ROOT / "server" / "templates",
    ROOT / "display" / "templates",
    ROOT / "table_client" / "templates",
]


def make_templates() -> Environment:
    return Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html", "xml"], default=True),
    )


def render(
    request: Request, name: str, status: int = 200, lang: str = i18n.SOURCE, **ctx: Any
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    ctx.setdefault("languages", [])
    html = env.get_template(name).render(
        request=request, lang=lang, _=i18n.catalogues().gettext(lang), **ctx
    )
    return HTMLResponse(html, status_code=status)


def _offered(event_languages: str | None) -> list[str]:
    return i18n.catalogues().offered((event_languages or i18n.SOURCE).split(","))


def _language(request: Request, event_languages: str | None) -> tuple[str, dict[str, Any]]:
    """The page's language and what the template needs for it: the JSON bundle for the
    scripts and the switcher's links (docs/accessibility.md, "Languages")."""
    cats = i18n.catalogues()
    offered = _offered(event_languages)
    lang = i18n.choose(
        offered,
        query=request.query_params.get("lang", ""),
        cookie=request.cookies.get(i18n.COOKIE, ""),
        accept=request.headers.get("accept-language", ""),
    )
    links = []
    for code in offered if len(offered) > 1 else []:
        url = request.url.include_query_params(lang=code)
        links.append((code, i18n.NAMES.get(code, code), f"{url.path}?{url.query}"))
    return lang, {"languages": links, "i18n_bundle": json.dumps(cats.bundle(lang))}


async def _participant_page(
    request: Request, name: str, alternate: bool = False, named: bool = False, **ctx: Any
) -> HTMLResponse:
    ev = await _event(request)
    lang, extra = _language(request, ev.languages if ev else None)
    texts = await _meeting(request).texts(ev.id) if ev is not None and ev.id is not None else {}
    # The event file's own texts in this language (server/event/localtext.py), for common.js.
    extra["event_texts"] = json.dumps(texts.get(lang, {}))
    if named and ev is not None:  # the page says which meeting it joins, in its language
        extra["event_title"] = texts.get(lang, {}).get(ev.title, ev.title)
    if alternate:
        extra["alternate_languages"] = _alternation(
            request, _offered(ev.languages if ev else None), texts
        )
    response = render(request, name, lang=lang, **extra, **ctx)
    if request.query_params.get("lang") == lang:  # the switcher: remember the choice
        response.set_cookie(i18n.COOKIE, lang, max_age=7 * 86400, samesite="lax")
    return response


def _meeting(request: Request) -> Meeting:
    return request.app.state.meeting  # type: ignore[no-any-return]


async def _event(request: Request) -> Event | None:
    async with _meeting(request).db.session() as s:
        return (await s.exec(select(Event).order_by(Event.id))).first()  # type: ignore[arg-type]


async def healthz(request: Request) -> JSONResponse:
    """200 when this process can take the meeting's writes and fan them out, else 503:
    the database answers a write (a one-row update, committed) and the hub is up."""
    m = _meeting(request)
    ev = None
    try:
        async with asyncio.timeout(HEALTH_PROBE_TIMEOUT):
            ev = await _event(request)
            await _probe_write(m)
        database = "ok"
    except Exception as exc:  # whatever the driver raises, the answer is "down"
        database = "down"
        log.warning("health check: the database cannot be written (%s)", type(exc).__name__)
    hub = "ok" if m.hub.healthy else "down"
    up = database == "ok" and hub == "ok"
    gate = connections.current_gate()
    return JSONResponse(
        {
            "status": "ok" if up else "down",
            "event": ev.slug if ev else None,
            "database": database,
            "hub": hub,
            # What this process can hold (docs/security.md, "Connections").
            "open_files": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "connections": gate.status() if gate is not None else None,
            # Which server process answered: useful behind --workers N and a proxy.
            "pid": os.getpid(),
        },
        status_code=200 if up else 503,
        headers={"cache-control": "no-store"},
    )


async def _probe_write(m: Meeting) -> None:
    async with m.db.writer() as s:
        await s.exec(update(HealthProbe).values(checked=HealthProbe.checked + 1))  # type: ignore[call-overload]
        await s.commit()


async def index(request: Request) -> HTMLResponse:
    return render(request, "index.html", event=await _event(request))


async def join_page(request: Request) -> HTMLResponse:
    return await _participant_page(
        request, "join.html", code=request.path_params.get("code", ""), named=True
    )


def _join_gettext(request: Request) -> errors.Gettext:
    """The join page's language, for its error messages."""
    cats = i18n.catalogues()
    return cats.gettext(
        i18n.choose(
            cats.available(),
            cookie=request.cookies.get(i18n.COOKIE, ""),
            accept=request.headers.get("accept-language", ""),
        )
    )


JOIN_BODY_LIMIT = 1024  # {"code": "ABC123", "site": "north"} is ~40 bytes
_CODE = re.compile(r"[A-Z0-9]{1,16}")


async def _join_body(request: Request) -> dict[str, Any] | Response:
    """The join request's JSON, read up to a small limit: a 20 MB body once cost
    112 MiB. A client gone mid-body gets a quiet 400, not a logged traceback."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > JOIN_BODY_LIMIT:
        return JSONResponse({"error": "request too large"}, status_code=413)
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > JOIN_BODY_LIMIT:
                return JSONResponse({"error": "request too large"}, status_code=413)
    except ClientDisconnect:
        return Response(status_code=400)
    try:
        data = json.loads(body)
    except ValueError:  # not JSON, bad UTF-8, a number too long to convert
        return {}
    return data if isinstance(data, dict) else {}


async def api_join(request: Request) -> Response:
    address = request.client.host if request.client else "unknown"
    verdict = await request.app.state.join_limiter.check(address)
    if not verdict.allowed:
        wait = max(1, math.ceil(verdict.retry_after))
        _ = _join_gettext(request)
        return JSONResponse(
            {"error": _("Many people are joining at once. Try again in a moment.")},
            status_code=429,
            headers={"retry-after": str(wait)},
        )
    body = await _join_body(request)
    if isinstance(body, Response):
        return body
    code = str(body.get("code", "")).strip().upper()
    if not _CODE.fullmatch(code):
        code = ""
    _ = _join_gettext(request)
    if not code:
        return JSONResponse(
            {"error": _("Type the event code shown on the screen.")}, status_code=400
        )
    desk = _meeting(request).joins
    found = await desk.event(code)
    if found is None:
        return JSONResponse(
            # Not echoed: the answer never repeats what the client sent.
            {"error": _("No meeting has this code. Check the code on the screen.")},
            status_code=404,
        )
    event_id, title = found
    site_id = None
    site_key = str(body.get("site") or "")[:64]
    if site_key:
        site_id = await desk.site(event_id, site_key)
        if site_id is None:
            return JSONResponse(
                {"error": _("This meeting has no such site. Scan the code again.")},
                status_code=404,
            )
    # Group-committed with the other phones joining now; the token only once stored.
    token = await desk.join(event_id, site_id)
    return JSONResponse({"token": token, "event": title})


async def phone_page(request: Request) -> HTMLResponse:
    return await _participant_page(request, "phone.html")


async def _role_page(request: Request, role: str, template: str) -> Response:
    token = request.query_params.get("token", "")
    try:
        await _meeting(request).authenticate(token, role)
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)
    return render(request, template, token=token)


async def screen_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        await _meeting(request).authenticate(token, "display")
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)
    ev = await _event(request)
    join_url = f"{public_base(request)}/j/{ev.code}" if ev is not None else ""
    return await _participant_page(
        request, "screen.html", alternate=True, token=token, join_url=join_url
    )


def public_base(request: Request) -> str:
    """The address phones use: the configured public URL, else the one this request
    came to (a screen opened at the server's LAN address shows that address)."""
    settings = _meeting(request).settings
    if settings.public_url:
        return settings.base_url
    return f"{request.url.scheme}://{request.url.netloc}"


def _alternation(request: Request, offered: list[str], texts: dict[str, dict[str, str]]) -> str:
    """For a screen that takes turns with the event's languages: every language's
    catalogues and the pace, as JSON for common.js; "" when it keeps one language."""
    seconds = _meeting(request).settings.screen_language_seconds
    try:
        seconds = float(request.query_params.get("alternate", seconds))
    except ValueError:
        pass  # a mistyped link: the server's default
    seconds = max(seconds, 2.0) if seconds > 0 else 0.0  # slower than a reader, not a strobe
    if len(offered) < 2 or seconds <= 0 or request.query_params.get("lang"):
        return ""
    return json.dumps(
        {
            "seconds": seconds,
            "order": offered,
            "interface": {code: i18n.catalogues().bundle(code) for code in offered},
            "texts": {code: texts.get(code, {}) for code in offered},
        }
    )


async def team_page(request: Request) -> Response:
    return await _role_page(request, "team", "team.html")


async def producer_page(request: Request) -> Response:
    return await _role_page(request, "producer", "producer.html")


async def table_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        await _meeting(request).authenticate(token, "table")
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)
    ws_url = str(request.url_for("ws", role="table")).replace("http", "ws", 1)
    return render(request, "table.html", token=token, ws_url=ws_url)


async def join_qr(request: Request) -> Response:
    ev = await _event(request)
    if ev is None:
        return Response(status_code=404)
    url = f"{public_base(request)}/j/{ev.code}"
    site = request.query_params.get("site", "")
    if site.replace("-", "").replace("_", "").isalnum():
        url += f"?site={site}"
    return Response(qr_svg(url), media_type="image/svg+xml")


def qr_svg(url: str) -> str:
    """A standalone SVG document (with its namespace, or browsers refuse it as an
    <img>) that scales to any size: a viewBox in modules, drawn crisp."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=10, xmldecl=False, dark="#000", light="#fff")
    svg = out.getvalue().decode()
    size = code.symbol_size(scale=10)[0]
    scalable = f'<svg viewBox="0 0 {size} {size}" shape-rendering="crispEdges" '
    return svg.replace("<svg ", scalable, 1)


async def join_redirect(request: Request) -> Response:
    return RedirectResponse("/join")


async def producer_report(request: Request) -> Response:
    """The same-day report as of now, for the producer to download or print."""
    m = _meeting(request)
    try:
        who = await m.authenticate(request.query_params.get("token", ""), "producer")
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)
    html = await build_report(
        m.db, who.event_id, small_cell=m.settings.small_cell, css_href="/static/report.css"
    )
    return HTMLResponse(html, headers={"cache-control": "no-store"})
