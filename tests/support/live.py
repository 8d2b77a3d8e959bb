"""Helpers for tests against the real server under uvicorn: websocket clients with
timeouts, joining as a participant, plain HTTP."""

from __future__ import annotations

import asyncio
import csv
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.cli.demo import SAMPLE
from tests.support.example import new_id
from tests.support.server import LiveServer

TIMEOUT = 10
# Text that would run as script if any page let it through as markup.
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


async def recv_until(ws: ClientConnection, *kinds: str, within: float = TIMEOUT) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg["type"] in kinds:
                return msg


def join(server: LiveServer) -> str:
    """A new participant on a live server; their token."""
    return join_at(server.base, server.tokens.code)


def sample_texts(n: int) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)][:n]


async def send_comments(server: LiveServer, texts: list[str]) -> list[int]:
    ids: list[int] = []
    tables = sorted(server.tokens.tables.items())[:4]
    conns = [await connect(server.ws_url("table", tok)).__aenter__() for _, tok in tables]
    try:
        for c in conns:
            await recv_until(c, "hello")
        seqs = [0] * len(conns)
        for i, text in enumerate(texts):
            k = i % len(conns)
            seqs[k] += 1
            await conns[k].send(
                json.dumps({"type": "comment", "id": new_id(), "seq": seqs[k], "text": text})
            )
            ids.append((await recv_until(conns[k], "ack"))["comment_id"])
    finally:
        for c in conns:
            await c.close()
    return ids


def join_at(base: str, code: str, site: str | None = None) -> str:
    """A new participant of the event with this code, at the server at ``base``."""
    body = {"code": code} | ({"site": site} if site else {})
    req = urllib.request.Request(
        f"{base}/api/join", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return str(json.loads(r.read())["token"])


def ws_url(base: str, role: str, token: str) -> str:
    return f"{base.replace('http', 'ws', 1)}/ws/{role}?token={token}"


def http(url: str, data: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, body, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def get(url: str, **headers: str) -> tuple[str, str]:
    """A page and the cookie it sets."""
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode(), r.headers.get("set-cookie") or ""


async def phone_votes(s: LiveServer, poll_id: int, age: str, choice: str) -> None:
    token = await asyncio.to_thread(join, s)
    async with connect(s.ws_url("phone", token)) as phone:
        await recv_until(phone, "hello")
        await phone.send(
            json.dumps({"type": "demographics", "id": new_id(), "answers": {"age": age}})
        )
        await recv_until(phone, "ack")
        vote = {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": [choice]}
        await phone.send(json.dumps(vote))
        await recv_until(phone, "ack")
