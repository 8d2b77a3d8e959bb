"""Fan-out hub: publish a message on a topic, every subscriber gets it.

The backend is chosen by URL (``memory://`` or ``redis://…``). Each subscriber
has a bounded queue: a client that cannot keep up is told to resync from a
snapshot instead of growing the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger("townhall.hub")

RESYNC: dict[str, Any] = {"type": "resync"}

# Connections one process opens to Redis at most (redis-py's default). A hall
# voting at once puts hundreds of commands in flight in each process (a rate-limit
# take per frame, a publish per comment): beyond this many, a command waits for a
# free connection instead of failing with MaxConnectionsError, which made the
# shared rate limits fall back to each process's own and marked the hub down.
REDIS_CONNECTIONS = 100


def redis_client(url: str, wait: float, **options: Any) -> Any:
    """A redis.asyncio client whose commands wait up to ``wait`` seconds for one of
    its REDIS_CONNECTIONS connections."""
    # Imported here: only a Redis deployment pays the driver's start-up time (~0.2 s).
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=wait, **options
    )
    return aioredis.Redis.from_pool(pool)


class Frame(dict[str, Any]):
    """A published message, shared by every subscriber: its JSON text is built
    once on first use, not once per socket (a poll opening goes to 5,000 phones)."""

    __slots__ = ("_text",)

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(message)
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = encode(self)
        return self._text


def encode(message: dict[str, Any]) -> str:
    """The wire form of a message (as Starlette's send_json writes it)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class Subscription:
    def __init__(self, topics: set[str], maxsize: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self.overflowed = 0

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Drop the backlog: one resync marker replaces it, so the client
            # reloads a snapshot rather than replaying stale deltas.
            self.overflowed += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class MemoryHub:
    """Delivers within one process."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self.healthy = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.deliver(topic, message)

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        subs = list(self._subs.get(topic, ()))
        if not subs:
            return
        frame = message if isinstance(message, Frame) or message is RESYNC else Frame(message)
        for sub in subs:
            sub.offer(frame)

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        sub = Subscription(set(topics), self.maxsize)
        for t in topics:
            self._subs[t].add(sub)
        try:
            yield sub
        finally:
            for t in topics:
                self._subs[t].discard(sub)
                if not self._subs[t]:
                    del self._subs[t]

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers())

    def _subscribers(self) -> set[Subscription]:
        return {s for subs in self._subs.values() for s in subs}

    # A hub shared between processes (Redis, the local socket) can be cut off: these
    # say so to this process's clients, and have them reload after the gap.
    _announced_down = False

    def _set_healthy(self, healthy: bool) -> None:
        """Tell every local client; after an outage they reload a snapshot, since
        other processes' updates sent meanwhile never arrived."""
        was_down = self._announced_down
        self.healthy = healthy
        self._announced_down = not healthy
        self.deliver("hub", {"type": "hub", "healthy": healthy})
        if healthy and was_down:
            for sub in self._subscribers():
                sub.offer(RESYNC)


class RedisHub(MemoryHub):
    """Delivers between processes through Redis pub/sub; local delivery as MemoryHub."""

    def __init__(self, url: str, maxsize: int = 256, channel: str = "townhall:hub") -> None:
        super().__init__(maxsize)
        self.url = url
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._redis: Any = None
        self.healthy = False

    async def start(self) -> None:
        self._redis = redis_client(self.url, wait=5.0)
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        payload = json.dumps({"topic": topic, "message": message})
        try:
            await self._redis.publish(self.channel, payload)
        except Exception:
            # Redis down: deliver locally so this process's screens stay live;
            # other processes resync when the hub comes back.
            if not self._announced_down:
                log.warning("the hub (Redis) refused a publish; delivering in this process only")
                self._set_healthy(False)
            self.deliver(topic, message)

    async def _listen(self) -> None:
        while True:
            pubsub = None
            try:
                pubsub = self._redis.pubsub()
                # asyncio.timeout, not wait_for: see server/live/results.py.
                async with asyncio.timeout(5):
                    await pubsub.subscribe(self.channel)
                if not self.healthy:
                    self._set_healthy(True)
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if msg is None:
                        # A silent network can look like an idle channel: a ping
                        # within 5 s tells them apart.
                        async with asyncio.timeout(5):
                            await self._redis.ping()
                    if not self.healthy:  # a publish failed; Redis answers again
                        self._set_healthy(True)
                    if msg is None:
                        continue
                    data = json.loads(msg["data"])
                    self.deliver(data["topic"], data["message"])
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.healthy or not self._announced_down:
                    self._set_healthy(False)
                await asyncio.sleep(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()


def channel_for(db_url: str) -> str:
    """The Redis channel of one deployment: the processes sharing a database.

    Topics carry event ids, which restart at 1 in every database, so two
    deployments (or two test runs) on one Redis must not hear each other.
    The driver is left out: ``postgresql+asyncpg://`` and ``postgresql://``
    name the same database.
    """
    url = make_url(db_url)
    url = url.set(drivername=url.get_backend_name())
    if url.get_backend_name() == "sqlite" and url.database:
        url = url.set(database=str(Path(url.database).resolve()))
    digest = hashlib.sha256(url.render_as_string(hide_password=False).encode()).hexdigest()
    return f"townhall:hub:{digest[:16]}"


def make_hub(url: str, maxsize: int = 256, db_url: str | None = None) -> MemoryHub:
    """The hub for ``url``; with Redis, ``db_url`` scopes the channel to one deployment."""
    if url.startswith("memory"):
        return MemoryHub(maxsize)
    if url.startswith("redis"):
        return RedisHub(url, maxsize, channel_for(db_url) if db_url else "townhall:hub")
    raise ValueError(f"unknown hub URL {url!r}: use memory:// or redis://host:port")
