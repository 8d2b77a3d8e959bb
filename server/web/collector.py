"""Python's cyclic garbage collector, tuned for a process holding thousands of
live connections.

A full (oldest-generation) collection walks every object the process holds.
With 5,000 phones connected that is millions of objects: in a bench run with
Python's default settings a full collection took up to 0.95 s of CPU, 15 times
(7 s in all), and every ack and every screen waited behind it; with full
collections merely spaced out, one still fell inside the vote that followed
the hall filling (0.3–0.6 s). So:

- what is loaded at start-up (libraries, the app, the model) lives as long as
  the process: it is moved out of the collector's sight once started
  (``gc.freeze``);
- Python makes no full collection of its own (the young generations, cheap,
  are collected as usual, and they catch most cyclic garbage);
- the process makes the full collections itself, when the room is quiet (no
  vote, comment or answer for ten seconds, checked every second, and only when
  objects have aged into the oldest generation since the last one), and at the
  latest every ten minutes, quiet or not, so the cyclic garbage that reaches
  the oldest generation is not kept for long. Quiet means a real lull: with
  two seconds, the collection after a hall filled (0.6 s with 5,000 phones)
  fell on the first votes of the poll opened right after.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("townhall.server")

# Young generations as Python's default; the oldest never collected automatically.
THRESHOLDS = (700, 10, 1_000_000)
QUIET = 10.0  # seconds without a write before the room counts as quiet
EVERY = 1.0  # seconds between checks
SPACING = 10.0  # seconds at least between own collections
AT_LATEST = 600.0  # a full collection at least this often, quiet or not


def freeze_startup() -> None:
    """Collect once, exempt every surviving object from later collections, and
    leave full collections to ``QuietCollection``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())


class QuietCollection:
    """Full collections made while nobody is writing, or at the latest every
    ``at_latest`` seconds. ``last_write`` returns the monotonic time of the
    latest write handed to the process."""

    def __init__(
        self,
        last_write: Callable[[], float],
        every: float = EVERY,
        spacing: float = SPACING,
        at_latest: float = AT_LATEST,
    ) -> None:
        self.last_write = last_write
        self.every = every
        self.spacing = spacing
        self.at_latest = at_latest
        self.collections = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def due(self, now: float, last: float) -> bool:
        """Whether to collect now, the previous own collection being at ``last``."""
        if now - last >= self.at_latest:
            return True
        aged = gc.get_count()[2] > 0  # middle-generation collections promoted objects
        return aged and now - last >= self.spacing and now - self.last_write() >= QUIET

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.every)
            if self.due(time.monotonic(), last):
                started = time.process_time()
                found = gc.collect()
                last = time.monotonic()
                self.collections += 1
                log.debug(
                    "full collection: %.0f ms, %d unreachable",
                    1000 * (time.process_time() - started),
                    found,
                )
