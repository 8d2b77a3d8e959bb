"""Shared by the workbench tests: a themed question on the real server, and
team connections that send ops and wait for their answers (every wait bounded)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection

from server.storage.db import Database
from server.storage.models import CurationLog
from tests.conftest import LiveServer, new_id
from tests.server.test_live_server import recv_until
from tests.server.test_theming_live import sample_texts, send_comments

THEMING = {"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "hashing"}
TIMEOUT = 15
MODEL_TIMEOUT = 120  # the first themes wait for the model to load; slow on a shared machine


async def themed(team: ClientConnection, ids: list[int], min_themes: int = 0) -> dict[str, Any]:
    """The first ``themes`` message that places every comment in ``ids``
    (the real model takes a while to load on the first batch)."""
    async with asyncio.timeout(MODEL_TIMEOUT):
        while True:
            msg = json.loads(await team.recv())
            if msg["type"] != "themes":
                continue
            placed = {m for t in msg["themes"] for m in t["members"]} | set(msg["unassigned"])
            if placed >= set(ids) and len(msg["themes"]) >= min_themes:
                return msg


async def seed(server: LiveServer, team: ClientConnection, n: int = 40) -> dict[str, Any]:
    """Tables type ``n`` sample comments; returns the themes message placing them all."""
    await recv_until(team, "hello")
    ids = await send_comments(server, sample_texts(n))
    msg = await themed(team, ids)
    await retheme_until(team, msg)
    return await sync(team, msg["question_id"])


async def retheme_until(team: ClientConnection, msg: dict[str, Any]) -> None:
    """Ask for a retheme so the test does not depend on the automatic schedule."""
    await op(team, "retheme", msg["question_id"])


async def op(
    team: ClientConnection, kind: str, question_id: int, /, **fields: Any
) -> dict[str, Any]:
    """Send one op and return its ack or error (matched by id)."""
    op_id = fields.pop("id", None) or new_id()
    await team.send(json.dumps({"type": kind, "id": op_id, "question_id": question_id, **fields}))
    async with asyncio.timeout(TIMEOUT):
        while True:
            reply = json.loads(await team.recv())
            if reply["type"] in ("ack", "error") and reply.get("id") == op_id:
                return dict(reply)


async def sync(team: ClientConnection, question_id: int) -> dict[str, Any]:
    reply = await op(team, "sync", question_id)
    assert reply["type"] == "ack", reply
    return dict(reply["themes"])


def biggest(msg: dict[str, Any], n: int = 2) -> list[dict[str, Any]]:
    return sorted(msg["themes"], key=lambda t: -t["size"])[:n]


async def log_rows(server: LiveServer) -> list[CurationLog]:
    db = Database(server.db_url)
    try:
        async with db.session() as s:
            return list((await s.exec(select(CurationLog).order_by(col(CurationLog.id)))).all())
    finally:
        await db.dispose()
