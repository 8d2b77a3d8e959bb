"""Connection hygiene below the ASGI app: uvicorn's protocols with deadlines and caps.

uvicorn 0.54 closes an idle keep-alive connection, but a socket that connects and
never finishes its request headers (silent, or one header line every few seconds)
is kept for ever: 20,000 of them exhausted the open-files limit and the meeting
with it. So every connection here has a deadline for its request headers (re-armed
for each request on a kept-alive connection), a websocket has a deadline to finish
its handshake, and connections are capped per client address and in total. A
connection over a cap gets a plain 503 at once and is closed before it costs
anything but the accept.

The protocols are handed to uvicorn as ``functools.partial`` objects carrying the
limits (``uvicorn_options`` in ``server/web/asgi.py``), so they pickle for
``--workers N``. Both protocols of one process share one ``Gate``: after a websocket
upgrade the same socket belongs to the websocket protocol, which releases it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.settings import Settings

log = logging.getLogger("townhall.connections")

# Descriptors kept for everything that is not a client: database files and pool,
# Redis, logs, the theming worker's files.
FD_RESERVE_MIN = 64
FD_RESERVE_MAX = 1024
REFUSAL_LOG_EVERY_S = 10.0

_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"retry-after: 5\r\nconnection: close\r\ncontent-length: 38\r\n\r\n"
    b"server busy: too many open connections"
)


@dataclass(frozen=True)
class Limits:
    header_timeout: float  # seconds from connect (or a request's first byte) to its last header
    handshake_timeout: float  # seconds from the upgrade request to an accepted websocket
    max_connections: int  # 0: derived from the open-files limit
    max_per_address: int  # 0: half of the total


def limits_from(s: Settings) -> Limits:
    return Limits(
        header_timeout=s.header_timeout,
        handshake_timeout=s.handshake_timeout,
        max_connections=s.max_connections,
        max_per_address=s.max_connections_per_address,
    )


def raise_open_files_limit() -> tuple[int, int]:
    """Raise this process's soft open-files limit to the hard limit; (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, target
    return soft, soft


def capacity(limits: Limits, open_files: int | None = None) -> tuple[int, int]:
    """(connections in total, per address) this process will hold."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    reserve = min(FD_RESERVE_MAX, max(FD_RESERVE_MIN, open_files // 8))
    total = max(1, open_files - reserve)
    if limits.max_connections:
        total = min(total, limits.max_connections)
    per_address = limits.max_per_address or max(1, total // 2)
    return total, min(per_address, total)


class Gate:
    """The open connections of this process, by client address."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total, self.per_address = capacity(limits)
        self.by_address: dict[str, int] = {}
        self.open = 0
        self.refused = 0
        self._holders: dict[int, str] = {}
        self._last_log = float("-inf")
        self._refused_since_log = 0

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unix"
        here = self.by_address.get(address, 0)
        if self.open >= self.total or here >= self.per_address:
            self._refuse(address, here)
            return False
        self.by_address[address] = here + 1
        self.open += 1
        self._holders[id(transport)] = address
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        address = self._holders.pop(id(transport), None)
        if address is None:
            return
        self.open -= 1
        left = self.by_address[address] - 1
        if left:
            self.by_address[address] = left
        else:
            del self.by_address[address]

    def _refuse(self, address: str, here: int) -> None:
        self.refused += 1
        self._refused_since_log += 1
        now = time.monotonic()
        if now - self._last_log >= REFUSAL_LOG_EVERY_S:
            which = "in total" if self.open >= self.total else "from one address"
            log.warning(
                "refused %d connection(s): too many open %s (%d open, %d from %s; caps %d in "
                "total, %d per address; see docs/security.md, 'Connections')",
                self._refused_since_log, which, self.open, here, address,
                self.total, self.per_address,
            )
            self._last_log, self._refused_since_log = now, 0

    def status(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "max": self.total,
            "max_per_address": self.per_address,
            "refused": self.refused,
        }


_gates: dict[Limits, Gate] = {}


def gate_for(limits: Limits) -> Gate:
    """One gate per process and limits: uvicorn's protocol objects and the ASGI app
    share nothing else, and /healthz reports it."""
    gate = _gates.get(limits)
    if gate is None:
        gate = _gates[limits] = Gate(limits)
    return gate


def current_gate() -> Gate | None:
    return next(iter(_gates.values()), None)


class _Deadline:
    def __init__(self) -> None:
        self.handle: asyncio.TimerHandle | None = None

    def arm(self, loop: asyncio.AbstractEventLoop, seconds: float, transport: Any) -> None:
        self.cancel()
        self.handle = loop.call_later(seconds, transport.abort)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


def _guarded(limits: Limits) -> tuple[Limits, Gate, _Deadline]:
    """What both protocols of a connection carry: its limits, the process's gate, a timer."""
    return limits, gate_for(limits), _Deadline()


class GuardedHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol with the gate and a deadline for each request's headers."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.townhall_limits, self.townhall_gate, self.townhall_deadline = _guarded(limits)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.townhall_gate.admit(transport):
            transport.write(_REFUSAL)
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        self.townhall_deadline.arm(self.loop, self.townhall_limits.header_timeout, self.transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the next request on a kept-alive connection has its own deadline

    def on_headers_complete(self) -> None:
        self.townhall_deadline.cancel()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.townhall_deadline.cancel()
        self.townhall_gate.release(self.transport)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self.townhall_deadline.cancel()
        super().handle_websocket_upgrade()


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol with a deadline for the handshake; it releases the
    socket from the gate when it closes (the HTTP protocol no longer sees it)."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.townhall_limits, self.townhall_gate, self.townhall_deadline = _guarded(limits)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.townhall_deadline.handle = self.loop.call_later(
            self.townhall_limits.handshake_timeout, self._handshake_overdue
        )

    def _handshake_overdue(self) -> None:
        if not self.handshake_complete:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.townhall_deadline.cancel()
        self.townhall_gate.release(self.transport)
        super().connection_lost(exc)
