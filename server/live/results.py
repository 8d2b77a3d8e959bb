"""The results pushed to the screens, producer and team: tallies (the whole
event's and each site's), breakdowns, paired shifts and the room's demographics,
coalesced; tallies and breakdowns come from the ballots held in memory
(``tallies``), the rest is recomputed from the database, so a burst of 5,000
votes becomes one tally per interval, not 5,000."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlmodel import select

from server.live.hub import MemoryHub
from server.live.tallies import LiveTallies
from server.live.version import VersionClock
from server.settings import Settings
from server.storage import result_store
from server.storage.db import Database
from server.storage.models import Site
from server.storage.shift_store import shift_view

log = logging.getLogger("townhall.meeting")


class ResultPush:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        hub: MemoryHub,
        tallies: LiveTallies,
        clock: VersionClock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.hub = hub
        self.tallies = tallies
        self._dirty_polls: set[tuple[int, int]] = set()
        self._dirty_demographics: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def poll_changed(self, event_id: int, poll_id: int) -> None:
        self._dirty_polls.add((event_id, poll_id))
        self._wake.set()

    def demographics_changed(self, event_id: int) -> None:
        self._dirty_demographics.add(event_id)
        self._wake.set()

    async def _run(self) -> None:
        # Coalesce: a burst of 5,000 votes becomes one tally per interval, not 5,000.
        breakdown_due: set[tuple[int, int]] = set()
        breakdown_at: dict[tuple[int, int], float] = {}
        spent = 0.0
        while True:
            # Wake on votes, or after a while to send breakdowns still owed. Not
            # asyncio.wait_for: on Python 3.11 it returns when a vote's wake-up and
            # stop()'s cancellation arrive together, the cancellation lost, and
            # stop() then waits for ever (tests/live/test_stopping.py).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.breakdown_interval):
                    await self._wake.wait()
            self._wake.clear()
            # Results are recomputed from the database; with thousands of ballots
            # that costs real time on the event loop, so the pause grows with it
            # (at most a third of the loop goes to results, the rest to acks).
            await asyncio.sleep(max(self.settings.tally_interval, 2 * spent))
            started = time.monotonic()
            polls, self._dirty_polls = self._dirty_polls, set()
            demos, self._dirty_demographics = self._dirty_demographics, set()
            breakdown_due |= polls
            # One version for the round, taken before its transaction reads anything:
            # whatever was acked before it is in every result of the round.
            version = self.clock.next()
            try:
                async with self.db.session() as s:
                    await self._push_tallies(s, polls, version)
                    # Cheap, so before the breakdowns: a screen has them by the time it
                    # has the round's breakdown.
                    await self._push_demographics(s, demos, version)
                    # The breakdowns pace themselves (_push_breakdowns); counting them
                    # here held the next tally back by twice a breakdown's time.
                    spent = time.monotonic() - started
                    await self._push_breakdowns(s, breakdown_due, breakdown_at, version)
            except Exception:
                log.exception("result broadcast failed; will retry on the next change")
                spent = time.monotonic() - started

    async def _push_tallies(self, s: Any, polls: set[tuple[int, int]], version: int) -> None:
        for event_id, poll_id in polls:
            sites = await self._sites(s, event_id)
            views = await self.tallies.views(s, poll_id, sites, self.settings.small_cell, version)
            for site_id, view in zip([None, *sites], views, strict=True):
                topic = f"tally:{event_id}" + (f":site:{site_id}" if site_id else "")
                await self.hub.publish(topic, {"type": "tally", **view})

    async def _push_demographics(self, s: Any, events: set[int], version: int) -> None:
        for event_id in events:
            demo = await result_store.demographics_view(s, event_id, self.settings.small_cell)
            await self.hub.publish(
                f"demographics:{event_id}",
                {"type": "demographics", "questions": demo, "version": version},
            )

    async def _push_breakdowns(
        self, s: Any, due: set[tuple[int, int]], at: dict[tuple[int, int], float], version: int
    ) -> None:
        """The breakdowns (and paired shifts) owed, each at most every breakdown_interval:
        the breakdown re-reads every ballot with its voter's answers, so never more
        than a tenth of the loop goes to it."""
        every, small_cell = self.settings.breakdown_interval, self.settings.small_cell
        now = time.monotonic()
        for key in [k for k in due if now >= at.get(k, 0)]:
            due.discard(key)
            t0 = time.monotonic()
            ballots = await self.tallies.breakdown_ballots(s, key[1])
            extra = await result_store.breakdown_view(s, key[1], small_cell, version, ballots)
            at[key] = now + max(every, 10 * (time.monotonic() - t0))
            await self.hub.publish(f"tally:{key[0]}", extra)
            shift = await shift_view(s, key[1], small_cell)
            if shift is not None:  # a poll asked twice: the paired change too
                await self.hub.publish(f"tally:{key[0]}", shift)

    async def _sites(self, s: Any, event_id: int) -> list[int]:
        """Sites whose screens get their own tallies: none for a one-site event."""
        ids = [
            i for i in (await s.exec(select(Site.id).where(Site.event_id == event_id))).all() if i
        ]
        return ids if len(ids) > 1 else []
