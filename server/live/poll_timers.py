"""Polls opened with a timer close when it runs out, as the producer's Close would:
the phones, the screens and the consoles see the poll closed and its result, rather
than "closes in 0 s" while votes are refused. Each process times the polls it
opened, and on start the open polls it finds with a timer (a restart, or another
process's): closing twice is harmless, the second finds the poll closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel import col, select

from server.storage.db import Database
from server.storage.models import Poll, utcnow

log = logging.getLogger(__name__)
GRACE_S = 0.05  # after the deadline, so the server's own check finds it passed
Close = Callable[[int, int], Awaitable[bool]]  # (event_id, poll_id) -> closed now


class PollTimers:
    def __init__(self, db: Database, close: Close) -> None:
        self.db = db
        self.close = close
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def start(self) -> None:
        async with self.db.session() as s:
            rows = (
                await s.exec(
                    select(Poll).where(Poll.status == "open", col(Poll.closes_at).is_not(None))
                )
            ).all()
        for poll in rows:
            assert poll.id is not None and poll.closes_at is not None
            self.schedule(poll.event_id, poll.id, poll.closes_at)

    def schedule(self, event_id: int, poll_id: int, closes_at: datetime) -> None:
        """Close ``poll_id`` at ``closes_at`` (replacing its earlier timer, if any)."""
        old = self._tasks.pop(poll_id, None)
        if old is not None:
            old.cancel()
        self._tasks[poll_id] = asyncio.create_task(self._run(event_id, poll_id, closes_at))

    async def _run(self, event_id: int, poll_id: int, closes_at: datetime) -> None:
        wait = (closes_at - utcnow()).total_seconds()
        await asyncio.sleep(max(0.0, wait) + GRACE_S)
        try:
            if await self.close(event_id, poll_id):
                log.info("poll %d closed: its timer ran out", poll_id)
        except Exception:  # the producer can still close it by hand
            log.exception("closing poll %d at the end of its timer failed", poll_id)
        finally:
            if self._tasks.get(poll_id) is asyncio.current_task():
                del self._tasks[poll_id]

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
