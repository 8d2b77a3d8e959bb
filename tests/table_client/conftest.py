"""Fixtures for the table client tests; the fakes live in tests/support/table.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from table_client.endpoint import table_ws_base
from table_client.outbox import Outbox, table_key
from table_client.sender import Sender
from tests.support.table import TOKEN, FakeServer, fast_backoff, until_sender


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.sqlite3"


StartSender = Callable[..., Sender]
Until = Callable[[Sender, Callable[[], bool]], Awaitable[None]]


@pytest.fixture
async def start_sender(server: FakeServer, outbox_path: Path) -> AsyncIterator[StartSender]:
    """Build a Sender on the fake server (running in a task unless run=False)."""
    tasks: list[asyncio.Task[None]] = []
    outboxes: list[Outbox] = []

    def start(path: Path | None = None, *, run: bool = True, **kwargs: Any) -> Sender:
        base = table_ws_base(server.url)
        outbox = Outbox(path or outbox_path, table_key(base, TOKEN))
        outboxes.append(outbox)
        sender = Sender(base, TOKEN, outbox, backoff=fast_backoff(), **kwargs)
        if run:
            tasks.append(asyncio.create_task(sender.run()))
        return sender

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for outbox in outboxes:
        outbox.close()


@pytest.fixture
def until() -> Until:
    return until_sender
