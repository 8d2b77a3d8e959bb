"""The token buckets themselves, on a fake clock."""

from __future__ import annotations

from server.live.ratelimit import STRIKE_MEMORY_S, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate_and_a_retry_hint() -> None:
    clock = Clock()
    limiter = RateLimiter({"participant": (5.0, 10.0)}, 3.0, 0, clock)
    conn = limiter.connection("participant", token_id=1)
    assert [conn.check().allowed for _ in range(11)] == [True] * 10 + [False]
    assert abs(conn.check().retry_after - 0.2) < 1e-9
    clock.now += 1.0  # 5 more frames' worth
    assert sum(conn.check().allowed for _ in range(10)) == 5


def test_flooding_closes_only_without_a_pause_between_refusals() -> None:
    clock = Clock()
    limiter = RateLimiter({"table": (1.0, 1.0)}, 1.0, 3, clock)
    conn = limiter.connection("table", token_id=2)
    conn.check()
    assert [conn.check().close for _ in range(3)] == [False, False, True]
    clock.now += STRIKE_MEMORY_S + 1  # a pause forgives earlier strikes
    conn.check()
    assert conn.check().close is False


def test_idle_token_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter({}, 3.0, 0, clock)
    for token_id in range(999):
        limiter.connection("participant", token_id).check()
    assert limiter.tracked_tokens == 999
    clock.now += 60  # every bucket has refilled: the same as no bucket
    limiter.connection("participant", 5000).check()  # the 1000th check prunes
    assert limiter.tracked_tokens == 1
