"""The server's own full garbage collections (server/web/collector.py) fall when
the room is quiet, never while writes stream in, unless the room has not been
quiet for a long time; Python makes none of its own."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest

from server.web import collector


@pytest.fixture
def tuned() -> Iterator[None]:
    before = gc.get_threshold()
    collector.freeze_startup()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


class Node:
    other: Node | None = None


def _age_some_objects() -> list[Node]:
    """Objects that live through middle-generation collections."""
    kept = [Node() for _ in range(2_000)]
    gc.collect(1)
    return kept


async def test_full_collections_wait_for_a_quiet_room() -> None:
    last = [time.monotonic()]  # a write just now
    quiet = collector.QuietCollection(lambda: last[0], every=0.05, spacing=0.0)
    quiet.start()
    try:
        for _ in range(6):  # writes keep coming for 0.3 s: no collection
            kept = _age_some_objects()
            await asyncio.sleep(0.05)
            last[0] = time.monotonic()
        assert quiet.collections == 0
        last[0] = time.monotonic() - collector.QUIET  # the room went quiet
        kept = _age_some_objects()
        await asyncio.sleep(0.2)
        assert quiet.collections >= 1
        del kept
    finally:
        await quiet.stop()


def test_nothing_aged_nothing_to_collect() -> None:
    quiet = collector.QuietCollection(lambda: 0.0, spacing=0.0)  # quiet for ages
    gc.collect()
    assert gc.get_count()[2] == 0
    now = time.monotonic()
    assert not quiet.due(now, now)
    kept = _age_some_objects()
    assert quiet.due(now, now)
    del kept


def test_collections_are_spaced_and_come_at_the_latest_even_in_a_busy_room() -> None:
    quiet = collector.QuietCollection(time.monotonic, spacing=10.0, at_latest=600.0)
    kept = _age_some_objects()
    now = time.monotonic()
    assert not quiet.due(now, now - 5)  # busy, and spaced
    assert not quiet.due(now, now - 599)  # busy
    assert quiet.due(now, now - 600)  # busy, but at the latest
    idle = collector.QuietCollection(lambda: now - 60, spacing=10.0)
    assert not idle.due(now, now - 5)  # quiet, but the last one was 5 s ago
    assert idle.due(now, now - 10)
    del kept


def test_start_up_objects_are_frozen_and_python_makes_no_full_collection(
    tuned: None,
) -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == collector.THRESHOLDS
    full = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full[0] += 1

    gc.callbacks.append(count)
    try:
        for _ in range(300):  # 300 middle-generation collections' worth of objects
            _age_some_objects()
    finally:
        gc.callbacks.remove(count)
    assert full[0] == 0  # Python's default (10) would have made dozens
