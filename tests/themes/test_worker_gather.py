"""How the theming worker cuts arriving comments into batches and steps (issue 19).

A room's burst (500 tables sending at once) must be embedded as one batch once
it stops, not half of it while the rest still arrives on the core the web
process acks from; a slow trickle must not wait for more than it has.

The timed cases run on a loop whose clock is virtual: it jumps to the next timer
instead of sleeping, so a gap of 10 ms is 10 ms however busy the machine is (on
the wall clock a test process stalled for more than LINGER under a parallel
suite cut the 500-comment burst at 240)."""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any

from server.themes import batches
from server.themes.batches import gather, steps


class _JumpingSelector(selectors.DefaultSelector):
    """Never sleeps: with nothing ready, moves the loop's clock to the next timer."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready and timeout:
            self.clock[0] += timeout
        return ready


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = [0.0]
        super().__init__(_JumpingSelector(self._virtual))

    def time(self) -> float:
        return self._virtual[0]


def on_virtual_time(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run the async ``test`` on a ``_VirtualLoop`` (a plain test to pytest)."""

    @functools.wraps(test)
    def run() -> None:
        loop = _VirtualLoop()
        try:
            loop.run_until_complete(test())
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        finally:
            loop.close()

    return run


async def _feed(queue: asyncio.Queue[int], ids: range, every: float, at_once: int = 1) -> None:
    for cid in ids:
        queue.put_nowait(cid)
        if (cid + 1) % at_once == 0:
            await asyncio.sleep(every)


@on_virtual_time
async def test_a_burst_of_500_comments_within_a_second_is_one_batch() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    feeder = asyncio.create_task(_feed(queue, range(500), 0.01, at_once=10))
    batch = await gather(queue)
    await feeder
    assert batch == list(range(500))
    assert queue.empty()


@on_virtual_time
async def test_a_pause_longer_than_linger_closes_the_batch() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for cid in range(3):
        queue.put_nowait(cid)
    late = asyncio.get_running_loop().call_later(batches.LINGER * 3, queue.put_nowait, 99)
    batch = await gather(queue)
    late.cancel()
    assert batch == [0, 1, 2]


@on_virtual_time
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


async def test_a_worker_told_to_stop_as_a_comment_arrives_stops() -> None:
    """The worker's stop cancels its gather; on Python 3.11 asyncio.wait_for lost
    that cancellation when a comment came in the same instant, and the worker went
    on to place the batch instead of stopping."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    task = asyncio.create_task(gather(queue))
    queue.put_nowait(1)
    await asyncio.sleep(0)  # it has the first and waits for the next
    await asyncio.sleep(0)
    queue.put_nowait(2)
    task.cancel()
    await asyncio.wait([task], timeout=5)
    assert task.cancelled(), task
