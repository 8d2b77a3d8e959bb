"""The table client's tests: a small fake of the server's table protocol over real
websockets on loopback, a sender for the real server, and waiting on the terminal UI.

It commits a comment (stores it once per uuid) before acking, answers a
resend with the same ack, and can crash the way a killed server does: the
socket vanishes, a comment may be committed without its ack leaving.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from textual.pilot import Pilot
from textual.widgets import Static
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from table_client.backoff import Backoff
from table_client.endpoint import table_ws_base
from table_client.events import Link
from table_client.outbox import Outbox, table_key
from table_client.sender import Sender
from table_client.tui import TableApp
from tests.support.database import db_rows
from tests.support.server import LiveServer

TOKEN = "table-7-secret"
WAIT = 10.0  # generous bound on every network wait; a pass takes milliseconds


@dataclass
class Stored:
    comment_id: int
    seq: int
    text: str
    question_id: int | None
    star: bool


@dataclass
class FakeServer:
    port: int = 0
    last_seq: int = 0
    question: dict[str, Any] | None = field(
        default_factory=lambda: {"id": 1, "text": "What matters most?", "round": "1"}
    )
    ack_delay: float = 0.0  # simulated commit latency
    crash_after_commits: int | None = None  # commit the Nth, then vanish without acking
    refuse_text: str = "REFUSE ME"
    refuse_token: bool = False
    comments: dict[str, Stored] = field(default_factory=dict)
    # The real server's hello lists the table's stored comments; off by default
    # here, so the clients' resend-and-ask path (a server holding more than the
    # hello carries) stays tested.
    hello_comments: bool = False
    agenda: list[dict[str, Any]] = field(default_factory=list)  # the hello's "questions"
    commit_order: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    out_of_order: list[int] = field(default_factory=list)
    outstanding_max: int = 0
    connections_seen: int = 0
    _outstanding: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _server: Server | None = None
    _crashed: Server | None = None
    _conns: set[ServerConnection] = field(default_factory=set)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self._finish_crash()
        self._server = await serve(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def crash(self) -> None:
        """Stop like ``kill -9``: no close frames, sockets just die."""
        assert self._server is not None
        self._server.close(close_connections=False)
        for conn in list(self._conns):
            conn.transport.abort()
        # Handlers may call this, and wait_closed waits for them: finish later.
        self._crashed, self._server = self._server, None

    async def _finish_crash(self) -> None:
        if self._crashed is not None:
            async with asyncio.timeout(WAIT):
                await self._crashed.wait_closed()
            self._crashed = None

    async def stop(self) -> None:
        await self._finish_crash()
        if self._server is not None:
            self._server.close()
            async with asyncio.timeout(WAIT):
                await self._server.wait_closed()
            self._server = None

    async def push_question(self, question: dict[str, Any] | None) -> None:
        self.question = question
        for conn in list(self._conns):
            await conn.send(json.dumps({"type": "question", "question": question}))

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT), self._changed:
            await self._changed.wait_for(condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        token = parse_qs(urlsplit(ws.request.path).query).get("token", [""])[0]
        if token != TOKEN or self.refuse_token:  # explain, then close: as the real server
            err = {"type": "error", "id": None, "code": "forbidden", "message": "bad token"}
            await ws.send(json.dumps(err))
            await ws.close(1008, "token refused")
            return
        self._conns.add(ws)
        self.connections_seen += 1
        try:
            await ws.send(json.dumps(self._hello()))
            await self._notify()
            async for raw in ws:
                if ws.transport.is_closing():  # crashed: frames already read die with it
                    break
                msg = json.loads(raw)
                self.received.append(msg)
                await self._on_message(ws, msg)
                await self._notify()
        except ConnectionClosed:
            pass  # the client vanished or we crashed on purpose
        finally:
            self._conns.discard(ws)
            await self._notify()

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "role": "table",
            "table": {"id": 7, "name": "Table 7", "site": "Main hall"},
            "event": {"title": "Rehearsal"},
            "question": self.question,
            "questions": self.agenda,
            "last_seq": self.last_seq,
        } | (
            {
                "comments": [
                    {
                        "id": u,
                        "comment_id": c.comment_id,
                        "seq": c.seq,
                        "text": c.text,
                        "question_id": c.question_id,
                        "star": c.star,
                    }
                    for u, c in sorted(self.comments.items(), key=lambda kv: kv[1].seq)
                ]
            }
            if self.hello_comments
            else {}
        )

    async def _on_message(self, ws: ServerConnection, msg: dict[str, Any]) -> None:
        if msg["type"] == "star":
            stored = next((c for u, c in self.comments.items() if u == msg["comment"]), None)
            if stored is not None:
                stored.star = msg["star"]
            await ws.send(json.dumps({"type": "ack", "id": msg["id"]}))
            return
        assert msg["type"] == "comment", msg
        cid = msg["id"]
        if msg["text"] == self.refuse_text:
            err = {"type": "error", "id": cid, "code": "invalid", "message": "not allowed"}
            await ws.send(json.dumps(err))
            return
        if cid not in self.comments:
            if msg["seq"] <= self.last_seq:  # as the real server does
                self.out_of_order.append(msg["seq"])
                err = {"type": "error", "id": cid, "code": "conflict", "message": "seq taken"}
                await ws.send(json.dumps(err))
                return
            self.last_seq = max(self.last_seq, msg["seq"])
            self.comments[cid] = Stored(
                next(self._ids), msg["seq"], msg["text"], msg["question_id"], msg["star"]
            )
            self.commit_order.append(cid)
            if self.crash_after_commits is not None and (
                len(self.commit_order) >= self.crash_after_commits
            ):
                self.crash_after_commits = None
                self.crash()  # committed, ack never sent
                return
        stored = self.comments[cid]
        ack = {"type": "ack", "id": cid, "comment_id": stored.comment_id, "seq": stored.seq}
        if self.ack_delay:
            self._outstanding += 1
            self.outstanding_max = max(self.outstanding_max, self._outstanding)
            asyncio.get_running_loop().call_later(
                self.ack_delay, lambda: asyncio.ensure_future(self._late_ack(ws, ack))
            )
        else:
            await ws.send(json.dumps(ack))

    async def _late_ack(self, ws: ServerConnection, ack: dict[str, Any]) -> None:
        self._outstanding -= 1
        try:
            await ws.send(json.dumps(ack))
        except Exception:  # the client went away; it will resend
            return
        await self._notify()


def fast_backoff() -> Backoff:
    return Backoff(base=0.02, cap=0.2)


async def until_sender(sender: Sender, condition: Callable[[], bool], within: float = WAIT) -> None:
    """Wait (bounded) until ``condition`` holds, re-checking on each sender event."""
    changed = asyncio.Event()
    sender.subscribe(lambda _event: changed.set())
    async with asyncio.timeout(within):
        while not condition():
            changed.clear()
            await changed.wait()


Until = Callable[[Sender, Callable[[], bool]], Awaitable[None]]


def sender_for(server: LiveServer, token: str, path: Path) -> Sender:
    base = table_ws_base(server.base)
    outbox = Outbox(path, table_key(base, token))
    return Sender(base, token, outbox, backoff=Backoff(base=0.05, cap=0.5))


def stored_seqs(db_url: str, client_ids: list[str]) -> list[int]:
    """seq of each comment as the server stored it, straight from its database."""
    rows = db_rows(
        db_url, "SELECT client_id, seq FROM comment WHERE client_id IN :ids", ids=client_ids
    )
    assert len(rows) == len({r[0] for r in rows}), "a comment was stored twice"
    by_id = dict(rows)
    return [by_id[c] for c in client_ids if c in by_id]


def settled(sender: Sender) -> Callable[[], bool]:
    return lambda: sender.status.link is Link.CONNECTED and sender.status.waiting == 0


async def until_ui(pilot: Pilot[int], condition: Callable[[], bool]) -> None:
    """Let the app process its messages until ``condition`` holds (bounded)."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await pilot.pause()


def text_of(app: TableApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())
