"""The server's own full garbage collections (server/web/collector.py) fall when
the room is quiet, never while writes stream in."""

from __future__ import annotations

import asyncio
import gc
import time

from server.web import collector


async def test_full_collections_wait_for_a_quiet_room() -> None:
    last = [time.monotonic()]  # a write just now
    quiet = collector.QuietCollection(lambda: last[0], every=0.05)
    quiet.start()
    try:
        for _ in range(6):  # writes keep coming for 0.3 s: no collection
            await asyncio.sleep(0.05)
            last[0] = time.monotonic()
        assert quiet.collections == 0
        last[0] = time.monotonic() - collector.QUIET  # the room went quiet
        await asyncio.sleep(0.2)
        assert quiet.collections >= 1
    finally:
        await quiet.stop()


def test_start_up_objects_are_frozen_and_full_collections_spaced() -> None:
    before = gc.get_threshold()
    try:
        collector.freeze_startup()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == collector.THRESHOLDS
        assert collector.THRESHOLDS[2] > 10  # wider than Python's default
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
