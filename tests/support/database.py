"""Reading the test database directly, SQLite or PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

T = TypeVar("T")


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
