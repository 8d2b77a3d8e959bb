"""Fixtures shared by every test level: settings on a fresh SQLite file (or
PostgreSQL with TOWNHALL_TEST_DB), the example event loaded, a live server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens, load_event
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade

# The skip policy (a skip fails the run unless an opt-out asked for it), and
# pytester for that plugin's own tests. Imported only through this line (a plain
# import here would come first and keep pytest from loading it as a plugin).
pytest_plugins = ["pytester", "tests.skip_policy"]

ROOT = Path(__file__).resolve().parent.parent
EVENT_FILE = ROOT / "server" / "examples" / "riverton-budget.toml"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
    return Settings(db_url=db_url, theming=False, embedder="hashing", tally_interval=0.05)


def load_example(db_url: str, path: Path = EVENT_FILE) -> IssuedTokens:
    upgrade(db_url)

    async def go() -> IssuedTokens:
        db = Database(db_url)
        try:
            return await load_event(db, load_event_file(path))
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def tokens(db_url: str) -> IssuedTokens:
    return load_example(db_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base: str
    ws: str
    tokens: IssuedTokens
    proc: subprocess.Popen[bytes]
    log: Path
    db_url: str
    env: dict[str, str]

    def ws_url(self, role: str, token: str) -> str:
        return f"{self.ws}/ws/{role}?token={token}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    db_url: str, log: Path, env_extra: dict[str, str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = port or free_port()
    env = {
        **os.environ,
        "TOWNHALL_THEMING": "false",
        "TOWNHALL_EMBEDDER": "hashing",
        "TOWNHALL_TALLY_INTERVAL": "0.05",
        **(env_extra or {}),
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start within 60 s:\n{log.read_text()}")


@pytest.fixture
def live_server(
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
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    if request.node.stash.get(FAILED, False):
        print(f"--- server log ---\n{server.log_text()}")


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    rep = yield
    if getattr(rep, "when", "") == "call" and getattr(rep, "failed", False):
        item.stash[FAILED] = True
    return rep


def new_id() -> str:
    return str(uuid.uuid4())
