"""The fan-out hub never grows without bound: a slow subscriber is resynced."""

from __future__ import annotations

import asyncio

import pytest

from server.hub import RESYNC, MemoryHub, make_hub


async def test_messages_reach_every_subscriber_of_the_topic_only() -> None:
    hub = MemoryHub()
    async with hub.subscribe("a") as s1, hub.subscribe("a", "b") as s2, hub.subscribe("b") as s3:
        await hub.publish("a", {"type": "x"})
        assert await asyncio.wait_for(s1.get(), 1) == {"type": "x"}
        assert await asyncio.wait_for(s2.get(), 1) == {"type": "x"}
        assert s3.queue.empty()
    assert hub.subscriber_count == 0


async def test_slow_subscriber_gets_one_resync_instead_of_a_growing_backlog() -> None:
    hub = MemoryHub(maxsize=8)
    async with hub.subscribe("t") as slow:
        for i in range(1000):
            await hub.publish("t", {"type": "tally", "n": i})
        assert slow.queue.qsize() <= 8
        assert slow.overflowed > 0
        drained = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    assert RESYNC in drained
    assert drained[-1]["n"] == 999  # the newest state is never the one dropped


def test_hub_by_url() -> None:
    assert type(make_hub("memory://")).__name__ == "MemoryHub"
    assert type(make_hub("redis://127.0.0.1:6379")).__name__ == "RedisHub"
    with pytest.raises(ValueError, match="unknown hub URL"):
        make_hub("kafka://x")
