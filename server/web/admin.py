"""Token administration for the producer: re-issue or revoke a role's link from
the console, and print fresh facilitator links with QR codes.

Only token hashes are stored, so an old link can never be shown again: the
links page issues *fresh* table tokens, and only when the producer asks
(revoking the old ones and closing their connections with 4001).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import segno
from markupsafe import Markup
from pydantic import Field, ValidationError
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.live.hub import MemoryHub
from server.live.meeting import Meeting
from server.protocol.messages import _Write
from server.storage import tokens
from server.storage.models import EventTable, Site
from server.storage.tokens import Principal
from server.web.pages import render

log = logging.getLogger("townhall.admin")

# Hub topic on which every process hears which token ids were revoked.
REVOCATIONS = "revocations"
ADMIN_TYPES = frozenset({"reissue_token", "revoke_token"})
# Resends of a re-issue get the same ack (and token) while this process remembers it.
_REMEMBERED_ACKS = 200
_MAX_FORM_BYTES = 8192


class _AdminMsg(_Write):
    role: Literal["table", "team", "display", "producer"]
    table: int | None = Field(None, ge=1, le=100_000)


class ReissueTokenMsg(_AdminMsg):
    type: Literal["reissue_token"]


class RevokeTokenMsg(_AdminMsg):
    type: Literal["revoke_token"]


AdminMsg = ReissueTokenMsg | RevokeTokenMsg


def is_admin_message(text: str) -> bool:
    with contextlib.suppress(ValueError, RecursionError):
        data = json.loads(text)
        return (
            isinstance(data, dict)
            and isinstance(data.get("type"), str)
            and (data["type"] in ADMIN_TYPES)
        )
    return False


def parse(text: str) -> AdminMsg:
    data = json.loads(text)
    model = ReissueTokenMsg if data.get("type") == "reissue_token" else RevokeTokenMsg
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise errors.InvalidMessage(
            f"{where}: {first['msg'].removeprefix('Value error, ')}"
        ) from exc


def link_for(base_url: str, role: str, token: str) -> str:
    base = base_url.rstrip("/")
    if role == "table":
        return f"{base}/t/{token}"
    page = {"team": "team", "display": "screen", "producer": "producer"}[role]
    return f"{base}/{page}?token={token}"


async def announce_revoked(hub: MemoryHub, token_ids: list[int]) -> None:
    await hub.publish(REVOCATIONS, {"type": "revoked", "token_ids": token_ids})


@dataclass
class AdminResult:
    reply: dict[str, Any]
    revoked: list[int] = field(default_factory=list)


class TokenAdmin:
    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting
        self._acks: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def handle(self, who: Principal, msg: AdminMsg, base_url: str) -> AdminResult:
        if who.role != "producer":
            raise errors.Forbidden(f"the {who.role} role cannot send {msg.type!r}")
        if msg.id in self._acks:
            return AdminResult(self._acks[msg.id])
        if (msg.role == "table") != (msg.table is not None):
            raise errors.InvalidMessage("table: give a table number for role 'table' only")
        if msg.type == "revoke_token" and msg.role == "producer":
            raise errors.InvalidMessage(
                "revoking the producer link would lock everyone out; re-issue it instead"
            )
        async with self.meeting.db.writer() as s:
            table_id = None
            if msg.table is not None:
                table = await _table_by_number(s, who.event_id, msg.table)
                table_id = table.id
            ack: dict[str, Any] = {"type": "ack", "id": msg.id, "role": msg.role}
            if msg.table is not None:
                ack["table"] = msg.table
            if msg.type == "reissue_token":
                label = table.name if msg.table is not None else ""
                token, revoked = await tokens.reissue(s, who.event_id, msg.role, table_id, label)
                ack |= {"token": token, "link": link_for(base_url, msg.role, token)}
            else:
                revoked = await tokens.revoke_role_tokens(s, who.event_id, msg.role, table_id)
            await s.commit()
        ack["revoked"] = len(revoked)
        log.info("producer %s for %s: %d old token(s) revoked", msg.type, _what(msg), len(revoked))
        self._acks[msg.id] = ack
        while len(self._acks) > _REMEMBERED_ACKS:
            self._acks.popitem(last=False)
        return AdminResult(ack, revoked)


def _what(msg: AdminMsg) -> str:
    return f"table {msg.table}" if msg.table is not None else msg.role


async def _table_by_number(s: Any, event_id: int, number: int) -> EventTable:
    q = select(EventTable).where(EventTable.event_id == event_id, EventTable.number == number)
    table = (await s.exec(q)).first()
    if table is None:
        raise errors.NotFound(f"there is no table {number}")
    return table  # type: ignore[no-any-return]


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
        await announce_revoked(meeting.hub, revoked)
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
