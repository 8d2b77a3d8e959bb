"""The producer's printable links page: fresh facilitator links with QR codes.

Only token hashes are stored, so an old link can never be shown again: the page
issues *fresh* table tokens, and only when the producer asks (revoking the old
ones and closing their connections with 4001). Re-issuing one role's link from
the console is ``server.live.token_admin``.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import segno
from markupsafe import Markup
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.live.meeting import Meeting
from server.live.token_admin import link_for, revoked_notice
from server.storage import tokens
from server.storage.models import EventTable, Site
from server.storage.tokens import Principal
from server.web.pages import render

log = logging.getLogger("townhall.admin")

_MAX_FORM_BYTES = 8192


# -- the printable links page ---------------------------------------------------


def _qr_svg(url: str) -> Markup:
    # segno writes the SVG from our own URL only: no user text reaches this markup.
    return Markup(segno.make(url, error="m").svg_inline(scale=3, dark="#000", light="#fff"))


async def _producer(request: Request, token: str) -> Principal | Response:
    try:
        return await _meeting(request).authenticate(token, "producer")
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)


def _meeting(request: Request) -> Meeting:
    return request.app.state.meeting  # type: ignore[no-any-return]


async def _tables(request: Request, event_id: int) -> list[tuple[EventTable, str]]:
    async with _meeting(request).db.session() as s:
        sites = {site.id: site.name for site in (await s.exec(select(Site))).all()}
        q = select(EventTable).where(EventTable.event_id == event_id)
        rows = sorted((await s.exec(q)).all(), key=lambda t: t.number)
    return [(t, sites.get(t.site_id, "")) for t in rows]


def _no_store(response: Response) -> Response:
    # The page shows live tokens: never keep it in a cache or history snapshot.
    response.headers["cache-control"] = "no-store"
    return response


async def links_page(request: Request) -> Response:
    """GET: the list of tables and the button; POST: issue fresh links and show them."""
    if request.method == "GET":
        token = request.query_params.get("token", "")
        who = await _producer(request, token)
        if isinstance(who, Response):
            return who
        tables = await _tables(request, who.event_id)
        return _no_store(render(request, "links.html", token=token, tables=tables, cards=None))
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return Response("form too large", status_code=413)
    form = parse_qs(body.decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    who = await _producer(request, token)
    if isinstance(who, Response):
        return who
    tables = await _tables(request, who.event_id)
    wanted = _wanted_numbers(form.get("tables", []), {t.number for t, _ in tables})
    base = _meeting(request).settings.public_url or str(request.base_url)
    cards, revoked = [], []
    meeting = _meeting(request)
    async with meeting.db.writer() as s:
        for table, site in tables:
            if table.number not in wanted:
                continue
            fresh, old = await tokens.reissue(s, who.event_id, "table", table.id, table.name)
            revoked += old
            link = link_for(base, "table", fresh)
            cards.append({"table": table, "site": site, "link": link, "qr": _qr_svg(link)})
        await s.commit()
    if revoked:
        await meeting.hub.publish(*revoked_notice(revoked))
    log.info("fresh links for %d table(s); %d old token(s) revoked", len(cards), len(revoked))
    return _no_store(render(request, "links.html", token=token, tables=tables, cards=cards))


def _wanted_numbers(values: list[str], known: set[int]) -> set[int]:
    """``all``, or table numbers and ranges like ``1-8, 12``."""
    wanted: set[int] = set()
    for value in values:
        for part in value.replace(" ", "").split(","):
            if part == "all":
                return known
            lo, _, hi = part.partition("-")
            if lo.isdigit() and (not hi or hi.isdigit()):
                first, last = int(lo), int(hi or lo)
                wanted |= {n for n in known if first <= n <= last}
    return wanted
