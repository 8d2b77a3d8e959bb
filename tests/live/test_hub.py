"""The fan-out hub never grows without bound: a slow subscriber is resynced."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from server.live.hub import RESYNC, MemoryHub, make_hub


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


def test_channel_names_one_deployment_whatever_the_driver(tmp_path) -> None:
    from server.live.hub import channel_for

    pg = "postgresql+asyncpg://postgres@127.0.0.1:5432/event_a"
    assert channel_for(pg) == channel_for("postgresql://postgres@127.0.0.1:5432/event_a")
    assert channel_for(pg) != channel_for("postgresql://postgres@127.0.0.1:5432/event_b")
    db = tmp_path / "e.db"
    assert channel_for(f"sqlite+aiosqlite:///{db}") == channel_for(f"sqlite:///{db}")


@pytest.mark.redis
async def test_two_deployments_on_one_redis_do_not_hear_each_other(redis_url: str) -> None:
    """Event ids restart at 1 in every database: topic ``tally:1`` of one
    deployment must never reach the screens of another."""
    a1 = make_hub(redis_url, db_url="postgresql://127.0.0.1/deployment_a")
    a2 = make_hub(redis_url, db_url="postgresql://127.0.0.1/deployment_a")
    b = make_hub(redis_url, db_url="postgresql://127.0.0.1/deployment_b")
    try:
        async with (
            a2.subscribe("hub", "tally:1") as same,
            b.subscribe("hub", "tally:1") as other,
        ):
            for hub in (a1, a2, b):
                await hub.start()
            # Each listener says so once it is subscribed to Redis.
            for sub in (same, other):
                assert await asyncio.wait_for(sub.get(), 10) == {"type": "hub", "healthy": True}
            await a1.publish("tally:1", {"type": "tally", "n": 1})
            assert await asyncio.wait_for(same.get(), 5) == {"type": "tally", "n": 1}
            await b.publish("tally:1", {"type": "tally", "n": 2})
            assert await asyncio.wait_for(other.get(), 5) == {"type": "tally", "n": 2}
            assert other.queue.empty()  # deployment a's message never arrived
    finally:
        for hub in (a1, a2, b):
            await hub.stop()


@pytest.mark.redis
async def test_a_burst_of_publishes_reaches_the_other_processes_and_the_hub_stays_up(
    redis_url: str,
) -> None:
    """500 tables' comments committed in one batch are published at once, one
    publish per connection: more than the Redis client's pool (redis-py's default
    of 100 connections). A publish that found no free connection failed, was kept
    in this process (other processes' pages and the theming worker never heard
    of it) and marked the hub down for good. They wait for a connection instead."""
    deployment = f"postgresql://127.0.0.1/burst_{uuid.uuid4().hex}"
    sender = make_hub(redis_url, db_url=deployment)
    receiver = make_hub(redis_url, maxsize=1000, db_url=deployment)
    try:
        async with receiver.subscribe("hub", "comments:1") as sub:
            await sender.start()
            await receiver.start()
            assert await asyncio.wait_for(sub.get(), 10) == {"type": "hub", "healthy": True}
            await asyncio.gather(*(sender.publish("comments:1", {"n": i}) for i in range(300)))
            got = {(await asyncio.wait_for(sub.get(), 5))["n"] for _ in range(300)}
        assert got == set(range(300))
        assert sender.healthy
    finally:
        for hub in (sender, receiver):
            await hub.stop()


@pytest.mark.redis
async def test_a_failed_publish_marks_the_hub_down_until_redis_answers_again(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One publish Redis refused (a blip) used to leave the hub marked down for
    good while its listener was fine: /healthz answered 503 from then on, and the
    process's pages never resynced."""
    hub = make_hub(redis_url, db_url=f"postgresql://127.0.0.1/blip_{uuid.uuid4().hex}")
    try:
        async with hub.subscribe("hub", "tally:1") as sub:
            await hub.start()
            assert await asyncio.wait_for(sub.get(), 10) == {"type": "hub", "healthy": True}
            real = hub._redis.publish

            async def refused(*args: object) -> None:
                raise ConnectionError("blip")

            monkeypatch.setattr(hub._redis, "publish", refused)
            await hub.publish("tally:1", {"n": 1})
            assert await asyncio.wait_for(sub.get(), 1) == {"type": "hub", "healthy": False}
            assert await asyncio.wait_for(sub.get(), 1) == {"n": 1}  # kept in this process
            assert not hub.healthy
            monkeypatch.setattr(hub._redis, "publish", real)
            assert await asyncio.wait_for(sub.get(), 10) == {"type": "hub", "healthy": True}
            assert await asyncio.wait_for(sub.get(), 1) == RESYNC  # what others sent meanwhile
            assert hub.healthy
    finally:
        await hub.stop()
