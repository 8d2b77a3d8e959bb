"""How the theming worker cuts arriving comments into batches (issue 19).

A room's burst (500 tables sending at once) must be embedded as one batch once
it stops, not half of it while the rest still arrives on the core the web
process acks from; a slow trickle must not wait for more than it has."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from server.themes import worker
from server.themes.worker import ThemingWorker


async def _feed(
    queue: asyncio.Queue[tuple[int, int]], ids: range, every: float, at_once: int = 1
) -> None:
    for cid in ids:
        queue.put_nowait((0, cid))
        if (cid + 1) % at_once == 0:
            await asyncio.sleep(every)


async def test_a_burst_of_500_comments_within_a_second_is_one_batch() -> None:
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    feeder = asyncio.create_task(_feed(queue, range(500), 0.01, at_once=10))
    batch = await ThemingWorker._gather(SimpleNamespace(queue=queue))  # type: ignore[arg-type]
    await feeder
    assert [cid for _, cid in batch] == list(range(500))
    assert queue.empty()


async def test_a_pause_longer_than_linger_closes_the_batch() -> None:
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for cid in range(3):
        queue.put_nowait((0, cid))
    late = asyncio.get_running_loop().call_later(worker.LINGER * 3, queue.put_nowait, (0, 99))
    batch = await ThemingWorker._gather(SimpleNamespace(queue=queue))  # type: ignore[arg-type]
    late.cancel()
    assert [cid for _, cid in batch] == [0, 1, 2]


async def test_a_batch_stops_growing_after_gather_seconds() -> None:
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    steady = asyncio.create_task(_feed(queue, range(10_000), worker.LINGER / 4))
    started = asyncio.get_running_loop().time()
    batch = await ThemingWorker._gather(SimpleNamespace(queue=queue))  # type: ignore[arg-type]
    took = asyncio.get_running_loop().time() - started
    steady.cancel()
    assert 0 < len(batch) < 10_000
    assert took < worker.GATHER + worker.LINGER
