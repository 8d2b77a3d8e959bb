"""Shared helpers for the security tests: real websocket clients with timeouts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

TIMEOUT = 10
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
]


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        msg: dict[str, Any] = json.loads(await ws.recv())
        return msg


async def reply_to(ws: ClientConnection, msg_id: str | None) -> dict[str, Any]:
    """The ack or error answering one frame (pushes in between are skipped)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            msg = await recv_json(ws)
            if msg["type"] in ("ack", "error", "pong") and msg.get("id") == msg_id:
                return msg


async def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; its close code."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    raise AssertionError("unreachable")
