"""The theme team's side on the real server: one server with theming on and a
themed question (``themed_server``, shared by a session: starting a server and
theming 60 comments per test would cost minutes; tests act on the state they read
first and use their own member names, so they do not depend on each other's
order), and team connections that send ops and wait for their answers (every
wait bounded).

Before each test the question is brought to rest (``quiet``): a comment an
earlier test typed would otherwise set off the automatic re-cluster a few
seconds later, in the middle of this test's steps, and the versions it read
would be refused as changed."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection, connect

from server.storage.db import Database
from server.storage.models import CurationLog
from tests.support.example import load_example, new_id
from tests.support.live import recv_until, sample_texts, send_comments
from tests.support.server import LiveServer, ServerThread

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


@dataclass
class Themed:
    server: LiveServer
    question_id: int


async def quiet(server: LiveServer, question_id: int) -> None:
    """Wait until the worker has placed every comment of the question, then
    re-theme it by hand: the automatic re-cluster stays idle until the next
    comment arrives (``theming.live``: nothing new, nothing due)."""
    async with connect(server.ws_url("team", server.tokens.team)) as team:
        hello = await recv_until(team, "hello")
        ids = {c["id"] for c in hello["comments"] if c["question_id"] == question_id}
        async with asyncio.timeout(MODEL_TIMEOUT):
            while True:
                view = await sync(team, question_id)
                placed = {m for t in view["themes"] for m in t["members"]}
                placed |= set(view["unassigned"]) | {d["id"] for d in view["discarded"]}
                if placed >= ids:
                    break
                await asyncio.sleep(0.2)
        reply = await op(team, "retheme", question_id, name="test set-up")
        assert reply["type"] == "ack", reply


@pytest.fixture
def themed_server(themed_session: Themed) -> Themed:
    """The shared themed server, its question at rest (see ``quiet``)."""
    asyncio.run(quiet(themed_session.server, themed_session.question_id))
    return themed_session


@pytest.fixture(scope="session")
def themed_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Themed]:
    tmp = tmp_path_factory.mktemp("workbench")
    db_url = f"sqlite+aiosqlite:///{tmp / 'townhall.db'}"
    tokens = load_example(db_url)
    thread = ServerThread(db_url, THEMING)
    base = thread.start()
    log = tmp / "server.log"  # the thread's output is captured with the tests'
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, None, log, db_url, THEMING)

    async def go() -> dict[str, Any]:
        async with connect(server.ws_url("team", tokens.team)) as team:
            return await seed(server, team, 60)

    try:
        msg = asyncio.run(go())
        yield Themed(server, msg["question_id"])
    finally:
        thread.stop()


async def published_theme_with_an_offer(
    team: ClientConnection, q: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Publishes one of the largest themes and moves another's comments into it,
    until its comments would give it another label (the session's server is
    shared: an earlier test may have left a pair whose label fits both). Returns
    the theme before and after the move."""

    def find(msg: dict[str, Any], key: str) -> dict[str, Any]:
        return next(t for t in msg["themes"] if t["key"] == key)

    themes = [t for t in biggest(await sync(team, q), 4) if t["size"]]
    for source, target in itertools.permutations([t["key"] for t in themes], 2):
        seen = find(await sync(team, q), target)
        await op(team, "publish", q, themes={target: seen["version"]}, name="Pat")
        seen = find(await sync(team, q), target)
        moved = await op(
            team,
            "move",
            q,
            comments=find(await sync(team, q), source)["members"],
            to=target,
            version=seen["version"],
            name="Di",
        )
        assert moved["type"] == "ack", moved
        now = find(await sync(team, q), target)
        assert now["label"] == seen["label"], now  # held as published
        if now["suggested_label"] not in (None, now["label"]):
            return seen, now
        assert (await op(team, "undo", q, name="Di"))["type"] == "ack"
        await op(team, "publish", q, themes={}, name="Pat")
    raise AssertionError("no move into a published theme changed the label its comments give")
