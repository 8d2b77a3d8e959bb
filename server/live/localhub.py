"""A hub between the processes of one machine, without Redis.

``townhall serve`` runs the theming worker in a process of its own: the model
and its CPU stay out of the web process. The two speak through this hub: the
web process listens on a Unix socket (``local+listen:///path/hub.sock``) and
the theming process connects to it (``local:///path/hub.sock``). Each side
delivers to its own subscribers as ``MemoryHub`` does, and sends the other
side only the topics the other side has subscribers for (each side tells the
other as its subscriptions come and go), so 5,000 phones' tallies never cross
the socket while a new comment, a ``themes`` message or a forwarded team op do.

Lines of JSON, one per message. The listening side is always healthy; a
connecting side is unhealthy until connected, retries every ``RETRY`` seconds,
and after a gap tells its subscribers to resync (as ``RedisHub`` does), so the
theming worker catches up from the database with what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from server.live.hub import MemoryHub, RedisHub, Subscription, make_hub

log = logging.getLogger("townhall.hub")

RETRY = 0.5  # seconds between attempts to reach the listening side
LINE_LIMIT = 2**27  # one message; a question's ``themes`` with 5,000 comments is ~200 kB
BACKLOG_LIMIT = 2**26  # bytes not yet taken by the other side before it is dropped


class _Peer:
    """One connection: what the other side wants, and how to write to it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.wants: set[str] = set()

    def send(self, line: bytes) -> None:
        """Never waits: a busy or stopped theming process must not hold up the
        web process's acks. One that falls ``BACKLOG_LIMIT`` bytes behind is
        dropped; it reconnects and catches up from the database."""
        if self.writer.is_closing():
            raise ConnectionResetError("closed")
        self.writer.write(line)
        if self.writer.transport.get_write_buffer_size() > BACKLOG_LIMIT:
            log.warning("a process on the local hub fell too far behind: dropped")
            raise ConnectionResetError("too far behind")


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


class LocalHub(MemoryHub):
    """Delivers between the web process (``listen=True``) and its helper processes."""

    def __init__(self, path: str | Path, maxsize: int = 256, *, listen: bool) -> None:
        super().__init__(maxsize)
        self.path = Path(path)
        self.listen = listen
        self.healthy = listen
        self._peers: set[_Peer] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle -------------------------------------------------------

    async def start(self) -> None:
        if self.listen:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # left by a process that was killed
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=LINE_LIMIT
            )
            os.chmod(self.path, 0o600)
        else:
            self._spawn(self._connect_forever())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for peer in list(self._peers):
            peer.writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def connected(self) -> int:
        """How many other processes are connected now."""
        return len(self._peers)

    # -- publishing and subscribing ---------------------------------------

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.deliver(topic, message)
        self._forward(topic, message, source=None)

    def _forward(self, topic: str, message: dict[str, Any], source: _Peer | None) -> None:
        line: bytes | None = None
        for peer in list(self._peers):
            if peer is source or topic not in peer.wants:
                continue
            line = line or _line({"topic": topic, "message": message})
            try:
                peer.send(line)
            except (ConnectionError, OSError):
                self._drop(peer)

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        new = [t for t in dict.fromkeys(topics) if t not in self._subs]
        async with super().subscribe(*topics) as sub:
            if new:
                self._tell({"sub": new})
            try:
                yield sub
            finally:
                # The topics only this subscriber holds, about to leave ``_subs``.
                gone = [t for t in dict.fromkeys(topics) if self._subs.get(t) == {sub}]
                if gone:
                    self._tell({"unsub": gone})

    def _tell(self, payload: dict[str, Any]) -> None:
        line = _line(payload)
        for peer in list(self._peers):
            try:
                peer.send(line)
            except (ConnectionError, OSError):
                self._drop(peer)

    # -- the connections --------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _Peer(writer)
        self._peers.add(peer)
        log.info("a process joined the local hub")
        try:
            peer.send(_line({"sub": list(self._subs)}))
            await self._read(reader, peer)
        except (ConnectionError, OSError):
            pass
        finally:
            self._drop(peer)
            log.info("a process left the local hub")

    async def _connect_forever(self) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    str(self.path), limit=LINE_LIMIT
                )
            except OSError:
                if self.healthy or not self._announced_down:
                    self._set_healthy(False)
                await asyncio.sleep(RETRY)
                continue
            peer = _Peer(writer)
            self._peers.add(peer)
            try:
                peer.send(_line({"sub": list(self._subs)}))
                self._set_healthy(True)
                await self._read(reader, peer)
            except (ConnectionError, OSError):
                pass
            finally:
                self._drop(peer)
            self._set_healthy(False)
            await asyncio.sleep(RETRY)

    async def _read(self, reader: asyncio.StreamReader, peer: _Peer) -> None:
        while True:
            raw = await reader.readline()
            if not raw:
                return
            data = json.loads(raw)
            if "sub" in data:
                peer.wants.update(data["sub"])
            elif "unsub" in data:
                peer.wants.difference_update(data["unsub"])
            else:
                self.deliver(data["topic"], data["message"])
                # The listening side relays between its helpers (none need it
                # today, but a second helper must hear the first).
                if self.listen:
                    self._forward(data["topic"], data["message"], source=peer)

    def _drop(self, peer: _Peer) -> None:
        if peer in self._peers:
            self._peers.discard(peer)
            peer.writer.close()

    def _set_healthy(self, healthy: bool) -> None:
        """As ``RedisHub``: tell local clients, and after a gap have them resync."""
        if healthy == self.healthy and (healthy or self._announced_down):
            return
        super()._set_healthy(healthy)


def shared_hub(hub: MemoryHub) -> bool:
    """Whether other processes hear this hub (Redis, or serve's local hub): then a
    process without a theming worker forwards team ops, and the one with it answers."""
    return isinstance(hub, RedisHub | LocalHub)


def open_hub(url: str, maxsize: int = 256, db_url: str | None = None) -> MemoryHub:
    """``make_hub`` that also knows ``local://PATH`` (connect) and
    ``local+listen://PATH`` (listen), the URLs ``serve`` gives its two processes."""
    scheme, _, path = url.partition("://")
    if scheme in ("local", "local+listen"):
        return LocalHub(path, maxsize, listen=scheme == "local+listen")
    return make_hub(url, maxsize, db_url)
