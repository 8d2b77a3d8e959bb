"""The local hub between serve's web and theming processes (server/live/localhub.py),
on a real Unix socket: both ways, only the topics the other side listens to, and a
resync for the connecting side after the listening side was gone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.live.hub import RESYNC, MemoryHub
from server.live.localhub import LocalHub, open_hub, shared_hub

WITHIN = 5


async def until(check: Any, what: str) -> None:
    """Poll ``check`` (state of another task or process) for up to WITHIN seconds."""
    async with asyncio.timeout(WITHIN):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def next_message(sub: Any) -> dict[str, Any]:
    async with asyncio.timeout(WITHIN):
        return dict(await sub.get())


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[LocalHub, LocalHub]]:
    sock = tmp_path / "hub.sock"
    web = LocalHub(sock, listen=True)
    theming = LocalHub(sock, listen=False)
    await web.start()
    await theming.start()
    await until(lambda: theming.healthy and web.connected == 1, "connected")
    yield web, theming
    await theming.stop()
    await web.stop()


def test_urls_name_the_side() -> None:
    listen = open_hub("local+listen:///tmp/x/hub.sock")
    connect = open_hub("local:///tmp/x/hub.sock")
    assert isinstance(listen, LocalHub) and listen.listen
    assert isinstance(connect, LocalHub) and not connect.listen
    assert str(connect.path) == "/tmp/x/hub.sock"
    assert type(open_hub("memory://")) is MemoryHub
    assert shared_hub(listen) and not shared_hub(MemoryHub())


async def test_messages_cross_both_ways(pair: tuple[LocalHub, LocalHub]) -> None:
    web, theming = pair
    async with web.subscribe("themes:1") as team, theming.subscribe("comments:1") as worker:
        await until(lambda: "comments:1" in next(iter(web._peers)).wants, "web hears of it")
        await until(lambda: "themes:1" in next(iter(theming._peers)).wants, "theming hears")
        await web.publish("comments:1", {"type": "comment", "comment": {"id": 7}})
        assert (await next_message(worker))["comment"] == {"id": 7}
        await theming.publish("themes:1", {"type": "themes", "question_id": 3})
        assert (await next_message(team))["question_id"] == 3


async def test_only_topics_the_other_side_listens_to_cross(tmp_path: Path) -> None:
    """A raw client on the socket sees exactly what the listening side sends it."""
    sock = tmp_path / "hub.sock"
    web = LocalHub(sock, listen=True)
    await web.start()
    try:
        async with web.subscribe("themes:1"):
            reader, writer = await asyncio.open_unix_connection(str(sock))
            hello = json.loads(await reader.readline())
            assert hello == {"sub": ["themes:1"]}  # what the web side wants from us
            writer.write(b'{"sub":["comments:1"]}\n')
            await writer.drain()
            await until(lambda: web.connected == 1 and next(iter(web._peers)).wants, "told")
            await web.publish("tally:1", {"type": "tally", "n": 1})  # nobody there wants it
            await web.publish("comments:1", {"type": "comment", "n": 2})
            line = json.loads(await asyncio.wait_for(reader.readline(), WITHIN))
            assert line == {"topic": "comments:1", "message": {"type": "comment", "n": 2}}
            writer.write(b'{"unsub":["comments:1"]}\n')
            await writer.drain()
            await until(lambda: not next(iter(web._peers)).wants, "untold")
            await web.publish("comments:1", {"type": "comment", "n": 3})
            await web.publish("hub", {"type": "noise"})
            writer.close()
            # Nothing more was sent before the close: the stream just ends.
            assert await asyncio.wait_for(reader.read(), WITHIN) == b""
    finally:
        await web.stop()


async def test_the_connecting_side_resyncs_after_the_listening_side_comes_back(
    tmp_path: Path,
) -> None:
    sock = tmp_path / "hub.sock"
    web = LocalHub(sock, listen=True)
    theming = LocalHub(sock, listen=False)
    await web.start()
    await theming.start()
    try:
        async with theming.subscribe("comments:1", "hub") as worker:
            await until(lambda: theming.healthy, "connected")
            assert (await next_message(worker)) == {"type": "hub", "healthy": True}
            await web.stop()
            assert (await next_message(worker)) == {"type": "hub", "healthy": False}
            assert not theming.healthy
            web = LocalHub(sock, listen=True)
            await web.start()
            assert (await next_message(worker)) == {"type": "hub", "healthy": True}
            assert (await next_message(worker)) == RESYNC  # what was missed: reload
            await until(lambda: web.connected == 1, "reconnected")
            # The new listening side was told what the theming side listens to.
            await until(lambda: "comments:1" in next(iter(web._peers)).wants, "told again")
            await web.publish("comments:1", {"type": "comment", "n": 1})
            got = await next_message(worker)
            while got.get("type") != "comment":
                got = await next_message(worker)
            assert got["n"] == 1
    finally:
        await theming.stop()
        await web.stop()


async def test_a_stopped_listening_side_removes_its_socket(tmp_path: Path) -> None:
    sock = tmp_path / "hub.sock"
    sock.write_text("left by a killed process")
    web = LocalHub(sock, listen=True)
    await web.start()
    assert sock.is_socket()
    assert (sock.stat().st_mode & 0o777) == 0o600
    await web.stop()
    assert not sock.exists()


async def test_a_side_that_stops_reading_never_holds_up_the_publisher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stopped or hung theming process must not stall the web process's acks:
    publishing never waits for it, and once it is far enough behind it is dropped."""
    import server.live.localhub as localhub

    monkeypatch.setattr(localhub, "BACKLOG_LIMIT", 2**20, raising=False)
    sock = tmp_path / "hub.sock"
    web = LocalHub(sock, listen=True)
    await web.start()
    try:
        _reader, writer = await asyncio.open_unix_connection(str(sock))
        writer.write(b'{"sub":["comments:1"]}\n')
        await writer.drain()
        await until(lambda: web.connected == 1 and next(iter(web._peers)).wants, "told")
        big = {"type": "comment", "text": "x" * 20_000}
        async with asyncio.timeout(WITHIN):
            for _ in range(400):  # 8 MB, never read
                await web.publish("comments:1", big)
        assert web.connected == 0
        writer.close()
    finally:
        await web.stop()
