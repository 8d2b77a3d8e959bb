"""The table client against the real server under uvicorn, including kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from table_client.events import Hello, Link
from table_client.outbox import State
from table_client.sender import Sender
from tests.support.server import LiveServer, start_server
from tests.support.table import Until, sender_for, settled, stored_seqs


async def test_comments_and_star_reach_the_real_server(
    server_process: LiveServer, tmp_path: Path, until: Until
) -> None:
    sender = sender_for(server_process, server_process.tokens.tables[3], tmp_path / "o.sqlite3")
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
    assert stored_seqs(server_process.db_url, [c.uuid for c in typed]) == list(range(1, 21))
    sender.outbox.close()


async def test_revoked_or_wrong_token_is_refused_not_retried(
    server_process: LiveServer, tmp_path: Path
) -> None:
    sender = sender_for(server_process, "not-a-real-token", tmp_path / "o.sqlite3")
    async with asyncio.timeout(10):
        await sender.run()  # returns: no retry loop
    assert sender.status.link is Link.REFUSED
    sender.outbox.close()


async def test_server_killed_mid_load_loses_nothing_and_stores_nothing_twice(
    server_process: LiveServer, tmp_path: Path, until: Until
) -> None:
    path = tmp_path / "o.sqlite3"
    sender = sender_for(server_process, server_process.tokens.tables[4], path)
    typed = sender.outbox.add_many([(f"load {i}", None, False, None) for i in range(200)])
    acked = lambda: sum(c.state is State.ACKED for c in sender.outbox.all())  # noqa: E731
    task = asyncio.create_task(sender.run())
    restarted = None
    try:
        await until(sender, lambda: acked() >= 1)  # early, so the kill lands mid-stream
        os.kill(server_process.proc.pid, signal.SIGKILL)  # mid-stream, no goodbye
        await until(sender, lambda: sender.status.link is not Link.CONNECTED)
        assert acked() < 200

        port = urlsplit(server_process.base).port
        restarted, _ = await asyncio.to_thread(
            start_server, server_process.db_url, server_process.log, server_process.env, port
        )
        await until(sender, settled(sender))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if restarted is not None:
            restarted.terminate()
            await asyncio.to_thread(restarted.wait, 10)

    assert acked() == 200
    seqs = stored_seqs(server_process.db_url, [c.uuid for c in typed])
    assert len(seqs) == 200
    assert seqs == sorted(seqs), "stored in the order typed"
    sender.outbox.close()


async def run_until_settled(sender: Sender, until: Until, then: Callable[[], object]) -> None:
    task = asyncio.create_task(sender.run())
    try:
        await until(sender, settled(sender))
        then()
        await until(sender, settled(sender))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_second_laptop_holds_the_tables_comments_and_its_stars_reach_the_first(
    server_process: LiveServer, tmp_path: Path, until: Until
) -> None:
    token = server_process.tokens.tables[5]
    first = sender_for(server_process, token, tmp_path / "first.sqlite3")
    typed: list[str] = []
    await run_until_settled(
        first, until, lambda: typed.extend(first.submit(t).uuid for t in ("pool", "benches"))
    )

    second = sender_for(server_process, token, tmp_path / "second.sqlite3")
    await run_until_settled(
        second, until, lambda: (second.toggle_star(typed[0]), second.submit("bus"))
    )
    held = second.outbox.all()
    assert [(c.seq, c.text, c.state, c.elsewhere) for c in held] == [
        (1, "pool", State.ACKED, True),
        (2, "benches", State.ACKED, True),
        (3, "bus", State.ACKED, False),
    ]
    assert held[0].star and held[0].star_synced

    first.outbox.close()  # the first laptop's client starts again: a fresh hello
    first = sender_for(server_process, token, tmp_path / "first.sqlite3")
    await run_until_settled(first, until, lambda: None)
    mine = first.outbox.all()
    assert [(c.text, c.star, c.elsewhere) for c in mine] == [
        ("pool", True, False),
        ("benches", False, False),
        ("bus", False, True),
    ]
    assert stored_seqs(server_process.db_url, [c.uuid for c in held]) == [1, 2, 3]
    first.outbox.close()
    second.outbox.close()


async def test_two_laptops_open_at_once_see_each_others_comments_and_stars_live(
    server_process: LiveServer, tmp_path: Path, until: Until
) -> None:
    """Pushed to the table's other connection as stored: no reconnect is needed to
    see it, and what the second laptop types next is numbered after it, not
    refused as a conflict (which would cost a reconnect)."""
    token = server_process.tokens.tables[6]
    first = sender_for(server_process, token, tmp_path / "first.sqlite3")
    second = sender_for(server_process, token, tmp_path / "second.sqlite3")
    hellos = {first: 0, second: 0}
    for sender in hellos:
        sender.subscribe(
            lambda e, s=sender: hellos.__setitem__(s, hellos[s] + isinstance(e, Hello))
        )
    tasks = [asyncio.create_task(s.run()) for s in hellos]
    try:
        await until(first, settled(first))
        await until(second, settled(second))
        pool = first.submit("pool hours").uuid
        await until(second, lambda: second.outbox.get(pool) is not None)
        bus = second.submit("bus shelter").uuid
        await until(second, settled(second))
        await until(
            first, lambda: second.outbox.get(bus) is not None and first.outbox.get(bus) is not None
        )
        second.toggle_star(pool)
        await until(first, lambda: (c := first.outbox.get(pool)) is not None and c.star)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    seen = [[(c.seq, c.text, c.state, c.elsewhere) for c in s.outbox.all()] for s in hellos]
    assert seen[0] == [(1, "pool hours", State.ACKED, False), (2, "bus shelter", State.ACKED, True)]
    assert seen[1] == [(1, "pool hours", State.ACKED, True), (2, "bus shelter", State.ACKED, False)]
    assert hellos == {first: 1, second: 1}, "nobody reconnected"
    assert stored_seqs(server_process.db_url, [pool, bus]) == [1, 2]
    first.outbox.close()
    second.outbox.close()
