"""Python's cyclic garbage collector, tuned for a process holding thousands of
live connections.

A full (oldest-generation) collection walks every object the process holds.
With 5,000 phones connected that is millions of objects: in a bench run with
the default settings a full collection took up to 0.95 s of CPU, 15 times
(7 s in all), and every ack and every screen waited behind it. So:

- what is loaded at start-up (libraries, the app, the model) lives as long as
  the process: it is moved out of the collector's sight once started
  (``gc.freeze``);
- full collections are spaced ten times wider than Python's default (after 100
  middle-generation collections instead of 10; the young generations, cheap,
  are left as they are);
- and the process makes its own full collection when the room is quiet (no
  vote, comment or answer for a few seconds), so the automatic one seldom
  falls in the middle of a vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("townhall.server")

THRESHOLDS = (700, 10, 100)
QUIET = 5.0  # seconds without a write before the room counts as quiet
EVERY = 30.0  # seconds between checks (and at least between own collections)


def freeze_startup() -> None:
    """Collect once, exempt every surviving object from later collections, and
    space full collections out."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())


class QuietCollection:
    """Full collections made while nobody is writing. ``last_write`` returns the
    monotonic time of the latest write handed to the process."""

    def __init__(self, last_write: Callable[[], float], every: float = EVERY) -> None:
        self.last_write = last_write
        self.every = every
        self.collections = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            if time.monotonic() - self.last_write() >= QUIET:
                started = time.process_time()
                gc.collect()
                self.collections += 1
                log.debug("quiet full collection: %.0f ms", 1000 * (time.process_time() - started))
