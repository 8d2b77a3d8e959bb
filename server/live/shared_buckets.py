"""Token buckets in Redis, shared by every process of one deployment.

With ``--workers N`` each process had its own buckets, so one token (or one
address's joins) got N times its allowance. With a Redis hub, the per-token and
per-address buckets are kept in Redis, updated atomically by a small Lua script
on Redis's own clock. Keys start with the deployment's hub channel
(``channel_for(db_url)``), so two deployments or test runs on one Redis never
share a bucket, and expire once they would be full again. If Redis does not
answer, ``take`` returns None and each process's own buckets still hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from server.live.hub import redis_client

log = logging.getLogger("townhall.ratelimit")

# (allowed, seconds to wait) from Redis; None if Redis did not answer.
Taken = tuple[bool, float] | None
# A take waiting for the next batch: bucket key, rate, burst, where its answer goes.
Waiting = tuple[str, float, float, "asyncio.Future[Taken]"]

# KEYS[1] bucket; ARGV rate, burst. Returns {allowed (0/1), seconds to wait}.
TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens, allowed = tokens - 1, 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate) * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class RedisBuckets:
    """Takes made while a batch is on its way to Redis go together in the next one,
    in one pipeline on one connection. One round trip (and connection) per frame in
    flight ran out of connections when the event loop fell behind: a hundred were
    in use, and the frames after them timed out waiting and skipped the shared bucket."""

    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = f"{prefix}:rate:"
        self.name = self.prefix.rstrip(":")  # its connections' name in Redis's CLIENT LIST
        self._redis: Any = redis_client(url, wait=1.0, socket_timeout=1.0, client_name=self.name)
        self._take = self._redis.register_script(TAKE)
        self._failing = False
        self._waiting: list[Waiting] = []
        self._sender: asyncio.Task[None] | None = None

    async def take(self, key: str, rate: float, burst: float) -> Taken:
        done: asyncio.Future[Taken] = asyncio.get_running_loop().create_future()
        self._waiting.append((self.prefix + key, rate, burst, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return await done

    async def _send(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            answers: list[Taken] = [None] * len(batch)
            try:
                answers = await self._run(batch)
            finally:  # cancelled (the app stopping): the batch's frames are not left waiting
                for (*_, done), answer in zip(batch, answers, strict=True):
                    if not done.done():  # its frame's handler may have been cancelled
                        done.set_result(answer)

    async def _run(self, batch: list[Waiting]) -> list[Taken]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, rate, burst, _ in batch:
                    await self._take(keys=[key], args=[rate, burst], client=pipe)
                replies = await pipe.execute()
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "shared rate limits unavailable (%s); per process until back",
                    type(exc).__name__,
                )
            self._failing = True
            return [None] * len(batch)
        self._failing = False
        return [(bool(int(allowed)), float(wait)) for allowed, wait in replies]

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        for *_, done in self._waiting:
            if not done.done():
                done.set_result(None)
        await self._redis.aclose()
