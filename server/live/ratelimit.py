"""Token buckets for websocket frames (per connection and per token) and for
joins (per client address).

A flooding client is answered with ``rate_limited`` errors instead of being
served, and closed (4003) if it keeps going. A connection's own bucket lives in
its process; with a Redis hub the per-token and per-address buckets live in
Redis too (``server/live/shared_buckets.py``), so ``--workers N`` does not
multiply anyone's allowance by N.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

# role -> (frames per second, burst). Tables get a burst above the table client's
# send window (50) so a laptop back from 30 minutes offline drains 200 comments
# without being refused; phones send a few taps a minute.
DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "participant": (5.0, 10.0),
    "table": (20.0, 200.0),
    "team": (20.0, 60.0),
    "producer": (20.0, 60.0),
    "display": (2.0, 10.0),
}

# A gap this long without a refusal forgives earlier strikes.
STRIKE_MEMORY_S = 10.0

Clock = Callable[[], float]


class SharedBuckets(Protocol):
    """Buckets every process of a deployment shares; None when they cannot answer."""

    def take(self, key: str, rate: float, burst: float) -> Awaitable[tuple[bool, float] | None]: ...


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> Bucket:
        return cls(rate, burst, burst, now)

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for_one(self) -> float:
        """Seconds until one frame would be allowed (0 if now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def is_full_at(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate >= self.burst


@dataclass
class Verdict:
    allowed: bool
    retry_after: float = 0.0
    close: bool = False  # the client keeps flooding after many refusals


class RateLimiter:
    """Shared by every connection of this process; one per app."""

    def __init__(
        self,
        rates: Mapping[str, tuple[float, float]],
        token_factor: float,
        close_after: int,
        clock: Clock = time.monotonic,
    ) -> None:
        self.rates = {**DEFAULT_RATES, **rates}
        self.token_factor = token_factor
        self.close_after = close_after
        self.clock = clock
        self._tokens: dict[int, Bucket] = {}
        self._checks = 0

    def connection(self, role: str, token_id: int) -> ConnectionLimiter:
        rate, burst = self.rates.get(role, DEFAULT_RATES["participant"])
        return ConnectionLimiter(self, rate, burst, token_id)

    def token_bucket(self, token_id: int, rate: float, burst: float, now: float) -> Bucket:
        self._checks += 1
        if self._checks % 1000 == 0:
            self._prune(now)
        bucket = self._tokens.get(token_id)
        if bucket is None:
            f = self.token_factor
            bucket = self._tokens[token_id] = Bucket.full(rate * f, burst * f, now)
        return bucket

    def _prune(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: forgetting it keeps
        # memory bounded by the tokens active in the last few seconds.
        for token_id in [t for t, b in self._tokens.items() if b.is_full_at(now)]:
            del self._tokens[token_id]

    @property
    def tracked_tokens(self) -> int:
        return len(self._tokens)


class ConnectionLimiter:
    """One connection's bucket, checked together with its token's shared bucket."""

    def __init__(self, shared: RateLimiter, rate: float, burst: float, token_id: int) -> None:
        self.shared = shared
        self.token_id = token_id
        self.rate, self.burst = rate, burst
        self.bucket = Bucket.full(rate, burst, shared.clock())
        self.strikes = 0
        self._last_strike = float("-inf")

    def check(self) -> Verdict:
        now = self.shared.clock()
        mine = self.bucket
        theirs = self.shared.token_bucket(self.token_id, self.rate, self.burst, now)
        mine.refill(now)
        theirs.refill(now)
        if mine.tokens >= 1 and theirs.tokens >= 1:
            mine.tokens -= 1
            theirs.tokens -= 1
            return Verdict(True)
        return self._strike(now, max(mine.wait_for_one(), theirs.wait_for_one()))

    async def check_across(self, shared: SharedBuckets | None) -> Verdict:
        """``check``, and then the token's bucket shared by every process."""
        verdict = self.check()
        if not verdict.allowed or shared is None:
            return verdict
        f = self.shared.token_factor
        taken = await shared.take(f"token:{self.token_id}", self.rate * f, self.burst * f)
        if taken is None or taken[0]:  # None: Redis is down, this process's buckets hold
            return verdict
        return self._strike(self.shared.clock(), taken[1])

    def _strike(self, now: float, retry_after: float) -> Verdict:
        if now - self._last_strike > STRIKE_MEMORY_S:
            self.strikes = 0
        self.strikes += 1
        self._last_strike = now
        close = 0 < self.shared.close_after <= self.strikes
        return Verdict(False, retry_after, close)


class JoinLimiter:
    """Joins per client address: generous, since a venue's NAT puts hundreds of
    phones behind one address, yet bounded (docs/security.md)."""

    def __init__(
        self, rate: float, burst: float, shared: SharedBuckets | None, clock: Clock = time.monotonic
    ) -> None:
        self.rate, self.burst = rate, burst
        self.shared = shared
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._checks = 0

    async def check(self, address: str) -> Verdict:
        if self.rate <= 0:
            return Verdict(True)
        if self.shared is not None:
            taken = await self.shared.take(f"join:{address}", self.rate, self.burst)
            if taken is not None:
                return Verdict(taken[0], taken[1])
        now = self.clock()
        self._checks += 1
        if self._checks % 1000 == 0:
            for key in [k for k, b in self._buckets.items() if b.is_full_at(now)]:
                del self._buckets[key]
        bucket = self._buckets.setdefault(address, Bucket.full(self.rate, self.burst, now))
        bucket.refill(now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict(True)
        return Verdict(False, bucket.wait_for_one())
