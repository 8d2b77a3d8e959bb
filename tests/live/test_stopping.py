"""A meeting stops even when work arrives at the moment it is told to stop.

On Python 3.11, ``asyncio.wait_for`` returns the inner result when the task is
cancelled just as that result arrives, and the cancellation is lost: the results
loop, woken by a vote in the same instant as ``stop()``, went on looping and
``stop()`` waited for it for ever (a test teardown hung for 180 s, once in a few
hundred runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from server.event.loader import IssuedTokens
from server.live.meeting import Meeting

WITHIN = 5.0


async def stops(stopping: Coroutine[Any, Any, None]) -> bool:
    """Whether ``stopping`` finishes within WITHIN. Not asyncio.timeout around it:
    its cancellation would reach the loop being stopped and stop it after all."""
    task = asyncio.ensure_future(stopping)
    done, _ = await asyncio.wait([task], timeout=WITHIN)
    if not done:
        task.cancel()
    return bool(done)


async def idle(meeting: Meeting) -> None:
    """Until the results loop waits for a change (start-up may have given it one)."""
    for _ in range(int(WITHIN / 0.01)):
        if meeting.results._wake._waiters:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the results loop never waited for a change")


async def test_results_loop_stops_when_a_change_arrives_with_the_stop(
    live_meeting: Meeting, tokens: IssuedTokens
) -> None:
    await idle(live_meeting)
    live_meeting.results.poll_changed(tokens.event_id, 1)  # its wake-up, then at once:
    assert await stops(live_meeting.results.stop())
