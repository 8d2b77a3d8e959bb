"""Theme-team curation with the web side as several processes: two web
processes without theming, and the separate ``townhall theming-worker``, on
PostgreSQL and the Redis hub. A team member on either web process curates; the
op runs in the theming worker and every member sees the result."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection, connect

from server.event.loader import IssuedTokens
from server.storage.db import Database
from server.storage.models import CurationLog
from server.themes.conflicts import CHANGED
from server.themes.rpc import NOT_ANSWERING
from tests.skip_policy import missing
from tests.support.database import postgres_available, postgres_database, redis_available
from tests.support.example import ROOT, load_example, new_id
from tests.support.live import recv_until, sample_texts, ws_url
from tests.support.server import FAILED, start_server
from tests.support.workbench import biggest, op, sync, themed

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS = "redis://127.0.0.1:6379"


@dataclass
class Cluster:
    tokens: IssuedTokens
    pg_url: str
    web: list[str]  # base URLs of the web processes
    worker: subprocess.Popen[bytes]
    procs: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')}" for p in self.logs)


def start_theming_worker(pg_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOWNHALL_EMBEDDER": "hashing"}
    cmd = [sys.executable, "-m", "server.cli", "theming-worker", "--db", pg_url, "--hub", REDIS]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


@contextlib.contextmanager
def cluster(
    tmp: Path, web: int, timeout: float, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    """``web`` web processes (each on its own port, so a test picks which one a
    client talks to) and one theming worker, on a fresh database."""
    for mark, reason in (("postgres", postgres_available()), ("redis", redis_available(REDIS))):
        if reason:
            missing(mark, reason)
    env = {"TOWNHALL_HUB_URL": REDIS, "TOWNHALL_CURATION_TIMEOUT": str(timeout)}
    with postgres_database() as pg_url:
        tokens = load_example(pg_url)
        logs = [tmp / "theming.log"]
        worker = start_theming_worker(pg_url, logs[0])
        procs, bases = [worker], []
        try:
            for i in range(web):
                logs.append(tmp / f"web{i}.log")
                proc, base = start_server(pg_url, logs[-1], env)
                procs.append(proc)
                bases.append(base)
            yield Cluster(tokens, pg_url, bases, worker, procs, logs)
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if any(item.stash.get(FAILED, False) for item in request.session.items):
                print(Cluster(tokens, pg_url, bases, worker, procs, logs).log_text())


@dataclass
class Seeded:
    cluster: Cluster
    question_id: int


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Seeded]:
    """Two web processes and the theming worker; 40 comments typed at the first
    web process and themed (seen by a team page on the second)."""
    with cluster(tmp_path_factory.mktemp("curation"), 2, 20.0, request) as c:

        async def go() -> int:
            async with connect(ws_url(c.web[1], "team", c.tokens.team)) as team:
                await recv_until(team, "hello")
                ids = await type_comments(c, c.web[0], sample_texts(40))
                return int((await themed(team, ids))["question_id"])

        yield Seeded(c, asyncio.run(go()))


async def type_comments(c: Cluster, base: str, texts: list[str]) -> list[int]:
    ids: list[int] = []
    tables = sorted(c.tokens.tables.items())[:4]
    async with contextlib.AsyncExitStack() as stack:
        conns = [
            await stack.enter_async_context(connect(ws_url(base, "table", t))) for _, t in tables
        ]
        for conn in conns:
            await recv_until(conn, "hello")
        for i, text in enumerate(texts):
            conn = conns[i % len(conns)]
            comment = {"type": "comment", "id": new_id(), "seq": i // len(conns) + 1, "text": text}
            await conn.send(json.dumps(comment))
            ids.append((await recv_until(conn, "ack"))["comment_id"])
    return ids


async def logged(pg_url: str) -> list[CurationLog]:
    db = Database(pg_url)
    try:
        async with db.session() as s:
            return list((await s.exec(select(CurationLog).order_by(col(CurationLog.id)))).all())
    finally:
        await db.dispose()


async def seen_on(team: ClientConnection, q: int, done: Any) -> dict[str, Any]:
    """The first ``themes`` push for question ``q`` for which ``done`` holds."""
    async with asyncio.timeout(30):
        while True:
            msg = await recv_until(team, "themes", within=30)
            if msg["question_id"] == q and done(msg):
                return msg


async def two_themes(team: ClientConnection, q: int) -> dict[str, Any]:
    """The question's themes, rethemed first if the tests so far left fewer than two."""
    now = await sync(team, q)
    if len(now["themes"]) < 2:
        assert (await op(team, "retheme", q))["type"] == "ack"
        now = await sync(team, q)
    return now


def theme(msg: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((t for t in msg["themes"] if t["key"] == key), None)


async def test_rename_and_merge_at_one_web_process_reach_a_member_at_the_other(
    seeded: Seeded,
) -> None:
    c, q = seeded.cluster, seeded.question_id
    async with (
        connect(ws_url(c.web[0], "team", c.tokens.team)) as ana,
        connect(ws_url(c.web[1], "team", c.tokens.team)) as ben,
    ):
        await recv_until(ana, "hello")
        await recv_until(ben, "hello")
        rethemed = await op(ana, "retheme", q, name="Ana")
        assert rethemed["type"] == "ack", rethemed
        x, y = biggest(await sync(ana, q))
        rename = {"id": new_id(), "theme": x["key"], "version": x["version"], "name": "Ana"}
        renamed = await op(ana, "rename", q, label="Safer streets", **rename)
        assert renamed["type"] == "ack", renamed
        assert renamed["theme"] == x["key"] and isinstance(renamed["log_id"], int)
        after_rename = await seen_on(
            ben, q, lambda m: (theme(m, x["key"]) or {}).get("label") == "Safer streets"
        )
        x_now = theme(after_rename, x["key"])
        assert x_now is not None
        merged = await op(
            ana,
            "merge",
            q,
            themes=[y["key"]],
            into=x["key"],
            versions={x["key"]: x_now["version"], y["key"]: y["version"]},
            name="Ana",
        )
        assert merged["type"] == "ack", merged
        assert merged["theme"] == x["key"]
        after_merge = await seen_on(ben, q, lambda m: theme(m, y["key"]) is None)
        resent = await op(ana, "rename", q, label="Safer streets", **rename)
    assert (theme(after_merge, x["key"]) or {}).get("size") == x["size"] + y["size"]
    assert resent == renamed, "a resend is acked again with the same fields"
    rows = await logged(c.pg_url)
    for ack, action in ((renamed, "rename"), (merged, "merge")):
        mine = [r for r in rows if f'"op_id": "{ack["id"]}"' in r.after]
        assert len(mine) == 1, f"{action} logged {len(mine)} times"
        assert mine[0].id == ack["log_id"] and mine[0].action == action
        assert mine[0].actor == "theme team · Ana"


async def test_a_stale_version_forwarded_from_a_web_process_is_refused_with_conflict(
    seeded: Seeded,
) -> None:
    c, q = seeded.cluster, seeded.question_id
    async with connect(ws_url(c.web[1], "team", c.tokens.team)) as team:
        await recv_until(team, "hello")
        th = biggest(await two_themes(team, q), 1)[0]
        fields = {"theme": th["key"], "version": th["version"]}
        first = await op(team, "rename", q, label="One", name="Ana", **fields)
        stale = await op(team, "rename", q, label="Two", name="Ben", **fields)
        after = await sync(team, q)
    assert first["type"] == "ack", first
    assert stale["type"] == "error" and stale["code"] == "conflict", stale
    # Told in one line, as on one process: who did what to which theme.
    assert stale["message"] == CHANGED.format(who="Ana", did="renamed", label=th["label"])
    assert (theme(after, th["key"]) or {}).get("label") == "One"
    assert stale["id"] not in "".join(r.after for r in await logged(c.pg_url))


@pytest.fixture
def one_web(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """One web process that gives up on the theming worker after 2 s."""
    with cluster(tmp_path, 1, 2.0, request) as c:
        yield c


async def test_with_the_theming_worker_stopped_an_op_is_refused_within_the_timeout(
    one_web: Cluster,
) -> None:
    c = one_web
    async with connect(ws_url(c.web[0], "team", c.tokens.team)) as team:
        hello = await recv_until(team, "hello")
        q = hello["event"]["current_question"]["id"]
        # The worker may still be starting: ask until it answers.
        async with asyncio.timeout(90):
            while (reply := await op(team, "sync", q))["type"] != "ack":
                assert reply["code"] == "server_error", reply
        c.worker.terminate()
        c.worker.wait(15)
        started = time.monotonic()
        refused = await op(team, "rename", q, theme="t1", version=1, label="Nobody hears")
        waited = time.monotonic() - started
    rows = await logged(c.pg_url)
    assert refused["type"] == "error" and refused["code"] == "server_error", refused
    assert refused["message"] == NOT_ANSWERING
    assert 1.5 <= waited < 10, "the timeout is the configured 2 s, not the default"
    assert [r for r in rows if refused["id"] in r.after] == []


async def test_publish_at_one_web_process_reaches_a_screen_at_the_other_and_becomes_a_poll(
    seeded: Seeded,
) -> None:
    c, q = seeded.cluster, seeded.question_id
    async with (
        connect(ws_url(c.web[0], "team", c.tokens.team)) as team,
        connect(ws_url(c.web[1], "display", c.tokens.display)) as screen,
        connect(ws_url(c.web[1], "producer", c.tokens.producer)) as producer,
    ):
        await recv_until(team, "hello")
        await recv_until(screen, "hello")
        await recv_until(producer, "hello")
        chosen = biggest(await two_themes(team, q))
        versions = {t["key"]: t["version"] for t in chosen}
        published = await op(team, "publish", q, themes=versions, name="Pat")
        shown = await recv_until(screen, "published", within=30)
        made = await op(producer, "poll_from_themes", q, kind="multi", max_choices=2)
    assert published["type"] == "ack" and published["published"] == 2, published
    assert {t["key"] for t in shown["themes"] if t["question_id"] == q} == set(versions)
    assert made["type"] == "ack" and isinstance(made["poll_id"], int), made
