"""Deliver the outbox to the server over one reconnecting websocket.

On every (re)connect the sender resends every unacked comment in seq order,
then streams new ones as they are saved. At most ``window`` comments are in
flight, so a backlog of hundreds drains quickly without flooding the server.
The outbox, not memory, is the source of truth: the sender can die at any
point and the next one picks up exactly where the acks stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from table_client.allocation import (
    AllocationChannel,
    AllocationEvent,
    AllocationPoll,
)
from table_client.backoff import Backoff
from table_client.endpoint import with_token
from table_client.events import (
    CommentChanged,
    Event,
    Hello,
    Link,
    Question,
    QuestionChanged,
    Status,
)
from table_client.outbox import Comment, Outbox, State

log = logging.getLogger(__name__)

# Closes after which retrying cannot help: bad token or wrong role (1008), and
# the server's own "token revoked" (4001, docs/protocol.md).
GIVE_UP_CODES = frozenset({1008, 4001})
# Errors that say "not now" rather than "never": the comment stays waiting and
# the sender reconnects (after a growing delay), which resends it in order;
# "conflict" means our seq is taken, and the next hello renumbers it.
TRANSIENT = frozenset({"server_error", "rate_limited", "conflict"})
MAX_FRAME = 1 << 20


class TokenRefused(Exception):
    """The server will not take this token; reconnecting is pointless."""


class ProtocolError(Exception):
    """The server said something this client does not understand."""


class _Resync(Exception):
    """Start a fresh connection: resend what is waiting after a new hello."""


class _Current:
    """Marker: use the question the server says is open now."""


CURRENT = _Current()


class Sender:
    def __init__(
        self,
        ws_base: str,
        token: str,
        outbox: Outbox,
        *,
        window: int = 50,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        hello_timeout: float = 10.0,
        ping_interval: float = 10.0,
    ) -> None:
        self._ws_base = ws_base  # token-free: safe to log
        self._url = with_token(ws_base, token)
        self.outbox = outbox
        self._window = window
        self._backoff = backoff or Backoff()
        # Separate, and reset only by an ack, so a comment the server keeps
        # failing on is retried every ~10 s rather than in a tight loop.
        self._resync_backoff = Backoff(self._backoff.base, self._backoff.cap)
        self._open_timeout = open_timeout
        self._hello_timeout = hello_timeout
        self._ping_interval = ping_interval
        self._listeners: list[Callable[[Event], None]] = []
        self._wake = asyncio.Event()
        hello = outbox.last_hello()
        self.hello: Hello | None = Hello.parse(hello) if hello else None
        self.question: Question | None = self.hello.question if self.hello else None
        self.status = Status(Link.CONNECTING, outbox.waiting_count())
        self.allocation = AllocationChannel(AllocationPoll.parse((hello or {}).get("poll")))

    # -- what UIs call ---------------------------------------------------

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def submit(
        self, text: str, question_id: int | _Current | None = CURRENT, star: bool = False
    ) -> Comment:
        """Save a comment to the outbox (durably), then wake the sender. Raises ValueError."""
        if isinstance(question_id, _Current):
            question_id = self.question.id if self.question else None
        comment = self.outbox.add(text, question_id, star)
        self._changed(comment)
        return comment

    @property
    def allocation_poll(self) -> AllocationPoll | None:
        return self.allocation.poll

    def subscribe_allocation(self, listener: Callable[[AllocationEvent], None]) -> None:
        self.allocation.subscribe(listener)

    def submit_allocation(self, amounts: dict[str, int]) -> str:
        """Queue the table's allocation (``AllocationChannel.submit``) and wake the sender."""
        msg_id = self.allocation.submit(amounts)
        self._wake.set()
        return msg_id

    def toggle_star(self, cid: str) -> Comment | None:
        comment = self.outbox.toggle_star(cid)
        if comment is not None:
            self._changed(comment)
        return comment

    def wake(self) -> None:
        """Call after writing to the outbox directly (e.g. a bulk replay)."""
        self._wake.set()
        self._set_status(self.status.link)

    # -- the loop --------------------------------------------------------

    async def run(self) -> None:
        """Connect, deliver, reconnect, forever; returns only if the token is refused."""
        while True:
            backoff = self._backoff
            try:
                reason = await self._connect_once()
            except TokenRefused as exc:
                log.warning("token refused by %s: %s", self._ws_base, exc)
                self._set_status(Link.REFUSED, str(exc) or None)
                return
            except _Resync as exc:
                reason, backoff = str(exc), self._resync_backoff
            except InvalidStatus as exc:
                reason = f"server answered HTTP {exc.response.status_code}"
            except (OSError, TimeoutError, InvalidHandshake, ProtocolError) as exc:
                reason = _describe(exc)
            delay = backoff.next_delay()
            log.info("offline (%s); retrying %s in %.2fs", reason, self._ws_base, delay)
            self._set_status(Link.OFFLINE, reason)
            await asyncio.sleep(delay)
            self._set_status(Link.CONNECTING)

    async def _connect_once(self) -> str:
        """One connection, start to end; returns why it ended."""
        try:
            async with connect(
                self._url,
                open_timeout=self._open_timeout,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_interval,
                close_timeout=2,
                max_size=MAX_FRAME,
            ) as ws:
                with contextlib.suppress(ConnectionClosed):
                    await self._session(ws)
                code, why = ws.close_code, ws.close_reason
        except InvalidStatus as exc:
            # Starlette turns a close before accept into HTTP 403.
            if exc.response.status_code in (401, 403):
                raise TokenRefused(f"HTTP {exc.response.status_code}") from exc
            raise
        if code in GIVE_UP_CODES:
            raise TokenRefused(why or "")
        return f"closed by server ({code}{': ' + why if why else ''})"

    async def _session(self, ws: ClientConnection) -> None:
        async with asyncio.timeout(self._hello_timeout):
            hello = _parse(await ws.recv())
        if hello.get("type") == "error":
            # A refusal is explained first, then closed (1008): let the close
            # code decide whether to give up.
            log.warning("server refused the connection: %s", hello.get("message"))
            async with asyncio.timeout(self._hello_timeout):
                await ws.wait_closed()
            return
        if hello.get("type") != "hello":
            raise ProtocolError(f"expected hello, got {hello.get('type')!r}")
        try:
            last_seq = int(hello.get("last_seq") or 0)
        except (TypeError, ValueError) as exc:
            raise ProtocolError("hello without a usable last_seq") from exc
        self.outbox.save_hello(hello)
        await self._settle_doubtful(ws, last_seq)
        if self.outbox.on_hello(last_seq):
            log.warning("server is ahead of this outbox; waiting comments renumbered")
            for c in self.outbox.all():
                if c.waiting:
                    self._changed(c)
        for c in self.outbox.adopt(hello.get("comments") or ()):  # another device's too
            self._changed(c)
        self.hello = Hello.parse(hello)
        self.question = self.hello.question
        self._emit(self.hello)
        self.allocation.poll_changed(hello.get("poll"), from_hello=True)
        self._backoff.reset()
        self._set_status(Link.CONNECTED)
        in_flight: set[str] = set()
        reader = asyncio.create_task(self._read(ws, in_flight))
        writer = asyncio.create_task(self._write(ws, in_flight))
        try:
            done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, writer):
                task.cancel()
            await asyncio.gather(reader, writer, return_exceptions=True)
        for task in done:
            task.result()  # a closed socket or a bug: let it surface

    async def _settle_doubtful(self, ws: ClientConnection, last_seq: int) -> None:
        """Resend, alone, the sent comments numbered at or below ``last_seq``; await each answer.

        Each was either stored before its ack was lost, or its number went to
        another device. Only the server knows which, and it looks up ids
        before seqs: an ack settles the comment at its own number, a conflict
        leaves it waiting for ``on_hello`` to renumber after ``last_seq``.
        Renumbering the stored ones too gave them numbers the server never
        used, a gap before the comments that followed. A queued comment was
        never on the wire, so it needs no question.
        """
        doubtful = [c for c in self.outbox.all() if c.state is State.SENT and c.seq <= last_seq]
        if doubtful:
            log.info("asking the server about %d comments sent before the link went", len(doubtful))
        unanswered: set[str] = set()
        while doubtful or unanswered:
            room = self._window - len(unanswered)
            batch, doubtful = doubtful[:room], doubtful[room:]
            await self._send_comments(ws, batch, unanswered)
            async with asyncio.timeout(self._hello_timeout):
                raw = await ws.recv()
            try:
                msg = _parse(raw)
            except ProtocolError as exc:
                log.warning("ignoring unreadable frame: %s", exc)
                continue
            conflict = msg.get("type") == "error" and msg.get("code") == "conflict"
            if conflict and msg.get("id") in unanswered:
                unanswered.discard(str(msg.get("id")))
            else:
                self._handle(msg, unanswered)

    async def _read(self, ws: ClientConnection, in_flight: set[str]) -> None:
        async for raw in ws:
            try:
                msg = _parse(raw)
            except ProtocolError as exc:
                log.warning("ignoring unreadable frame: %s", exc)
                continue
            self._handle(msg, in_flight)

    async def _write(self, ws: ClientConnection, in_flight: set[str]) -> None:
        cursor = 0  # highest seq written on this connection
        stars_sent: set[str] = set()
        allocation_sent: str | None = None
        while True:
            self._wake.clear()  # before reading the outbox, so no wake-up is lost
            room = self._window - len(in_flight)
            batch = self.outbox.waiting_after(cursor, room) if room > 0 else []
            await self._send_comments(ws, batch, in_flight)
            cursor = batch[-1].seq if batch else cursor
            for op in self.outbox.pending_stars():
                if op.id not in stars_sent:
                    stars_sent.add(op.id)
                    msg = {"type": "star", "id": op.id, "comment": op.comment, "star": op.star}
                    await ws.send(json.dumps(msg))
            waiting = self.allocation.waiting
            if waiting is not None and waiting["id"] != allocation_sent:
                allocation_sent = waiting["id"]
                await ws.send(json.dumps(waiting))
            if not batch:
                await self._wake.wait()

    async def _send_comments(
        self, ws: ClientConnection, batch: list[Comment], in_flight: set[str]
    ) -> None:
        # Marked before the first write: a link cut mid-batch may deliver some,
        # and a comment still "queued" must be one the server cannot hold.
        fresh = [c for c in batch if c.state is State.QUEUED]
        self.outbox.mark_sent(c.uuid for c in fresh)
        for c in fresh:
            self._changed(self.outbox.get(c.uuid) or c)
        for c in batch:
            await ws.send(json.dumps(_comment_message(c)))
            in_flight.add(c.uuid)

    def _handle(self, msg: dict[str, Any], in_flight: set[str]) -> None:
        kind = msg.get("type")
        if kind in ("ack", "error") and self.allocation.owns(msg):
            code = str(msg.get("code") or "error")
            if kind == "error" and code in TRANSIENT:  # kept: resent with the same id
                raise _Resync(f"server said {code}: {msg.get('message') or code}")
            self.allocation.settle(msg)
            return
        if kind == "poll":
            self.allocation.poll_changed(msg.get("poll"))
            return
        if kind == "ack":
            mid = str(msg.get("id"))
            in_flight.discard(mid)
            # The ack's seq may differ from ours after a renumbering; the
            # uuid is what identifies the comment.
            comment = self.outbox.mark_acked(mid, msg.get("comment_id"))
            if comment is not None:
                self._resync_backoff.reset()
            else:
                comment = self.outbox.star_acked(mid)
            if comment is not None:
                self._changed(comment)
            self._wake.set()
        elif kind == "error":
            mid = str(msg.get("id"))
            code = str(msg.get("code") or "error")
            text = str(msg.get("message") or code)
            in_flight.discard(mid)
            ours = self.outbox.get(mid) is not None or self.outbox.is_star_op(mid)
            if ours and code in TRANSIENT:
                raise _Resync(f"server said {code}: {text}")
            comment = self.outbox.mark_refused(mid, text) or self.outbox.star_refused(mid, text)
            if comment is not None:
                self._changed(comment)
            else:
                log.warning("server error %s: %s", code, text)
            self._wake.set()
        elif kind == "table_comment":  # this table's, stored from any of its devices
            for comment in self.outbox.adopt([msg.get("comment")], pushed=True):
                self._changed(comment)
        elif kind == "question":
            self.question = Question.parse(msg.get("question"))
            self._emit(QuestionChanged(self.question))
        else:
            log.debug("ignoring message of type %r", kind)

    # -- telling the UIs -------------------------------------------------

    def _changed(self, comment: Comment) -> None:
        self._emit(CommentChanged(comment))
        self._wake.set()
        self._set_status(self.status.link, self.status.detail)

    def _set_status(self, link: Link, detail: str | None = None) -> None:
        status = Status(link, self.outbox.waiting_count(), detail)
        if status != self.status:
            self.status = status
            self._emit(status)

    def _emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)


def _comment_message(c: Comment) -> dict[str, Any]:
    return {
        "type": "comment",
        "id": c.uuid,
        "seq": c.seq,
        "text": c.text,
        "question_id": c.question_id,
        "star": c.star_initial,
    }


def _parse(raw: str | bytes) -> dict[str, Any]:
    try:
        msg = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    return msg


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
