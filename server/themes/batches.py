"""How the theming worker takes arriving comments: gathered into a batch while
they keep coming, then embedded and placed a step at a time, oldest first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

__all__ = ["BATCH", "GATHER", "LINGER", "PLACE_EVERY", "gather", "steps"]

BATCH = 1024
# A batch waits for more comments while they keep coming (each within LINGER
# seconds), for at most GATHER seconds: embedding 500 comments as 10 calls of 50
# cost 6.3 s of CPU against 4.8 s as one call, and each batch adds a snapshot and
# a save. Without the web side's acks on its loop, the theming process otherwise
# took a burst's comments a few at a time (issue 19). BATCH is above what a room
# sends in GATHER seconds: at 256, a burst of 500 comments in 1 s was cut in two
# and the first half embedded while the rest still arrived, on the core the web
# process acks from (500 in 1 s, both on CPU 0: ack p99 531 ms against 23 ms at
# 1024, and 3.6 s of theming CPU against 4.8 s; placed p95 5.6 against 4.5 s).
LINGER = 0.1
GATHER = 1.0
# A gathered batch is embedded, placed and published PLACE_EVERY comments at a
# time, oldest first, so the team sees the start of a burst while the rest is
# still being embedded: 500 comments sent within 1 s were placed p95 3.1 s after
# sending as one step, 2.5-2.7 s as steps of 128 (docs/benchmarks.md, issue 19).
PLACE_EVERY = 128


async def gather(queue: asyncio.Queue[int]) -> list[int]:
    """The next batch: wait for one item, then take more while each comes within
    LINGER seconds of the last, for at most GATHER seconds and BATCH items."""
    batch = [await queue.get()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GATHER
    while len(batch) < BATCH:
        if not queue.empty():
            batch.append(queue.get_nowait())
            continue
        wait = min(LINGER, deadline - loop.time())
        if wait <= 0:
            break
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a
            # cancellation that arrives with the item (server/live/results.py).
            async with asyncio.timeout(wait):
                batch.append(await queue.get())
        except TimeoutError:
            break
    return batch


def steps(batch: list[int]) -> Iterator[tuple[list[int], int]]:
    """``batch`` in steps of PLACE_EVERY, each with how many come after it."""
    for start in range(0, len(batch), PLACE_EVERY):
        step = batch[start : start + PLACE_EVERY]
        yield step, len(batch) - start - len(step)
