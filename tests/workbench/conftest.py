"""One real server with theming on and a themed question, shared by a module's
tests (starting a server and theming 60 comments per test would cost minutes).
Tests act on the state they read first and use their own member names, so
they do not depend on each other's order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.browser.conftest import browser  # noqa: F401  (shared with these tests)
from tests.conftest import FAILED, LiveServer, load_example, start_server
from tests.workbench.helpers import THEMING, seed


@dataclass
class Themed:
    server: LiveServer
    question_id: int


@pytest.fixture(scope="session")
def themed_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Themed]:
    tmp = tmp_path_factory.mktemp("workbench")
    db_url = f"sqlite+aiosqlite:///{tmp / 'townhall.db'}"
    tokens = load_example(db_url)
    log = tmp / "server.log"
    proc, base = start_server(db_url, log, THEMING)
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, THEMING)

    async def go() -> dict[str, Any]:
        async with connect(server.ws_url("team", tokens.team)) as team:
            return await seed(server, team, 60)

    try:
        msg = asyncio.run(go())
        yield Themed(server, msg["question_id"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()
        if any(item.stash.get(FAILED, False) for item in request.session.items):
            print(f"--- server log ---\n{server.log_text()}")
