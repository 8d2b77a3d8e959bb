"""Team curation ops across processes.

With ``serve --workers N`` the theme engine lives in the separate theming-worker
process, but team members connect to the web processes. A web process without
a theming worker of its own forwards each team op over the shared hub
(``Forwarder``); the process that owns the theming worker runs it through its
own ``Meeting.handle`` — the very path of a local op, so the commit, the
curation-log row, the ack and the pushes to every team page are the same — and
publishes the ack fields or the error back (``CurationServer``).

A request carries the stored hash of the member's token, and a server answers
only requests whose hash its own database holds: two deployments (or test
runs) sharing one Redis never apply each other's ops.

A request names the reply topic of the process that sent it and a request id.
The forwarding side waits ``curation_timeout`` seconds, never retries, and then
tells the member the change was not made; the serving side drops a request
whose deadline has passed, and runs a request whose op id is already being
applied only once (both waiters get its answer). A resend after the op was
committed is acked from the curation log, as locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from server.core.errors import TownhallError
from server.live.hub import MemoryHub
from server.live.meeting import Reply
from server.protocol import messages as p
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.models import AccessToken
from server.storage.tokens import Principal
from server.themes.polls import poll_from_themes

log = logging.getLogger("townhall.curation")

REQUEST_TOPIC = "curate"
Dispatch = Callable[[Principal, Any], Coroutine[Any, Any, Reply]]
NOT_ANSWERING = "The theming worker is not answering; your change was not made."


class ThemingUnavailable(TownhallError):
    """Nobody answered a forwarded op in time; like any ``server_error``, nothing was stored."""

    code = "server_error"
    http_status = 503


class RemoteFailure(RuntimeError):
    """The theming worker failed unexpectedly on a forwarded op (its log has why);
    raised here so the member gets the same ``server_error`` as for a local failure."""


class _TokenHashes:
    """Token id -> stored hash, read once (a token's hash never changes)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: dict[int, str | None] = {}

    async def get(self, token_id: int) -> str | None:
        if token_id not in self._known:
            async with self.db.session() as s:
                row = await s.get(AccessToken, token_id)
            self._known[token_id] = row.token_hash if row is not None else None
        return self._known[token_id]


def _error_classes() -> dict[str, type[TownhallError]]:
    found: dict[str, type[TownhallError]] = {}
    todo = [TownhallError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


class Forwarder:
    """The team ops of a web process, each sent as a request to the theming worker."""

    def __init__(self, db: Database, hub: MemoryHub, timeout: float) -> None:
        self.db = db
        self.hub = hub
        self.timeout = timeout
        self.reply_topic = f"curate-reply:{uuid.uuid4().hex}"
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._hashes = _TokenHashes(db)
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sub = await self._stack.enter_async_context(self.hub.subscribe(self.reply_topic))
        self._task = asyncio.create_task(self._listen(sub))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stack.aclose()

    async def poll_from_themes(self, who: Principal, msg: p.PollFromThemesMsg) -> Outcome:
        # Turning published themes into a poll needs only the database: no need to forward.
        return await poll_from_themes(self.db, who, msg)

    async def _listen(self, sub: Any) -> None:
        while True:
            reply = await sub.get()
            # A resync marker carries no reply: the ops it hid time out.
            waiter = self._pending.get(reply.get("request", ""))
            if waiter is not None and not waiter.done():
                waiter.set_result(reply)

    async def handle(self, who: Principal, msg: Any) -> Outcome:
        request_id = uuid.uuid4().hex
        request = {
            "type": "curate",
            "request": request_id,
            "reply_to": self.reply_topic,
            # Wall clock, as the theming worker may run on another machine.
            "deadline": time.time() + self.timeout,
            "who": dataclasses.asdict(who),
            "token_hash": await self._hashes.get(who.token_id),
            "message": msg.model_dump(mode="json"),
        }
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = waiter
        try:
            await self.hub.publish(REQUEST_TOPIC, request)
            async with asyncio.timeout(self.timeout):
                reply = await waiter
        except TimeoutError:
            # No retry: the member decides whether to send the op again, and a
            # resend is found in the log if the op was applied after all.
            raise ThemingUnavailable(NOT_ANSWERING) from None
        finally:
            self._pending.pop(request_id, None)
        error = reply.get("error")
        if error is None:
            return Outcome(ack=reply["ack"])
        cls = _error_classes().get(error["code"])
        if cls is None or cls is ThemingUnavailable:
            raise RemoteFailure(error.get("message", "the theming worker failed"))
        raise cls(error["msgid"], **error.get("values", {}))


class CurationServer:
    """Answers forwarded team ops in the process that owns the theming worker, through
    ``dispatch``: the meeting's own path for a message (``Meeting.handle``)."""

    def __init__(self, db: Database, hub: MemoryHub, dispatch: Dispatch) -> None:
        self.db = db
        self.hub = hub
        self.dispatch = dispatch
        self._inflight: dict[tuple[int, int, str], asyncio.Task[Reply]] = {}
        self._hashes = _TokenHashes(db)
        self._answering: set[asyncio.Task[None]] = set()
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sub = await self._stack.enter_async_context(self.hub.subscribe(REQUEST_TOPIC))
        self._task = asyncio.create_task(self._listen(sub))

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._answering) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stack.aclose()

    async def _listen(self, sub: Any) -> None:
        while True:
            request = await sub.get()
            if request.get("type") != "curate":
                continue  # a resync marker: lost requests time out at their sender
            # Each op in its own task: ops on different questions need not queue,
            # and the engine's per-question lock orders the rest.
            task = asyncio.create_task(self._answer(request))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    async def _answer(self, request: dict[str, Any]) -> None:
        try:
            if await self._hashes.get(request["who"]["token_id"]) != request["token_hash"]:
                return  # another deployment's request on the same Redis
            if time.time() > request["deadline"]:
                # Its sender has told the member the change was not made: keep it so.
                log.warning("dropped a team op that arrived after its sender gave up")
                return
            reply = {"ack": await self._run(request)}
        except TownhallError as exc:
            values = json.loads(json.dumps(exc.values, default=str))
            error = {"code": exc.code, "message": exc.message, "msgid": exc.msgid}
            reply = {"error": {**error, "values": values}}
        except Exception:
            log.exception("a forwarded team op failed")
            reply = {"error": {"code": "server_error", "message": "the theming worker failed"}}
        await self.hub.publish(
            request["reply_to"], {"type": "curated", "request": request["request"], **reply}
        )

    async def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        who = Principal(**request["who"])
        msg = p.parse(json.dumps(request["message"]))
        key = (who.event_id, who.token_id, str(msg.id))  # a client id is its sender's
        # The same op sent again while it is still being applied (a member who
        # gave up and resent) waits for the first run instead of racing it past
        # the log check.
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self.dispatch(who, msg))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        ack, _ = await asyncio.shield(task)  # team ops publish nothing after their reply
        return {k: v for k, v in ack.items() if k not in ("type", "id")}
