"""How the theming worker cuts arriving comments into batches and steps (issue 19).

A room's burst (500 tables sending at once) must be embedded as one batch once
it stops, not half of it while the rest still arrives on the core the web
process acks from; a slow trickle must not wait for more than it has."""

from __future__ import annotations

import asyncio

from server.themes import batches
from server.themes.batches import gather, steps


async def _feed(queue: asyncio.Queue[int], ids: range, every: float, at_once: int = 1) -> None:
    for cid in ids:
        queue.put_nowait(cid)
        if (cid + 1) % at_once == 0:
            await asyncio.sleep(every)


async def test_a_burst_of_500_comments_within_a_second_is_one_batch() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    feeder = asyncio.create_task(_feed(queue, range(500), 0.01, at_once=10))
    batch = await gather(queue)
    await feeder
    assert batch == list(range(500))
    assert queue.empty()


async def test_a_pause_longer_than_linger_closes_the_batch() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for cid in range(3):
        queue.put_nowait(cid)
    late = asyncio.get_running_loop().call_later(batches.LINGER * 3, queue.put_nowait, 99)
    batch = await gather(queue)
    late.cancel()
    assert batch == [0, 1, 2]


async def test_a_batch_stops_growing_after_gather_seconds() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    steady = asyncio.create_task(_feed(queue, range(10_000), batches.LINGER / 4))
    started = asyncio.get_running_loop().time()
    batch = await gather(queue)
    took = asyncio.get_running_loop().time() - started
    steady.cancel()
    assert 0 < len(batch) < 10_000
    assert took < batches.GATHER + batches.LINGER


def test_a_batch_is_placed_oldest_first_in_steps() -> None:
    batch = list(range(300))
    taken = list(steps(batch))
    assert [step for step, _ in taken] == [
        batch[: batches.PLACE_EVERY],
        batch[batches.PLACE_EVERY : 2 * batches.PLACE_EVERY],
        batch[2 * batches.PLACE_EVERY :],
    ]
    assert [after for _, after in taken] == [
        300 - batches.PLACE_EVERY,
        300 - 2 * batches.PLACE_EVERY,
        0,
    ]
    assert list(steps([7])) == [([7], 0)]
