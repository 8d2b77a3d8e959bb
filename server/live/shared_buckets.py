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

import logging
from typing import Any

from server.live.hub import redis_client

log = logging.getLogger("townhall.ratelimit")

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
    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = f"{prefix}:rate:"
        # A burst of frames waits for a connection (at most as long as for Redis's
        # answer) rather than skipping the shared bucket.
        self._redis: Any = redis_client(url, wait=1.0, socket_timeout=1.0)
        self._take = self._redis.register_script(TAKE)
        self._failing = False

    async def take(self, key: str, rate: float, burst: float) -> tuple[bool, float] | None:
        try:
            allowed, wait = await self._take(keys=[self.prefix + key], args=[rate, burst])
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "shared rate limits unavailable (%s); per process until back",
                    type(exc).__name__,
                )
            self._failing = True
            return None
        self._failing = False
        return bool(int(allowed)), float(wait)

    async def close(self) -> None:
        await self._redis.aclose()
