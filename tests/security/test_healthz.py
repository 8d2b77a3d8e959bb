"""/healthz says whether this process can take the meeting's writes: a write probe
on the database and the hub's state, 503 when either is down (issue 23, item 7).
The hub going down is covered with a real Redis outage in
tests/server/test_redis_outage.py (``hub_state``: 503 while Redis is cut)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web import pages
from server.web.app import create_app


@contextlib.contextmanager
def _writes_blocked(db_url: str) -> Iterator[None]:
    """Another connection holds the write lock on the probe's table, as a stuck
    writer, a full disk or a read-only replica would refuse writes."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import asyncpg

    u = make_url(db_url)
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(
        asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)
    )
    tx = conn.transaction()
    loop.run_until_complete(tx.start())
    loop.run_until_complete(conn.execute("LOCK TABLE health_probe IN ACCESS EXCLUSIVE MODE"))
    try:
        yield
    finally:
        loop.run_until_complete(tx.rollback())
        loop.run_until_complete(conn.close())
        loop.close()


def test_healthz_is_503_while_the_database_cannot_be_written(
    settings: Settings, tokens: IssuedTokens, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "HEALTH_PROBE_TIMEOUT", 1.0)
    with TestClient(create_app(settings)) as client:
        ok = client.get("/healthz")
        assert ok.status_code == 200, ok.text
        assert ok.json()["database"] == "ok" and ok.json()["hub"] == "ok"
        with _writes_blocked(db_url):
            down = client.get("/healthz")
        assert down.status_code == 503
        assert down.json()["database"] == "down" and down.json()["status"] == "down"
        assert client.get("/healthz").status_code == 200, "it recovers with the database"
