"""``townhall theming-worker``: the one process that themes comments when the
web side runs as several processes. It hears about new comments through the
hub (Redis) and catches up from the database after any gap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import col, select

from server.live.hub import RESYNC, make_hub
from server.live.meeting import Meeting
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.storage.models import Comment, Event
from server.themes.workbench import Theming

log = logging.getLogger("townhall.theming")


async def run_theming_service(settings: Settings, ready: asyncio.Event | None = None) -> None:
    await asyncio.to_thread(upgrade, settings.db_url)
    db = Database(settings.db_url)
    hub = make_hub(settings.hub_url, settings.subscriber_queue, settings.db_url)
    await hub.start()
    meeting = Meeting(settings, db, hub, ThreadPoolExecutor(2, thread_name_prefix="theming"))
    await meeting.start()
    theming = Theming(meeting)
    await theming.start()
    worker = theming.worker
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with db.session() as s:
            events = [e for e in (await s.exec(select(Event.id))).all() if e is not None]
        topics = [f"comments:{e}" for e in events] + ["hub"]
        async with hub.subscribe(*topics) as sub:
            log.info("theming worker listening for comments of %d event(s)", len(events))
            if ready is not None:
                ready.set()
            waiter = asyncio.create_task(stop.wait())
            while not stop.is_set():
                getter = asyncio.create_task(sub.get())
                done, _ = await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                msg = getter.result()
                if msg.get("type") == "comment":
                    await worker.enqueue(0, int(msg["comment"]["id"]))
                elif msg is RESYNC or (msg.get("type") == "hub" and msg.get("healthy")):
                    # Messages may have been missed: re-read every comment (the
                    # engine ignores those it already has).
                    await _catch_up(db, worker)
    finally:
        await theming.stop()
        await meeting.stop()
        await hub.stop()
        await db.dispose()


async def _catch_up(db: Database, worker: object) -> None:
    async with db.session() as s:
        ids = [i for i in (await s.exec(select(Comment.id).order_by(col(Comment.id)))).all() if i]
    await worker.process(ids)  # type: ignore[attr-defined]
