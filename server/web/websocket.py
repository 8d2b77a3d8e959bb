"""Websocket endpoints: one per role, all speaking the envelope in docs/protocol.md.

Every frame passes, in order: the size check (1009), the rate limit
(``rate_limited``, then 4003 for a client that keeps flooding), parsing
(``invalid`` / ``unknown_type``), the role check (``forbidden``), and only then
the meeting. No client input reaches the meeting unchecked, and no failure of
one connection touches another.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from server.core import errors
from server.event import i18n
from server.live.hub import RESYNC, Frame, MemoryHub, encode
from server.live.meeting import Meeting
from server.live.ratelimit import ConnectionLimiter, RateLimiter, SharedBuckets
from server.live.routes import PIPELINED
from server.live.token_admin import REVOCATIONS
from server.protocol import messages as protocol
from server.protocol import outgoing
from server.settings import Settings
from server.storage.db import Database
from server.storage.models import AccessToken
from server.storage.tokens import Principal

log = logging.getLogger("townhall.ws")

# Writes one connection may have handed over and not yet answered (``PIPELINED``):
# enough that a table's backlog takes one commit per 8 comments, not one each, and
# few enough that a flooding client puts at most 8 writes in the shared queue ahead
# of a calm one's (tests/security/test_flood.py: with 64, and refilled one by one,
# a calm table's p99 ack was 3.7 s; with 8 refilled together, 134 ms).
MAX_IN_FLIGHT = 8

# URL path segment -> token role
PATH_ROLES = {
    "table": "table",
    "phone": "participant",
    "display": "display",
    "team": "team",
    "producer": "producer",
}


def origin_allowed(ws: WebSocket, extra: list[str]) -> bool:
    """Browsers always send Origin; a page from another site must not act with our tokens.
    Non-browser clients (table laptops, load tests) send none and rely on their token."""
    origin = ws.headers.get("origin")
    if not origin:
        return True
    host = ws.headers.get("host", "")
    return urlsplit(origin).netloc == host or origin.rstrip("/") in extra


class Guard:
    """Per-process state every connection shares: the rate limiter, and the live
    connections by token id so a revoked token's sockets can be closed (4001).
    Revocations arrive through the hub, so they reach every process."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        hub: MemoryHub,
        shared: SharedBuckets | None = None,
    ) -> None:
        self.db = db
        self.hub = hub
        self.shared = shared  # with a Redis hub: per-token buckets across processes
        self.limiter = RateLimiter(
            settings.rate_limits, settings.rate_token_factor, settings.rate_flood_close
        )
        self._live: dict[int, set[_Connection]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(ready))
        await ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def add(self, token_id: int, conn: _Connection) -> None:
        self._live[token_id].add(conn)

    def discard(self, token_id: int, conn: _Connection) -> None:
        conns = self._live.get(token_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._live[token_id]

    def live_count(self, token_id: int) -> int:
        return len(self._live.get(token_id, ()))

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.hub.subscribe(REVOCATIONS) as sub:
            ready.set()
            while True:
                message = await sub.get()
                try:
                    if message is RESYNC:
                        # Notices were dropped: ask the database which live tokens died.
                        await self._close_tokens(await self._revoked_among(list(self._live)))
                    else:
                        await self._close_tokens([int(t) for t in message.get("token_ids", [])])
                except Exception:
                    log.exception("could not apply a token revocation")

    async def _revoked_among(self, token_ids: list[int]) -> list[int]:
        if not token_ids:
            return []
        async with self.db.session() as s:
            q = select(AccessToken.id).where(
                col(AccessToken.id).in_(token_ids), col(AccessToken.revoked).is_(True)
            )
            return [i for i in (await s.exec(q)).all() if i is not None]

    async def _close_tokens(self, token_ids: list[int]) -> None:
        conns = [c for t in token_ids for c in list(self._live.get(t, ()))]
        await asyncio.gather(
            *(c.kick(errors.CLOSE_TOKEN_REVOKED, REVOKED, "forbidden") for c in conns)
        )
        if conns:
            log.info("closed %d connection(s) of revoked tokens", len(conns))


REVOKED = "this link was revoked by the producer; ask for a new one"


async def endpoint(ws: WebSocket) -> None:
    meeting: Meeting = ws.app.state.meeting
    guard: Guard = ws.app.state.guard
    role = PATH_ROLES.get(ws.path_params["role"])
    await ws.accept()
    if role is None:
        await _refuse(ws, "no such endpoint")
        return
    if not origin_allowed(ws, meeting.settings.allowed_origins):
        await _refuse(ws, "connections from other sites are not allowed")
        return
    try:
        who = await meeting.authenticate(ws.query_params.get("token"), role)
    except errors.Forbidden as exc:
        await _refuse(ws, exc.message)
        return
    who = dataclasses.replace(who, base_url=_base_url(ws, meeting.settings))
    conn = _Connection(ws, meeting, guard, who)
    guard.add(who.token_id, conn)
    try:
        await conn.run()
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("connection failed")
        with contextlib.suppress(Exception):
            await ws.close(errors.CLOSE_SERVER_ERROR)
    finally:
        guard.discard(who.token_id, conn)


async def _refuse(ws: WebSocket, message: str) -> None:
    await ws.send_json({"type": "error", "id": None, "code": "forbidden", "message": message})
    await ws.close(errors.CLOSE_POLICY, reason=message[:120])


class _Connection:
    def __init__(self, ws: WebSocket, meeting: Meeting, guard: Guard, who: Principal) -> None:
        self.ws = ws
        self.meeting = meeting
        self.guard = guard
        self.who = who
        self.limiter: ConnectionLimiter = guard.limiter.connection(who.role, who.token_id)
        self._send_lock = asyncio.Lock()
        self._closed = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None  # the last pipelined write's
        # Participants' pages say their language (?lang=) so refusals reach them in it.
        lang = ws.query_params.get("lang", "")
        cats = i18n.catalogues()
        self.gettext = cats.gettext(lang) if lang in cats.available() else None

    async def send(self, message: dict[str, Any]) -> None:
        if self.meeting.settings.check_protocol:
            try:
                outgoing.check(self.who.role, message)
            except outgoing.ProtocolBreach as exc:
                # Loud on purpose: the test suite runs with the check on.
                log.error("not sent, it breaks the protocol spec: %s", exc)
                await self.kick(errors.CLOSE_SERVER_ERROR, "protocol breach")
                return
        text = message.text() if isinstance(message, Frame) else encode(message)
        async with self._send_lock:
            if not self._closed:
                await self.ws.send_text(text)

    async def kick(self, code: int, message: str, error_code: str | None = None) -> None:
        """Close from the server side (revoked token, flooding, oversize frame),
        with an ``error`` first when the client should show why."""
        async with self._send_lock:
            if self._closed or self.ws.application_state != WebSocketState.CONNECTED:
                return
            self._closed = True
            with contextlib.suppress(Exception):
                if error_code is not None:
                    await self.ws.send_json(
                        {"type": "error", "id": None, "code": error_code, "message": message}
                    )
                await self.ws.close(code, reason=message[:120])

    async def run(self) -> None:
        who = self.who
        async with self.meeting.subscribe(who) as sub:
            await self.send(await self.meeting.snapshot(who))
            pusher = asyncio.create_task(self._push(sub))
            try:
                await self._read()
            finally:
                # Writes handed over are committed whatever happens; let them be answered.
                await self._settle()
                pusher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pusher

    async def _push(self, sub: Any) -> None:
        while True:
            message = await sub.get()
            if message is RESYNC:
                message = await self.meeting.snapshot(self.who)
            await self.send(message)

    async def _read(self) -> None:
        limit = self.meeting.settings.max_frame_bytes
        while not self._closed:
            frame = await self.ws.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            text: str | None = frame.get("text")
            size = len(text.encode()) if text is not None else len(frame.get("bytes") or b"")
            if size > limit:
                await self.kick(errors.CLOSE_TOO_BIG, "frame too big")
                return
            verdict = await self.limiter.check_across(self.guard.shared)
            if not verdict.allowed:
                if verdict.close:
                    log.warning("closing a %s connection that keeps flooding", self.who.role)
                    await self.kick(
                        errors.CLOSE_FLOODING,
                        self._tr(errors.N_("Too many messages; slow down.")),
                        "rate_limited",
                    )
                    return
                msg_id = protocol.message_id(text) if text is not None else None
                await self._settle()  # answers go out in the order the frames came
                await self.send(_rate_limited(msg_id, verdict.retry_after, self.gettext))
                continue
            if text is None:
                await self._settle()
                await self.send(
                    _error(None, errors.InvalidMessage("send JSON text frames, not binary"))
                )
                continue
            await self._dispatch(text)

    async def _dispatch(self, text: str) -> None:
        """Handle one frame. A group-committed write (``PIPELINED``) is handed over
        without waiting for its commit, so the writes a client sends back to back
        share commits; any other message first waits until those are answered, so it
        sees them done (a star after its comment), as with one message at a time.
        Answers still go out in the order the frames came: each pipelined write's
        waits for the one before it.

        Order holds: tasks start in the order they are created, and a pipelined write
        reaches its group commit's queue before its first wait."""
        try:
            msg = self._parse(text)
        except errors.TownhallError as exc:
            await self._settle()
            await self.send(_error(protocol.message_id(text), exc, self.gettext))
            return
        if (self.who.role, msg.type) not in PIPELINED:
            await self._settle()
            await self._handle(msg, text)
            return
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            # All of them, not the first: refilled one by one, the queue would be
            # committed one write at a time again.
            await self._settle()
        task = asyncio.create_task(self._handle_pipelined(msg, text, self._last))
        self._last = task
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _settle(self) -> None:
        """Wait until every pipelined write is answered."""
        await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _handle_pipelined(
        self, msg: Any, text: str, after: asyncio.Task[None] | None
    ) -> None:
        try:
            await self._handle(msg, text, after)
        except Exception:  # the answer could not be sent: the client went away
            log.debug("an answer was not sent", exc_info=True)

    async def _handle(
        self, msg: Any, text: str, after: asyncio.Task[None] | None = None
    ) -> None:
        later: list[tuple[str, dict[str, Any]]] = []
        try:
            reply, later = await self.meeting.handle(self.who, msg)
        except errors.TownhallError as exc:
            reply = _error(protocol.message_id(text), exc, self.gettext)
        except Exception:
            log.exception("write failed")
            reply = {
                "type": "error",
                "id": protocol.message_id(text),
                "code": "server_error",
                "message": self._tr(
                    errors.N_("The server could not store this; it was not saved. Send it again.")
                ),
            }
        if after is not None:
            await asyncio.wait([after])  # its answer first (it never raises: see above)
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.send(reply)
        for topic, message in later:
            # After the ack: a producer re-issuing their own link gets the new one first.
            await self.meeting.hub.publish(topic, message)

    @staticmethod
    def _parse(text: str) -> Any:
        try:
            return protocol.parse(text)
        except RecursionError as exc:
            raise errors.InvalidMessage("the message is nested too deeply") from exc

    def _tr(self, msgid: str) -> str:
        return self.gettext(msgid) if self.gettext is not None else msgid



def _base_url(ws: WebSocket, settings: Settings) -> str:
    """Where links sent on this connection point: the public URL if set, else the
    address the client reached us at (one a table can reach too)."""
    if settings.public_url:
        return settings.base_url
    scheme = "https" if ws.url.scheme == "wss" else "http"
    return f"{scheme}://{ws.url.netloc}"


def _error(
    msg_id: str | None, exc: errors.TownhallError, gettext: errors.Gettext | None = None
) -> dict[str, Any]:
    return {"type": "error", "id": msg_id, "code": exc.code, "message": exc.translated(gettext)}


def _rate_limited(
    msg_id: str | None, retry_after: float, gettext: errors.Gettext | None = None
) -> dict[str, Any]:
    wait = max(0.1, round(retry_after, 1))
    exc = errors.RateLimited(
        errors.N_("Slow down: too many messages; this one was not stored, send it again in {s} s"),
        s=f"{wait:g}",
    )
    return {**_error(msg_id, exc, gettext), "retry_after": wait}
