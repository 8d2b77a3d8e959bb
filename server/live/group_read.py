"""Group reads: the reads that arrive while one is running share the next query.

When 5,000 phones join or reconnect within a minute, each one's token lookup
and ``hello`` would take a pooled connection, a transaction and a query or
three of its own; on SQLite every statement is several hops to aiosqlite's
thread and back. Read together, one query answers a few hundred of them. A
lone read waits for nothing: the batch is whatever is pending when the
previous one is done, with no timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# read(keys) -> a value for each key it was given (every one of them).
Read = Callable[[list[K]], Awaitable[dict[K, V]]]


class GroupRead(Generic[K, V]):
    def __init__(self, read: Read[K, V], max_batch: int = 500) -> None:
        self.read = read
        self.max_batch = max_batch
        self._pending: list[tuple[K, asyncio.Future[V]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    async def get(self, key: K) -> V:
        """The value for ``key``, read with whatever else is asked meanwhile."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        fut: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending.append((key, fut))
        self._wake.set()
        return await fut

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, fut in self._pending:
            fut.cancel()
        self._pending.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._answer(batch)

    async def _answer(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        waiting = [(k, f) for k, f in batch if not f.done()]  # a caller may have gone
        if not waiting:
            return
        try:
            found = await self.read(list(dict.fromkeys(k for k, _ in waiting)))
        except asyncio.CancelledError:
            for _, fut in waiting:  # stopping: nobody is left waiting for ever
                fut.cancel()
            raise
        except Exception as exc:
            # The batch's session failed (the database restarting, say): each
            # caller gets the error as a read of its own would have given it.
            for _, fut in waiting:
                if not fut.done():
                    fut.set_exception(exc)
            return
        self.batches += 1
        for key, fut in waiting:
            if not fut.done():
                fut.set_result(found[key])
