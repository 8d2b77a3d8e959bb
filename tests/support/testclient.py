"""Helpers for tests with Starlette's TestClient: the protocol in-process, no sockets."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def recv_until(ws: Any, *kinds: str) -> dict[str, Any]:
    """The next message of one of these types (TestClient's receive has no timeout:
    a bound on the number of messages instead)."""
    for _ in range(50):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] in kinds:
            return msg
    raise AssertionError(f"no {kinds} message within 50 messages")


def join(client: TestClient, code: str, site: str | None = None) -> str:
    """A new participant; their token."""
    r = client.post("/api/join", json={"code": code} | ({"site": site} if site else {}))
    assert r.status_code == 200, r.text
    return str(r.json()["token"])
