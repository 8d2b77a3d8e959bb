"""One server holding the hard-case room (tests/display/room.py), shared by the
module's screen tests: filling it through the protocol takes a while."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.example import load_example
from tests.support.live import sample_texts
from tests.support.room import EVENT, Room, fill_room
from tests.support.server import FAILED, LiveServer, start_server

ENV = {
    "TOWNHALL_THEMING": "true",
    "TOWNHALL_EMBEDDER": "hashing",
    "TOWNHALL_BREAKDOWN_INTERVAL": "0.5",
}


@pytest.fixture(scope="module")
def room(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Room]:
    tmp: Path = tmp_path_factory.mktemp("room")
    db_url = f"sqlite+aiosqlite:///{tmp / 'room.db'}"
    tokens = load_example(db_url, EVENT)
    log = tmp / "server.log"
    proc, base = start_server(db_url, log, ENV)
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, ENV)
    try:
        yield asyncio.run(fill_room(server, sample_texts(60)))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()
        if any(item.stash.get(FAILED, False) for item in request.session.items):
            print(f"--- server log ---\n{server.log_text()}")
