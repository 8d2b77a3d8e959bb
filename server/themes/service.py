"""The theme team's side of a process (``Theming``: the worker, the workbench, and
with a shared hub the server answering ops forwarded by web processes), and
``townhall theming-worker``: the one process that themes comments when the web
side runs as several processes. It hears about new comments through the hub
(Redis) and catches up from the database after any gap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import col, select

from server.live.hub import RESYNC, MemoryHub, RedisHub, make_hub
from server.live.meeting import Meeting
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.storage.models import Comment, Event
from server.themes.rpc import CurationServer, Dispatch
from server.themes.workbench import Workbench
from server.themes.worker import ThemingWorker

log = logging.getLogger("townhall.theming")


class Theming:
    """The worker (in its own threads), the workbench that takes the team's ops, and
    with a shared hub the server answering ops forwarded by web processes without a
    worker of their own (through ``dispatch``, the meeting's own path)."""

    def __init__(
        self, db: Database, hub: MemoryHub, settings: Settings, dispatch: Dispatch
    ) -> None:
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="theming")
        self.worker = ThemingWorker(db, hub, self.executor, settings.embedder)
        self.workbench = Workbench(db, self.worker)
        self.rpc = CurationServer(db, hub, dispatch) if isinstance(hub, RedisHub) else None
        self._preload: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if self.rpc is not None:
            await self.rpc.start()
        await self.worker.start()
        # The embedding model takes 5-11 s to load: load it now, in the worker's
        # thread, so the first comment of the day does not wait for it.
        self._preload = asyncio.get_running_loop().run_in_executor(self.executor, self._load_model)

    def _load_model(self) -> None:
        load = getattr(self.worker.embedder.embedder, "load", None)
        if load is not None:
            try:
                load()
            except Exception:  # it will be tried again, and reported, on first use
                log.exception("could not preload the embedding model")

    async def stop(self) -> None:
        if self.rpc is not None:
            await self.rpc.stop()
        await self.worker.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)


async def run_theming_service(settings: Settings, ready: asyncio.Event | None = None) -> None:
    await asyncio.to_thread(upgrade, settings.db_url)
    db = Database(settings.db_url)
    hub = make_hub(settings.hub_url, settings.subscriber_queue, settings.db_url)
    await hub.start()
    meeting = Meeting(settings, db, hub)
    theming = Theming(db, hub, settings, meeting.handle)
    meeting.comment_listeners.append(theming.worker.enqueue)
    await meeting.start(theming.workbench)
    await theming.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await _listen(db, hub, theming.worker, stop, ready)
    finally:
        await theming.stop()
        await meeting.stop()
        await hub.stop()
        await db.dispose()


async def _listen(
    db: Database,
    hub: MemoryHub,
    worker: ThemingWorker,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
) -> None:
    """Theme every comment the web processes announce, until ``stop``."""
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


async def _catch_up(db: Database, worker: ThemingWorker) -> None:
    async with db.session() as s:
        ids = [i for i in (await s.exec(select(Comment.id).order_by(col(Comment.id)))).all() if i]
    await worker.process(ids)
