"""The test databases: a fresh PostgreSQL database per test (and whether PostgreSQL and
Redis answer), and reading a test database directly, SQLite or PostgreSQL alike."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

T = TypeVar("T")


PG_URL = os.environ.get("TOWNHALL_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _pg_admin(sql: str, url: str = PG_URL) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        database=u.database,
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {exc}"
    return None


def redis_available(url: str = "redis://127.0.0.1:6379") -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable at {url}: {exc}"
    return None


@contextlib.contextmanager


def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"townhall_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def on_database(db_url: str, read: Callable[[sa.Connection], T]) -> T:
    """``read`` run on a connection to the test database, SQLite or PostgreSQL alike,
    from sync and async tests (on its own thread and event loop)."""

    async def go() -> T:
        engine = create_async_engine(db_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(timeout=30)


def db_rows(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one read-only query; a list parameter expands (``IN :ids``)."""
    query = sa.text(sql).bindparams(
        *(sa.bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, list))
    )
    return on_database(db_url, lambda c: [tuple(r) for r in c.execute(query, params)])


def db_columns(db_url: str, table: str) -> list[str]:
    return on_database(db_url, lambda c: [col["name"] for col in sa.inspect(c).get_columns(table)])
