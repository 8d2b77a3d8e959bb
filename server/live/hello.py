"""The ``hello`` each kind of client gets on (re)connecting: everything it shows,
built from the database in one session."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlmodel import col, select

from server.live.group_read import GroupRead
from server.live.tallies import LiveTallies
from server.live.version import VersionClock
from server.settings import Settings
from server.storage import evaluation_store, poll_store, result_store, theme_store
from server.storage.db import Database
from server.storage.models import EventTable, Site, Vote
from server.storage.shift_store import shift_view
from server.storage.tokens import Principal

EVENT_VIEW_TTL = 1.0  # seconds a built event view is shared between hellos


class Hellos:
    def __init__(
        self, settings: Settings, db: Database, tallies: LiveTallies, clock: VersionClock
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.tallies = tallies
        self.hub_healthy = lambda: True  # set by the meeting: whether its hub is up
        self._event_views: dict[int, tuple[float, dict[str, Any]]] = {}
        self._building = asyncio.Semaphore(6)
        self._view_lock = asyncio.Lock()
        self._demographics: dict[int, list[dict[str, Any]]] = {}
        self._participants: GroupRead[Principal, dict[str, Any]] = GroupRead(
            self._participant_hellos
        )

    async def stop(self) -> None:
        await self._participants.stop()

    def forget(self, event_id: int) -> None:
        """The event's agenda or polls changed here: the next hello rebuilds them."""
        self._event_views.pop(event_id, None)

    async def _event_view(self, s: Any, event_id: int) -> dict[str, Any]:
        """The event's agenda and polls, shared by every hello for a moment: when
        5,000 phones reconnect at once each would otherwise rebuild it. Local
        changes drop it at once; another process's within EVENT_VIEW_TTL, and
        its pushes reach the clients anyway. Shared, not copied: a hello is only
        ever encoded and sent, never changed."""
        async with self._view_lock:  # hellos waiting for a rebuild share it
            cached = self._event_views.get(event_id)
            now = time.monotonic()
            if cached is not None and now - cached[0] < EVENT_VIEW_TTL:
                return cached[1]
            view = await poll_store.event_view(s, event_id)
            self._event_views[event_id] = (now, view)
            return view

    async def _demographic_questions(self, s: Any, event_id: int) -> list[dict[str, Any]]:
        """The demographic questions, fixed once the event is loaded: read once per
        process, not twice per phone's hello."""
        if event_id not in self._demographics:
            self._demographics[event_id] = await poll_store.demographic_questions(s, event_id)
        return self._demographics[event_id]

    async def build(self, who: Principal, site_id: int | None) -> dict[str, Any]:
        """Everything a (re)connecting client needs, as one ``hello`` message."""
        if who.role == "participant":
            return await self._participants.get(who)
        # A reconnect storm builds hellos a few at a time, leaving database
        # connections for the writes that are waiting to be acked.
        async with self._building:
            version = self.clock.next()  # before the transaction reads (see ResultPush)
            async with self.db.session() as s:
                ev = await self._event_view(s, who.event_id)
                base: dict[str, Any] = {"type": "hello", "role": who.role}
                if who.role == "table":
                    return base | await self._table_state(s, who, ev)
                return base | await self._screen_state(s, who, ev, site_id, version)

    async def _table_state(self, s: Any, who: Principal, ev: dict[str, Any]) -> dict[str, Any]:
        assert who.table_id is not None
        table = await s.get(EventTable, who.table_id)
        assert table is not None
        site = await s.get(Site, table.site_id)
        return {
            "table": {"id": table.id, "name": table.name, "site": site.name if site else ""},
            "event": {"title": ev["title"]},
            "question": ev["current_question"],
            "questions": [q for r in ev["rounds"] for q in r["questions"]],
            "last_seq": table.last_seq,
            # What the table has said, whichever device typed it (its latest, oldest first).
            "comments": await theme_store.table_comments(s, table.id),
            # The open allocation poll, for the table's consensus allocation.
            "poll": next(
                (p for p in ev["polls"] if p["status"] == "open" and p["kind"] == "allocation"),
                None,
            ),
        }

    async def _screen_state(
        self, s: Any, who: Principal, ev: dict[str, Any], site_id: int | None, version: int
    ) -> dict[str, Any]:
        """A big screen's (of the whole event, or of one site), the team's or the producer's."""
        small_cell = self.settings.small_cell
        active = [p["id"] for p in ev["polls"] if p["status"] != "draft"]
        sites = [site_id] if site_id is not None else []
        tallies = [
            (await self.tallies.views(s, pid, sites, small_cell, version))[-1] for pid in active
        ]
        # Breakdowns and weights are for the whole event; a site's screen
        # shows its own counts only.
        breakdowns = (
            [
                await result_store.breakdown_view(
                    s, pid, small_cell, version, await self.tallies.breakdown_ballots(s, pid)
                )
                for pid in active
            ]
            if site_id is None
            else []
        )
        site = await s.get(Site, site_id) if site_id is not None else None
        afters = [p["id"] for p in ev["polls"] if p.get("phase") == "after" and site_id is None]
        shifts = [await shift_view(s, pid, small_cell) for pid in afters]
        state = {
            "site": {"key": site.key, "name": site.name} if site else None,
            "event": ev,
            "breakdowns": breakdowns,
            "tallies": tallies,
            "demographics": await result_store.demographics_view(s, who.event_id, small_cell),
            "version": version,  # of everything in this hello (tallies carry it too)
            "themes": await theme_store.themes_view(
                s, who.event_id, published_only=who.role == "display"
            ),
            "hub_healthy": self.hub_healthy(),
            "shifts": [x for x in shifts if x is not None],
        }
        if who.role in ("team", "producer"):
            state["comments"] = await theme_store.comments_view(s, who.event_id)
            state["evaluation_summary"] = await evaluation_store.summary_view(
                s, who.event_id, small_cell
            )
        return state

    async def _participant_hellos(self, people: list[Principal]) -> dict[Principal, dict[str, Any]]:
        """The ``hello`` of every participant connecting meanwhile, read together:
        a few queries for a batch of phones instead of a session and three
        queries each (a hall of 5,000 reconnects within a minute)."""
        out: dict[Principal, dict[str, Any]] = {}
        async with self.db.session() as s:
            for event_id in dict.fromkeys(who.event_id for who in people):
                group = [who for who in people if who.event_id == event_id]
                ids = [who.participant_id for who in group if who.participant_id is not None]
                ev = await self._event_view(s, event_id)
                open_poll = next((p for p in ev["polls"] if p["status"] == "open"), None)
                ballots = await self._ballots(s, open_poll, ids)
                answers = await poll_store.answers_of(s, ids)
                demographics = await self._demographic_questions(s, event_id)
                evaluations = await evaluation_store.phone_views(s, event_id, ids)
                for who in group:
                    pid = who.participant_id
                    out[who] = {
                        "type": "hello",
                        "role": who.role,
                        "event": {"title": ev["title"], "code": ev["code"]},
                        "demographics": demographics,
                        "answers": answers.get(pid, {}) if pid is not None else {},
                        "poll": open_poll,
                        "ballot": ballots.get(pid) if pid is not None else None,
                        "evaluation": evaluations.get(pid) if pid is not None else None,
                    }
        return out

    @staticmethod
    async def _ballots(
        s: Any, poll: dict[str, Any] | None, participant_ids: list[int]
    ) -> dict[int, dict[str, Any]]:
        """These participants' ballots in the open poll, as their phones show them."""
        if poll is None or not participant_ids:
            return {}
        out: dict[int, dict[str, Any]] = {}
        votes = await s.exec(
            select(Vote).where(
                Vote.poll_id == poll["id"], col(Vote.participant_id).in_(participant_ids)
            )
        )
        for vote in votes.all():
            ballot = {"choice": json.loads(vote.choice), "seq": vote.seq}
            if vote.amounts is not None:  # an allocation ballot (server/core/budget.py)
                ballot["amounts"] = json.loads(vote.amounts)
            out[vote.participant_id] = ballot
        return out
