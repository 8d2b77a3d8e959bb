"""Scale-out: two server processes on one PostgreSQL database with the Redis hub."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.event.loader import IssuedTokens
from tests.support.example import load_example, new_id
from tests.support.live import join_at, recv_until, ws_url
from tests.support.server import start_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def cluster(
    pg_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[IssuedTokens, list[Any]]]:
    tokens = load_example(pg_url)
    env = {"TOWNHALL_HUB_URL": redis_url}
    procs = [start_server(pg_url, tmp_path / f"server{i}.log", env) for i in range(2)]
    yield tokens, procs
    for proc, _ in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def latest_tally(display: Any, turnout: int) -> dict[str, int]:
    while True:
        msg = await recv_until(display, "tally")
        if msg["result"]["turnout"] == turnout:
            return {o["key"]: o["count"] for o in msg["result"]["options"]}


async def test_votes_on_both_processes_give_the_same_totals_on_every_display(
    cluster: tuple[IssuedTokens, list[Any]],
) -> None:
    tokens, procs = cluster
    (_, a), (_, b) = procs
    phones = [await asyncio.to_thread(join_at, (a, b)[i % 2], tokens.code) for i in range(20)]
    async with (
        connect(ws_url(a, "producer", tokens.producer)) as producer,
        connect(ws_url(a, "display", tokens.display)) as display_a,
        connect(ws_url(b, "display", tokens.display)) as display_b,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(display_a, "hello")
        await recv_until(display_b, "hello")
        poll = next(p for p in event["polls"] if p["kind"] == "multi")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        )
        await recv_until(producer, "ack")
        picks = [["housing", "transit"], ["parks"], ["housing", "youth", "roads"]]
        expected: dict[str, int] = {}
        for i, token in enumerate(phones):
            choice = picks[i % 3]
            for k in choice:
                expected[k] = expected.get(k, 0) + 1
            async with connect(ws_url((a, b)[i % 2], "phone", token)) as phone:
                await recv_until(phone, "hello")
                vote = {
                    "type": "vote",
                    "id": new_id(),
                    "poll_id": poll["id"],
                    "seq": 1,
                    "choice": choice,
                }
                await phone.send(json.dumps(vote))
                assert (await recv_until(phone, "ack"))["applied"] is True
        on_a = await latest_tally(display_a, 20)
        on_b = await latest_tally(display_b, 20)
    assert on_a == on_b
    assert {k: v for k, v in on_a.items() if v} == expected


async def test_comment_at_process_a_shows_on_a_workbench_at_process_b(
    cluster: tuple[IssuedTokens, list[Any]],
) -> None:
    tokens, procs = cluster
    (_, a), (_, b) = procs
    async with (
        connect(ws_url(b, "team", tokens.team)) as team,
        connect(ws_url(a, "table", tokens.tables[7])) as table,
    ):
        await recv_until(team, "hello")
        await recv_until(table, "hello")
        await table.send(
            json.dumps(
                {
                    "type": "comment",
                    "id": new_id(),
                    "seq": 1,
                    "text": "Safer crossings near schools",
                }
            )
        )
        ack = await recv_until(table, "ack")
        seen = await recv_until(team, "comment")
    assert seen["comment"]["id"] == ack["comment_id"]


async def test_killing_one_process_mid_load_loses_no_acked_comment(
    cluster: tuple[IssuedTokens, list[Any]], pg_url: str
) -> None:
    """A table streams to A; A is killed (-9); the client moves to B and resends
    whatever was not acked. Every acked comment is stored exactly once."""
    tokens, procs = cluster
    (proc_a, a), (_, b) = procs
    outbox = [(new_id(), seq, f"comment number {seq}") for seq in range(1, 121)]
    acked: set[str] = set()

    async def send_all(base: str, stop_after: int | None) -> None:
        async with connect(ws_url(base, "table", tokens.tables[3])) as table:
            await recv_until(table, "hello")
            for cid, seq, text in outbox:
                if cid in acked:
                    continue
                await table.send(
                    json.dumps({"type": "comment", "id": cid, "seq": seq, "text": text})
                )
                if stop_after is not None and seq == stop_after:
                    proc_a.send_signal(signal.SIGKILL)
                try:
                    acked.add((await recv_until(table, "ack"))["id"])
                except ConnectionClosed:
                    return

    await send_all(a, stop_after=60)
    proc_a.wait(10)
    assert 50 <= len(acked) < 120
    await send_all(b, stop_after=None)
    assert len(acked) == 120

    from server.storage.db import Database

    db = Database(pg_url)
    try:
        async with db.engine.connect() as conn:
            from sqlalchemy import text

            rows = (
                await conn.execute(text("SELECT client_id, seq FROM comment ORDER BY seq"))
            ).all()
    finally:
        await db.dispose()
    assert [r[1] for r in rows] == list(range(1, 121))
    assert {r[0] for r in rows} == {cid for cid, _, _ in outbox}


@pytest.fixture
def workers2(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[IssuedTokens, str]]:
    """`townhall serve --workers 2` on one port, with its own theming worker."""
    import os
    import sys
    import time

    from tests.support.example import ROOT
    from tests.support.server import free_port

    tokens = load_example(pg_url)
    port = free_port()
    env = {**os.environ, "TOWNHALL_EMBEDDER": "hashing", "TOWNHALL_TALLY_INTERVAL": "0.05"}
    cmd = [
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--workers",
        "2",
        "--db",
        pg_url,
        "--hub",
        redis_url,
        "--port",
        str(port),
    ]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                break
        except OSError:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
    yield tokens, base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def test_serve_with_two_workers_shares_one_port_and_themes_comments_once(
    workers2: tuple[IssuedTokens, str],
) -> None:
    tokens, base = workers2
    pids: set[int] = set()

    def probe() -> int:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
            return int(json.loads(r.read())["pid"])

    # Idle workers take turns unevenly, and the second may still be starting:
    # ask many times at once for a while.
    async with asyncio.timeout(30):
        while len(pids) < 2:
            pids |= set(await asyncio.gather(*(asyncio.to_thread(probe) for _ in range(8))))
    assert len(pids) == 2, "both worker processes should answer on the one port"
    async with connect(ws_url(base, "team", tokens.team)) as team:
        await recv_until(team, "hello")
        ids = []
        for n in range(1, 9):
            async with connect(ws_url(base, "table", tokens.tables[n])) as table:
                await recv_until(table, "hello")
                text = f"More buses and safer bike lanes on route {n}"
                await table.send(
                    json.dumps({"type": "comment", "id": new_id(), "seq": 1, "text": text})
                )
                ids.append((await recv_until(table, "ack"))["comment_id"])
        while True:
            msg = await recv_until(team, "themes")
            placed = [m for t in msg["themes"] for m in t["members"]] + msg["unassigned"]
            if set(ids) <= set(placed):
                break
    assert len(placed) == len(set(placed)), "a comment was themed twice"
