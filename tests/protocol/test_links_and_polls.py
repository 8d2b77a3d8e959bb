"""What a third-party client needs besides the message shapes: a links file it can
read (with URLs for where the server really runs), one open poll at a time, and
versions that tell which tally counts a vote."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.live import version as version_module
from server.live.version import VersionClock
from tests.support.example import EVENT_FILE, ROOT, new_id
from tests.support.live import join
from tests.support.server import LiveServer, free_port, start_server

TIMEOUT = 15.0


def event_load(db_url: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "event", "load", str(EVENT_FILE), "--db", db_url,
         "--links", str(tmp_path / "links.txt"), "--links-json", str(tmp_path / "links.json"),
         *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads((tmp_path / "links.json").read_text(encoding="utf-8"))


def test_links_json_uses_the_public_url_and_lists_every_token(tmp_path: Path, db_url: str) -> None:
    public = "https://hall.example.org:8443"
    doc = event_load(db_url, tmp_path, "--public-url", public)
    assert stat.S_IMODE((tmp_path / "links.json").stat().st_mode) == 0o600
    assert doc["format"] == "townhall-links/1" and doc["base_url"] == public
    assert doc["phones"]["join_api"] == f"{public}/api/join"
    assert doc["phones"]["websocket"] == "wss://hall.example.org:8443/ws/phone?token="
    roles = [link["role"] for link in doc["links"]]
    # The example: one whole-event screen, a screen per site (2), producer, team, 12 tables.
    assert roles.count("display") == 3 and roles.count("producer") == roles.count("team") == 1
    tables = sorted(link["table"] for link in doc["links"] if link["role"] == "table")
    assert tables == list(range(1, len(tables) + 1)) and len(tables) >= 2
    for link in doc["links"]:
        assert link["page"].startswith(f"{public}/") and link["token"] in link["page"]
        assert link["websocket"] == (
            f"wss://hall.example.org:8443/ws/{link['role']}?token={link['token']}"
        )
    text = (tmp_path / "links.txt").read_text(encoding="utf-8")
    assert ":8000" not in text + json.dumps(doc) and f"{public}/producer?token=" in text


def test_every_link_in_the_json_opens_its_role_on_the_running_server(
    tmp_path: Path, db_url: str
) -> None:
    port = free_port()
    doc = event_load(db_url, tmp_path, env={"TOWNHALL_PORT": str(port)})
    proc, _base = start_server(db_url, tmp_path / "server.log", port=port)
    try:
        asyncio.run(_open_every_link(doc))
    finally:
        proc.terminate()
        proc.wait(10)


async def _open_every_link(doc: dict[str, Any]) -> None:
    for link in doc["links"]:
        async with connect(link["websocket"], open_timeout=TIMEOUT) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert hello["type"] == "hello" and hello["role"] == link["role"], link["role"]


async def _until(ws: ClientConnection, test: Any) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if test(msg):
                return msg


async def _write(ws: ClientConnection, msg: dict[str, Any]) -> dict[str, Any]:
    msg = {"id": new_id(), **msg}
    await ws.send(json.dumps(msg))
    return await _until(ws, lambda m: m["type"] in ("ack", "error") and m["id"] == msg["id"])


def test_opening_a_poll_closes_the_one_that_was_open(live_server: LiveServer) -> None:
    asyncio.run(_one_open_poll(live_server))


async def _one_open_poll(server: LiveServer) -> None:
    phone_token = join(server)
    async with (
        connect(server.ws_url("producer", server.tokens.producer)) as producer,
        connect(server.ws_url("phone", phone_token)) as phone,
    ):
        hello = await _until(producer, lambda m: m["type"] == "hello")
        polls = {p["key"]: p["id"] for p in hello["event"]["polls"]}
        first, second = polls["warmup"], polls["top-priorities"]
        await _until(phone, lambda m: m["type"] == "hello")
        assert (await _write(producer, {"type": "open_poll", "poll_id": first}))["closed"] == []
        vote = {"type": "vote", "poll_id": first, "seq": 1, "choice": ["bus"]}
        assert (await _write(phone, vote))["applied"] is True

        ack = await _write(producer, {"type": "open_poll", "poll_id": second})
        assert ack["closed"] == [first]
        closed = await _until(phone, lambda m: m["type"] == "poll" and m["poll"]["id"] == first)
        assert closed["poll"]["status"] == "closed"
        refused = await _write(phone, {**vote, "seq": 2, "choice": ["car"]})
        assert refused["code"] == "poll_closed"

    async with connect(server.ws_url("phone", phone_token)) as again:
        hello = await _until(again, lambda m: m["type"] == "hello")
        assert hello["poll"]["id"] == second and hello["poll"]["status"] == "open"


def test_a_tally_with_a_higher_version_than_the_ack_counts_the_vote(
    live_server: LiveServer,
) -> None:
    asyncio.run(_versions(live_server))


async def _versions(server: LiveServer) -> None:
    tokens = [join(server) for _ in range(3)]
    async with (
        connect(server.ws_url("producer", server.tokens.producer)) as producer,
        connect(server.ws_url("display", server.tokens.display)) as display,
    ):
        hello = await _until(producer, lambda m: m["type"] == "hello")
        poll = next(p["id"] for p in hello["event"]["polls"] if p["key"] == "warmup")
        screen = await _until(display, lambda m: m["type"] == "hello")
        await _write(producer, {"type": "open_poll", "poll_id": poll})
        seen = screen["version"]
        for n, token in enumerate(tokens, start=1):
            async with connect(server.ws_url("phone", token)) as phone:
                await _until(phone, lambda m: m["type"] == "hello")
                vote = {"type": "vote", "poll_id": poll, "seq": 1, "choice": ["walk"]}
                ack = await _write(phone, vote)
            acked = ack["version"]
            tally = await _until(display, _tally_after(poll, acked))
            assert tally["turnout"] == tally["result"]["turnout"] == n
            assert tally["version"] > seen
            seen = tally["version"]


def _tally_after(poll: int, version: int) -> Any:
    return lambda m: m["type"] == "tally" and m["poll"]["id"] == poll and m["version"] > version


def test_version_clock_never_repeats_or_goes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = iter([5_000_000_000, 5_000_000_000, 4_000_000_000, 6_000_000_000])
    monkeypatch.setattr(version_module.time, "time_ns", lambda: next(now))
    clock = VersionClock()
    assert [clock.next() for _ in range(4)] == [5000, 5001, 5002, 6000]
