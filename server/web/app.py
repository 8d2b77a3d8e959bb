"""The ASGI application: ``create_app(settings)`` builds everything; the
lifespan owns the database, the hub, the worker executor and the meeting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.event.loader import ensure_event_loaded
from server.live.hub import RedisHub
from server.live.localhub import open_hub, shared_hub
from server.live.meeting import Meeting
from server.live.ratelimit import JoinLimiter
from server.live.routes import TeamOps
from server.live.shared_buckets import RedisBuckets
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.themes.rpc import Forwarder
from server.web import admin, asyncapi, collector, connections, logging_setup, pages, trace
from server.web import websocket as ws

if TYPE_CHECKING:
    # For the annotation only: the real import waits in _team_side, for start-up time.
    from server.themes.service import Theming

log = logging.getLogger("townhall.server")

ROOT = Path(__file__).resolve().parents[2]  # the repository: server/, display/, table_client/

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """No inline script anywhere: a strict CSP on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


ROUTES = [
    Route("/", pages.index),
    Route("/healthz", pages.healthz),
    Route("/protocol/asyncapi.json", asyncapi.asyncapi_json),
    Route("/join", pages.join_page),
    Route("/j/{code}", pages.join_page),
    Route("/api/join", pages.api_join, methods=["POST"]),
    Route("/phone", pages.phone_page),
    Route("/screen", pages.screen_page),
    Route("/team", pages.team_page),
    Route("/trace", trace.trace_page),
    Route("/producer", pages.producer_page),
    Route("/producer/report", pages.producer_report),
    Route("/producer/links", admin.links_page, methods=["GET", "POST"]),
    Route("/t/{token}", pages.table_page),
    Route("/join-qr.svg", pages.join_qr),
    WebSocketRoute("/ws/{role}", ws.endpoint, name="ws"),
    Mount(
        "/static/table",
        StaticFiles(directory=ROOT / "table_client" / "static", check_dir=False),
        name="table_static",
    ),
    Mount(
        "/static/display",
        StaticFiles(directory=ROOT / "display" / "static", check_dir=False),
        name="display_static",
    ),
    Mount("/static", StaticFiles(directory=ROOT / "server" / "static"), name="static"),
]


def _raise_open_files_limit(settings: Settings) -> None:
    """Every socket is a file: the common soft limit (1,024) holds ~900 phones."""
    before, after = connections.raise_open_files_limit()
    total, per_address = connections.capacity(connections.limits_from(settings), after)
    log.info(
        "open files limit %s (was %d); up to %d connections, %d per client address",
        after,
        before,
        total,
        per_address,
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logging_setup.configure(settings.log_level)  # first: no token may reach a log
        _raise_open_files_limit(settings)
        await asyncio.to_thread(upgrade, settings.db_url)
        db = Database(settings.db_url)
        hub = open_hub(settings.hub_url, settings.subscriber_queue, settings.db_url)
        await hub.start()
        meeting = Meeting(settings, db, hub)
        theming, team = _team_side(settings, meeting)
        await meeting.start(team)
        if theming is not None:
            await theming.start()
            app.state.theming = theming.worker
        if isinstance(team, Forwarder):
            await team.start()
        shared = RedisBuckets(settings.hub_url, hub.channel) if isinstance(hub, RedisHub) else None
        app.state.join_limiter = JoinLimiter(*settings.join_rate, shared)
        guard = ws.Guard(settings, db, hub, shared)
        await guard.start()
        app.state.settings = settings
        app.state.meeting = meeting
        app.state.guard = guard
        app.state.templates = pages.make_templates()
        if settings.event_file is not None:
            await ensure_event_loaded(db, settings.event_file)
        quiet = collector.QuietCollection(meeting.last_write)
        if settings.tune_gc:  # a server process of its own (``townhall serve``)
            collector.freeze_startup()
            quiet.start()
        try:
            yield
        finally:
            await quiet.stop()
            if theming is not None:
                await theming.stop()
            if isinstance(team, Forwarder):
                await team.stop()
            await guard.stop()
            await meeting.stop()
            await hub.stop()
            if shared is not None:
                await shared.close()
            await db.dispose()

    return Starlette(routes=ROUTES, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])


def _team_side(
    settings: Settings, meeting: Meeting
) -> tuple[Theming | None, TeamOps | None]:
    """Who takes the theme team's ops in this process: its own workbench when it
    themes; with a shared hub and no worker here (``serve``'s own theming process, or
    serve --workers N), a forwarder to the theming-worker process; else nobody (the
    ops are refused)."""
    if settings.theming:
        # Imported only where this process themes: the embedding libraries add
        # seconds to start-up, which web processes of `serve --workers N` are spared.
        from server.themes.service import Theming

        theming = Theming(meeting.db, meeting.hub, settings, meeting.handle)
        meeting.comment_listeners.append(theming.worker.enqueue)
        return theming, theming.workbench
    if shared_hub(meeting.hub):
        return None, Forwarder(meeting.db, meeting.hub, settings.curation_timeout)
    return None, None
