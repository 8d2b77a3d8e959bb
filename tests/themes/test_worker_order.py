"""The theming worker's queue: comments are placed in the order they were
committed, even when they reach it out of order (after a restart, picked up from
the database, or a missed hub message, beside live ones); a re-cluster the
policy asks for is made even while more comments wait."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from server.live.hub import MemoryHub
from server.storage.db import Database
from server.themes.worker import ThemingWorker
from tests.support.example import IssuedTokens, stored_comments


async def _comments(db: Database, n: int) -> tuple[int, list[int]]:
    """``n`` comments on the example's first question; its id and theirs."""
    texts = [f"Comment number {i} about the bus routes and the library hours" for i in range(n)]
    return await stored_comments(db, texts)


async def test_comments_queued_out_of_order_are_placed_oldest_first(
    db_url: str, tokens: IssuedTokens
) -> None:
    db = Database(db_url)
    with ThreadPoolExecutor(1) as pool:
        worker = ThemingWorker(db, MemoryHub(), pool, "hashing")
        try:
            question_id, ids = await _comments(db, 6)
            late = [ids[4], ids[1], ids[5], ids[0], ids[3], ids[2]]
            for cid in late:
                await worker.enqueue(0, cid)
            batch = await asyncio.wait_for(worker.next_batch(), 5)
            assert batch == ids
            await worker.process(late)  # a step handed over out of order
            assert list(worker.engines[question_id].comments) == [str(c) for c in ids]
        finally:
            await db.dispose()


async def test_a_due_recluster_is_made_while_more_comments_wait(
    db_url: str, tokens: IssuedTokens
) -> None:
    """A burst gathered as two batches: the first batch's last comments must
    join themes before the second batch is embedded (issue 19's "in a theme"
    p95 was 3.4 s instead of 2.8 s when they waited)."""
    db = Database(db_url)
    with ThreadPoolExecutor(1) as pool:
        worker = ThemingWorker(db, MemoryHub(), pool, "hashing")
        try:
            question_id, ids = await _comments(db, 16)
            await worker.process(ids[:10])  # nothing waits: re-clustered at 10
            clock = worker.clocks[question_id]
            assert clock.size_at_last == 10
            await worker.enqueue(0, ids[15])  # the next batch is already waiting
            await worker.process(ids[10:15])  # +50 %: due
            assert clock.size_at_last == 15
        finally:
            await db.dispose()
