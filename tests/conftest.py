"""Fixtures shared by every test level: settings on a fresh SQLite file (or
PostgreSQL with TOWNHALL_TEST_DB), the example event loaded, a live server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.event.loader import IssuedTokens
from server.settings import Settings
from tests.support.database import postgres_available, postgres_database, redis_available
from tests.support.example import load_example
from tests.support.server import FAILED, LiveServer, ServerThread, start_server

# Fixtures every folder can use (their helpers are in tests/support/); the skip
# policy (a skip fails the run unless an opt-out asked for it), and pytester for
# that plugin's own tests. The policy is loaded only through this line (a plain
# import here would come first and keep pytest from loading it as a plugin).
pytest_plugins = (
    "pytester",
    "tests.skip_policy",
    "tests.support.browser",
    "tests.support.meeting",
    "tests.support.workbench",
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture


def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or PostgreSQL when TOWNHALL_TEST_DB=postgres
    (``make test-postgres`` runs the whole suite that way)."""
    if os.environ.get("TOWNHALL_TEST_DB") == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'townhall.db'}"


@pytest.fixture


def pg_url() -> Iterator[str]:
    reason = postgres_available()
    if reason:
        from tests.skip_policy import missing

        missing("postgres", reason)
    with postgres_database() as url:
        yield url


@pytest.fixture


def redis_url() -> str:
    reason = redis_available()
    if reason:
        from tests.skip_policy import missing

        missing("redis", reason)
    return "redis://127.0.0.1:6379"


@pytest.fixture


def settings(db_url: str) -> Settings:
    return Settings(
        db_url=db_url,
        theming=False,
        embedder="hashing",
        tally_interval=0.05,
        check_protocol=True,  # every message sent checked against the spec
    )


@pytest.fixture


def tokens(db_url: str) -> IssuedTokens:
    return load_example(db_url)


@pytest.fixture


def live_server(
    tmp_path: Path, db_url: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """The real server under uvicorn, on a free port, in a thread of the test process
    (``server_process`` where a test kills or restarts it, or reads its log)."""
    tokens = load_example(db_url)
    env_extra = getattr(request, "param", None) or {}
    thread = ServerThread(db_url, env_extra)
    base = thread.start()
    log = tmp_path / "server.log"  # output is captured with the test's, not written here
    yield LiveServer(base, base.replace("http", "ws", 1), tokens, None, log, db_url, env_extra)
    thread.stop()


@pytest.fixture


def server_process(
    tmp_path: Path, db_url: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """The real server under uvicorn in a subprocess, on a free port."""
    tokens = load_example(db_url)
    env_extra = getattr(request, "param", None) or {}
    log = tmp_path / "server.log"
    proc, base = start_server(db_url, log, env_extra)
    server = LiveServer(base, base.replace("http", "ws", 1), tokens, proc, log, db_url, env_extra)
    yield server
    # server.proc, not proc: a test that restarts the server swaps in the new process
    # (the old one is already gone), and the new one must not outlive the test.
    assert server.proc is not None
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    if request.node.stash.get(FAILED, False):
        print(f"--- server log ---\n{server.log_text()}")


@pytest.hookimpl(wrapper=True)


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    rep = yield
    if getattr(rep, "when", "") == "call" and getattr(rep, "failed", False):
        item.stash[FAILED] = True
    return rep
