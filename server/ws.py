"""Websocket endpoints: one per role, all speaking the envelope in docs/protocol.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from server import errors, protocol
from server.hub import RESYNC
from server.meeting import Meeting

log = logging.getLogger("townhall.ws")

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


async def endpoint(ws: WebSocket) -> None:
    meeting: Meeting = ws.app.state.meeting
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
    conn = _Connection(ws, meeting)
    try:
        await conn.run(who)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("connection failed")
        with contextlib.suppress(Exception):
            await ws.close(errors.CLOSE_SERVER_ERROR)


async def _refuse(ws: WebSocket, message: str) -> None:
    await ws.send_json({"type": "error", "id": None, "code": "forbidden", "message": message})
    await ws.close(errors.CLOSE_POLICY, reason=message[:120])


class _Connection:
    def __init__(self, ws: WebSocket, meeting: Meeting) -> None:
        self.ws = ws
        self.meeting = meeting
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(message)

    async def run(self, who: Any) -> None:
        async with self.meeting.hub.subscribe(*self.meeting.topics(who)) as sub:
            await self.send(await self.meeting.snapshot(who))
            pusher = asyncio.create_task(self._push(sub, who))
            try:
                await self._read(who)
            finally:
                pusher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pusher

    async def _push(self, sub: Any, who: Any) -> None:
        while True:
            message = await sub.get()
            if message is RESYNC:
                message = await self.meeting.snapshot(who)
            await self.send(message)

    async def _read(self, who: Any) -> None:
        limit = self.meeting.settings.max_frame_bytes
        while True:
            frame = await self.ws.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            text = frame.get("text")
            if text is None:
                await self.send(
                    _error(None, errors.InvalidMessage("send JSON text frames, not binary"))
                )
                continue
            if len(text.encode()) > limit:
                await self.ws.close(errors.CLOSE_TOO_BIG, reason="frame too big")
                return
            await self._handle(who, text)

    async def _handle(self, who: Any, text: str) -> None:
        try:
            msg = protocol.parse(text)
            reply = await self.meeting.handle(who, msg)
        except errors.TownhallError as exc:
            reply = _error(protocol.message_id(text), exc)
        except Exception:
            log.exception("write failed")
            reply = {
                "type": "error",
                "id": protocol.message_id(text),
                "code": "server_error",
                "message": "the server could not store this; it was not saved, send it again",
            }
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.send(reply)


def _error(msg_id: str | None, exc: errors.TownhallError) -> dict[str, Any]:
    return {"type": "error", "id": msg_id, "code": exc.code, "message": exc.message}
