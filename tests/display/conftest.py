"""One server holding the hard-case room (tests/display/room.py), shared by the
module's screen tests: filling it through the protocol takes a while."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli.demo import SAMPLE
from tests.browser.conftest import browser  # noqa: F401  (the fixture, reused)
from tests.conftest import FAILED, LiveServer, load_example, start_server
from tests.display.room import EVENT, Room, fill_room

ENV = {
    "TOWNHALL_THEMING": "true",
    "TOWNHALL_EMBEDDER": "hashing",
    "TOWNHALL_BREAKDOWN_INTERVAL": "0.5",
}


def sample_texts(n: int) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)][:n]


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
