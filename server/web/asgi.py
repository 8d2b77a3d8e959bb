"""Serving the application under uvicorn: its options, and the application built
from the environment for ``uvicorn --factory`` (``townhall serve --workers N``
starts each worker process from here)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.applications import Starlette

from server.settings import Settings
from server.web.app import create_app
from server.web.connections import GuardedHTTPProtocol, GuardedWebSocketProtocol, limits_from


def app() -> Starlette:
    return create_app(Settings())


def uvicorn_options(s: Settings) -> dict[str, Any]:
    return {
        "host": s.host,
        "port": s.port,
        "ws_max_size": s.max_frame_bytes,
        # Compression costs ~90 KiB per idle socket; 5,000 phones can't afford it.
        "ws_per_message_deflate": False,
        "ws_ping_interval": s.ws_ping_interval,
        "ws_ping_timeout": s.ws_ping_timeout,
        "log_level": s.log_level,
        "lifespan": "on",
        # Access logs would print every URL, and URLs carry tokens.
        "access_log": False,
        # Deadlines and caps for sockets that never finish a request (docs/security.md).
        "http": functools.partial(GuardedHTTPProtocol, limits=limits_from(s)),
        "ws": functools.partial(GuardedWebSocketProtocol, limits=limits_from(s)),
    }

