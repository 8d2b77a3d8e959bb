"""A restarted server finds the polls left open with a timer and closes them when it
runs out (``PollTimers.start``), in a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from server.live.poll_timers import PollTimers
from server.storage.db import Database
from server.storage.models import Poll, utcnow
from tests.support.example import load_example


def test_a_restart_times_the_polls_left_open(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'townhall.db'}"
    tokens = load_example(url)

    async def run() -> tuple[list[tuple[int, int]], float, int]:
        db = Database(url)
        async with db.writer() as s:
            timed, untimed = (await s.exec(select(Poll).order_by(Poll.id))).all()[:2]
            timed.status, timed.closes_at = "open", utcnow() + timedelta(seconds=0.5)
            untimed.status, untimed.closes_at = "open", None  # no timer: left alone
            s.add(timed)
            s.add(untimed)
            await s.commit()
            assert timed.id is not None
            poll_id = timed.id
        calls: list[tuple[int, int]] = []
        done = asyncio.Event()

        async def close(event_id: int, pid: int) -> bool:
            calls.append((event_id, pid))
            done.set()
            return True

        timers = PollTimers(db, close)
        started = asyncio.get_running_loop().time()
        await timers.start()
        await asyncio.wait_for(done.wait(), 5)
        waited = asyncio.get_running_loop().time() - started
        await asyncio.sleep(0.3)  # nothing else comes
        await timers.stop()
        await db.dispose()
        return calls, waited, poll_id

    calls, waited, poll_id = asyncio.run(run())
    assert calls == [(tokens.event_id, poll_id)]
    assert waited >= 0.3  # at its deadline, not at once
