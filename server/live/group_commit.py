"""Group commit for votes and comments: the writes that arrive within a few
milliseconds share one transaction, and each is acked only after that commit.

One commit per write caps SQLite at a few hundred durable writes a second and
puts every phone and table behind the one before it; a shared commit keeps the
ack promise (acked = committed) at a fraction of the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from server.core.errors import TownhallError
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.tokens import Principal

log = logging.getLogger("townhall.votes")

Pending = list[tuple[Principal, Any, "asyncio.Future[Outcome]"]]
# stage(session, who, msg) adds a write without committing; single() commits one.
Write = Callable[[Any, Principal, Any], Awaitable[Outcome]]
# prepare(session, [(who, msg), ...]) reads what the whole batch needs, once.
Prepare = Callable[[Any, list[tuple[Principal, Any]]], Awaitable[None]]
# finish(session) writes what the batch staged in bulk, just before the commit.
Finish = Callable[[Any], Awaitable[None]]


class GroupCommit:
    def __init__(
        self,
        db: Database,
        stage: Write,
        single: Write,
        window: float = 0.005,
        busy_window: float = 0.02,
        busy_rate: float = 100.0,
        max_batch: int = 500,
        prepare: Prepare | None = None,
        finish: Finish | None = None,
    ) -> None:
        self.db = db
        self.stage = stage
        self.single = single
        self.prepare = prepare
        self.finish = finish
        self.window = window
        self.busy_window = busy_window
        self.busy_rate = busy_rate  # writes a second from which batches gather longer
        self._rate = 0.0  # writes a second over the last tenth of a second or more
        self._counted = 0
        self._counting_since = 0.0
        self.last_submit = float("-inf")  # time.monotonic() of the latest write
        self.max_batch = max_batch
        self._pending: Pending = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, who: Principal, msg: Any) -> Outcome:
        loop = asyncio.get_running_loop()
        self.arrived(loop.time())
        self.last_submit = time.monotonic()
        fut: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append((who, msg, fut))
        self._wake.set()
        return await fut

    def arrived(self, now: float) -> None:
        """Count a write handed over at ``now`` (the loop's clock) toward the rate."""
        if now - self._counting_since >= 0.1:
            self._rate = self._counted / (now - self._counting_since)
            self._counted, self._counting_since = 0, now
        self._counted += 1

    def gather_window(self) -> float:
        """How long a batch gathers: longer while writes stream in."""
        return self.busy_window if self._rate >= self.busy_rate else self.window

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # A quiet room gets the short wait (a lone vote is acked at once); while
            # writes come in streams the batches are gathered for longer, because
            # each transaction's fixed cost (a session, the batch's reads, the
            # commit: a few ms of CPU) paid every 5 ms for two or three votes kept
            # one core busy at 500 votes/s and the acks queued behind it.
            await asyncio.sleep(self.gather_window())
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._commit(batch)

    async def _commit(self, batch: Pending) -> None:
        results: list[Outcome | TownhallError] = []
        try:
            async with self.db.writer() as s:
                if self.prepare is not None:
                    await self.prepare(s, [(who, msg) for who, msg, _ in batch])
                for who, msg, _ in batch:
                    try:
                        results.append(await self.stage(s, who, msg))
                    except TownhallError as exc:
                        results.append(exc)
                if self.finish is not None:
                    await self.finish(s)
                await s.commit()
        except Exception:
            # A conflict with another process (or a bad row) spoils the shared
            # transaction: fall back to one commit per vote so each gets its answer.
            log.warning("group commit of %d votes failed; committing one by one", len(batch))
            await self._one_by_one(batch)
            return
        self.batches += 1
        for (_, _, fut), res in zip(batch, results, strict=True):
            if fut.done():
                continue
            if isinstance(res, TownhallError):
                fut.set_exception(res)
            else:
                fut.set_result(res)

    async def _one_by_one(self, batch: Pending) -> None:
        for who, msg, fut in batch:
            try:
                async with self.db.writer() as s:
                    fut.set_result(await self.single(s, who, msg))
            except Exception as exc:
                if not fut.done():
                    fut.set_exception(exc)
