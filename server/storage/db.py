"""Database engine and sessions, for SQLite (WAL) or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> AsyncEngine:
    # hide_parameters: a failed statement's error names its SQL, never the values
    # (comment text, token hashes), so a traceback in the log quotes nobody.
    if is_sqlite(url):
        # Thousands of phones (re)connecting at once each need a read: a bigger
        # pool with a patient checkout queues them instead of failing.
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_size=10,
            max_overflow=10,
            pool_timeout=300,
            hide_parameters=True,
        )

        @sa_event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets screens read while tables write; NORMAL sync is durable
            # across a process kill (only an OS crash can lose the last commits).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(
        url,
        pool_size=20,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=300,
        hide_parameters=True,
    )


class Database:
    """Owns the engine; hands out sessions, and sessions for writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer; queueing this process's writers here is cheaper
        # than busy-waiting in SQLite. PostgreSQL takes writers side by side.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if is_sqlite(url) else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as s:
            yield s

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """A session to write in, taken in turn with this process's other writers on SQLite."""
        async with self._write_lock or contextlib.nullcontext(), self._sessions() as s:
            yield s

    async def dispose(self) -> None:
        await self.engine.dispose()
