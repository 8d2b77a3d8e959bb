"""The theme team's side of a process (``Theming``: the worker, the workbench, and
with a shared hub the server answering ops forwarded by web processes), and
``townhall theming-worker``: the one process that themes comments apart from the
web side — started by ``townhall serve`` beside its web process (over the local
hub, ``server/live/localhub.py``), or by itself beside ``serve --workers N``
(over Redis). It hears about new comments through the hub and catches up from
the database after any gap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlmodel import col, select

from server.live.hub import RESYNC, MemoryHub
from server.live.localhub import open_hub, shared_hub
from server.live.meeting import Meeting
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.storage.models import Comment, Event
from server.themes.embeddings import theming_threads
from server.themes.rpc import CurationServer, Dispatch
from server.themes.workbench import Workbench
from server.themes.worker import ThemingWorker

log = logging.getLogger("townhall.theming")

EVENTS_EVERY = 5.0  # seconds between looks for events loaded since the worker started
PARENT_EVERY = 1.0  # seconds between checks that the process that started us is alive


class Theming:
    """The worker (in its own threads), the workbench that takes the team's ops, and
    with a shared hub the server answering ops forwarded by web processes without a
    worker of their own (through ``dispatch``, the meeting's own path)."""

    def __init__(
        self, db: Database, hub: MemoryHub, settings: Settings, dispatch: Dispatch
    ) -> None:
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="theming")
        threads = theming_threads(settings.theming_threads, settings.theming_cpus)
        self.worker = ThemingWorker(
            db, hub, self.executor, settings.embedder, threads, settings.embed_precision
        )
        self.workbench = Workbench(db, self.worker)
        self.rpc = CurationServer(db, hub, dispatch) if shared_hub(hub) else None
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


def use_cpus(cpus: str) -> None:
    """Keep this process (and the threads it starts from now on) to ``cpus``."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return
    chosen: set[int] = set()
    for part in cpus.split(","):
        first, _, last = part.strip().partition("-")
        chosen.update(range(int(first), int(last or first) + 1))
    os.sched_setaffinity(0, chosen)


async def run_theming_service(
    settings: Settings, ready: asyncio.Event | None = None, parent: int | None = None
) -> None:
    """Theme comments until SIGTERM or SIGINT, or until the process ``parent`` is
    gone (``serve`` started us: never outlive it, even if it was killed)."""
    use_cpus(settings.theming_cpus)  # before the model starts its threads
    await asyncio.to_thread(upgrade, settings.db_url)
    db = Database(settings.db_url)
    hub = open_hub(settings.hub_url, settings.subscriber_queue, settings.db_url)
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
    watch = asyncio.create_task(_watch_parent(parent, stop)) if parent else None
    try:
        await _listen(db, hub, theming.worker, stop, ready)
    finally:
        if watch is not None:
            watch.cancel()
        await theming.stop()
        await meeting.stop()
        await hub.stop()
        await db.dispose()


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    # Polled: no event tells a process its parent died (short of prctl).
    while os.getppid() == parent:  # noqa: ASYNC110
        await asyncio.sleep(PARENT_EVERY)
    log.warning("the server that started this theming worker is gone: stopping")
    stop.set()


async def _events(db: Database) -> set[int]:
    async with db.session() as s:
        return {e for e in (await s.exec(select(Event.id))).all() if e is not None}


async def _listen(
    db: Database,
    hub: MemoryHub,
    worker: ThemingWorker,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
) -> None:
    """Theme every comment the web processes announce, until ``stop``; an event
    loaded meanwhile (``townhall load``, or ``serve --event`` racing this
    process's start) is heard within ``EVENTS_EVERY`` seconds and caught up."""
    waiter = asyncio.create_task(stop.wait())
    events = await _events(db)
    while not stop.is_set():
        topics = [f"comments:{e}" for e in sorted(events)] + ["hub"]
        async with hub.subscribe(*topics) as sub:
            log.info("theming worker listening for comments of %d event(s)", len(events))
            if ready is not None:
                ready.set()
            events = await _hear(db, sub, worker, events, waiter)
        if not stop.is_set():
            await _catch_up(db, worker)  # whatever the new event got before we listened
    waiter.cancel()


async def _hear(
    db: Database, sub: Any, worker: ThemingWorker, events: set[int], waiter: asyncio.Task[Any]
) -> set[int]:
    """Enqueue announced comments until stopped or until new events appear (returned)."""
    next_look = asyncio.get_running_loop().time() + EVENTS_EVERY
    while not waiter.done():
        getter = asyncio.create_task(sub.get())
        timeout = max(0.0, next_look - asyncio.get_running_loop().time())
        done, _ = await asyncio.wait(
            {getter, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if getter not in done:
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            if waiter.done():
                break
            next_look = asyncio.get_running_loop().time() + EVENTS_EVERY
            now = await _events(db)
            if now - events:
                return now
            continue
        msg = getter.result()
        if msg.get("type") == "comment":
            await worker.enqueue(0, int(msg["comment"]["id"]))
        elif msg is RESYNC or (msg.get("type") == "hub" and msg.get("healthy")):
            # Messages may have been missed: queue every comment not placed yet.
            await _catch_up(db, worker)
    return events


async def _catch_up(db: Database, worker: ThemingWorker) -> None:
    """Queue every comment the worker has not placed. Queued, not processed here:
    this loop must go on draining the hub, or its queue overflows again and each
    resync set off another full catch-up (issue 19)."""
    async with db.session() as s:
        ids = [i for i in (await s.exec(select(Comment.id).order_by(col(Comment.id)))).all() if i]
    queued = worker.catch_up(ids)
    if queued:
        log.info("catching up with %d comment(s)", queued)
