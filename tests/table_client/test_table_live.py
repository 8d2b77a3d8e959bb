"""The table client against the real server under uvicorn, including kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from table_client.backoff import Backoff
from table_client.endpoint import table_ws_base
from table_client.events import Link
from table_client.outbox import Outbox, State, table_key
from table_client.sender import Sender
from tests.conftest import LiveServer, db_rows, start_server

Until = Callable[[Sender, Callable[[], bool]], Awaitable[None]]


def sender_for(server: LiveServer, token: str, path: Path) -> Sender:
    base = table_ws_base(server.base)
    outbox = Outbox(path, table_key(base, token))
    return Sender(base, token, outbox, backoff=Backoff(base=0.05, cap=0.5))


def stored_seqs(db_url: str, client_ids: list[str]) -> list[int]:
    """seq of each comment as the server stored it, straight from its database."""
    rows = db_rows(
        db_url, "SELECT client_id, seq FROM comment WHERE client_id IN :ids", ids=client_ids
    )
    assert len(rows) == len({r[0] for r in rows}), "a comment was stored twice"
    by_id = dict(rows)
    return [by_id[c] for c in client_ids if c in by_id]


def settled(sender: Sender) -> Callable[[], bool]:
    return lambda: sender.status.link is Link.CONNECTED and sender.status.waiting == 0


async def test_comments_and_star_reach_the_real_server(
    live_server: LiveServer, tmp_path: Path, until: Until
) -> None:
    sender = sender_for(live_server, live_server.tokens.tables[3], tmp_path / "o.sqlite3")
    task = asyncio.create_task(sender.run())
    try:
        await until(sender, settled(sender))
        assert sender.hello is not None and sender.hello.table_name == "Table 3"
        typed = [sender.submit(f"real server comment {i}") for i in range(20)]
        await until(sender, settled(sender))
        sender.toggle_star(typed[0].uuid)
        await until(sender, settled(sender))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    comments = sender.outbox.all()
    assert all(c.state is State.ACKED and c.comment_id for c in comments)
    assert comments[0].star and comments[0].star_synced
    assert stored_seqs(live_server.db_url, [c.uuid for c in typed]) == list(range(1, 21))
    sender.outbox.close()


async def test_revoked_or_wrong_token_is_refused_not_retried(
    live_server: LiveServer, tmp_path: Path
) -> None:
    sender = sender_for(live_server, "not-a-real-token", tmp_path / "o.sqlite3")
    async with asyncio.timeout(10):
        await sender.run()  # returns: no retry loop
    assert sender.status.link is Link.REFUSED
    sender.outbox.close()


async def test_server_killed_mid_load_loses_nothing_and_stores_nothing_twice(
    live_server: LiveServer, tmp_path: Path, until: Until
) -> None:
    path = tmp_path / "o.sqlite3"
    sender = sender_for(live_server, live_server.tokens.tables[4], path)
    typed = sender.outbox.add_many([(f"load {i}", None, False, None) for i in range(200)])
    acked = lambda: sum(c.state is State.ACKED for c in sender.outbox.all())  # noqa: E731
    task = asyncio.create_task(sender.run())
    restarted = None
    try:
        await until(sender, lambda: acked() >= 1)  # early, so the kill lands mid-stream
        os.kill(live_server.proc.pid, signal.SIGKILL)  # mid-stream, no goodbye
        await until(sender, lambda: sender.status.link is not Link.CONNECTED)
        assert acked() < 200

        port = urlsplit(live_server.base).port
        restarted, _ = await asyncio.to_thread(
            start_server, live_server.db_url, live_server.log, live_server.env, port
        )
        await until(sender, settled(sender))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if restarted is not None:
            restarted.terminate()
            await asyncio.to_thread(restarted.wait, 10)

    assert acked() == 200
    seqs = stored_seqs(live_server.db_url, [c.uuid for c in typed])
    assert len(seqs) == 200
    assert seqs == sorted(seqs), "stored in the order typed"
    sender.outbox.close()
