"""The live meeting: routes client writes to the write side, commits, acks,
and fans results out through the hub. Owned by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from sqlmodel import col, select

from server.core.errors import Forbidden
from server.live import demographics as demographic_writes
from server.live import writes
from server.live.evaluation_service import EvaluationService
from server.live.group_commit import GroupCommit
from server.live.hub import MemoryHub, RedisHub
from server.live.joins import Joins
from server.live.tallies import LiveTallies
from server.protocol.outcome import Outcome
from server.settings import Settings
from server.storage import evaluation_store, poll_store, result_store, theme_store
from server.storage.db import Database
from server.storage.models import (
    AccessToken,
    Comment,
    DemographicAnswer,
    DemographicQuestion,
    EventTable,
    EventText,
    Poll,
    Site,
    Vote,
)
from server.storage.shift_store import shift_view
from server.storage.tokens import Principal, authenticate

log = logging.getLogger("townhall.meeting")

# What each role's connection listens to (topic prefixes, completed with the event id).
ROLE_TOPICS: dict[str, tuple[str, ...]] = {
    "table": ("event",),
    "participant": ("event",),
    "display": ("event", "tally", "demographics", "published", "hub"),
    "team": ("event", "comments", "themes", "hub", "evaluation"),
    "producer": ("event", "tally", "demographics", "published", "comments", "hub", "evaluation"),
}

EVENT_VIEW_TTL = 1.0  # seconds a built event view is shared between hellos

CommentListener = Callable[[int, int], Awaitable[None]]  # (event_id, comment_id)
# A write that takes its own locks and commits itself (theme-team ops run in the
# theming worker), registered per (role, message type); returns its Outcome.
ExtraWrite = Callable[[Principal, Any], Awaitable[Outcome]]


class Meeting:
    def __init__(
        self, settings: Settings, db: Database, hub: MemoryHub, executor: Executor
    ) -> None:
        self.settings = settings
        self.db = db
        self.hub = hub
        self.executor = executor
        self._dirty_polls: set[tuple[int, int]] = set()
        self._dirty_demographics: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.comment_listeners: list[CommentListener] = []
        self.extra_writes: dict[tuple[str, str], ExtraWrite] = {}
        self._display_sites: dict[int, int | None] = {}
        self._tables: dict[int, tuple[EventTable | None, Site | None]] = {}
        self._event_views: dict[int, tuple[float, dict[str, Any]]] = {}
        self._snapshots = asyncio.Semaphore(6)
        self._texts: dict[int, dict[str, dict[str, str]]] = {}
        self._demographics: dict[int, list[dict[str, Any]]] = {}
        self._view_lock = asyncio.Lock()
        # Where several processes write, each broadcast re-reads the ballots.
        self.tallies = LiveTallies(exact=not isinstance(hub, RedisHub))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._broadcast_results())
        self.votes = GroupCommit(
            self.db, writes.apply_vote, writes.vote, prepare=writes.prefetch_votes
        )
        self.votes.start()
        self.extra_writes[("participant", "vote")] = self.votes.submit
        self.demographics = GroupCommit(
            self.db,
            demographic_writes.apply_demographics,
            demographic_writes.demographics,
            prepare=demographic_writes.prefetch_answers,
        )
        self.demographics.start()
        self.extra_writes[("participant", "demographics")] = self.demographics.submit
        self.joins = Joins(self.db)
        self.joins.start()
        self.comments = GroupCommit(
            self.db, writes.apply_comment, writes.comment, prepare=writes.prefetch_comments
        )
        self.comments.start()
        self.extra_writes[("table", "comment")] = self.comments.submit
        self.evaluation = EvaluationService(self.db, self.hub, self.settings)
        self.extra_writes[("participant", "evaluation")] = self.evaluation.answer
        self.extra_writes[("producer", "open_evaluation")] = self.evaluation.open
        self.extra_writes[("producer", "close_evaluation")] = self.evaluation.close

    async def stop(self) -> None:
        await self.votes.stop()
        await self.joins.stop()
        await self.demographics.stop()
        await self.comments.stop()
        await self.evaluation.stop()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def authenticate(self, token: str | None, *roles: str) -> Principal:
        async with self.db.session() as s:
            who = await authenticate(s, token, *roles)
            if who.role == "display":
                row = await s.get(AccessToken, who.token_id)
                self._display_sites[who.token_id] = row.site_id if row else None
            return who

    async def texts(self, event_id: int) -> dict[str, dict[str, str]]:
        """The event file's texts in its other languages: lang -> first-language text ->
        translation. Fixed once the event is loaded, so read once per process."""
        if event_id not in self._texts:
            async with self.db.session() as s:
                rows = (await s.exec(select(EventText).where(EventText.event_id == event_id))).all()
            out: dict[str, dict[str, str]] = {}
            for row in rows:
                out.setdefault(row.lang, {})[row.source] = row.text
            self._texts[event_id] = out
        return self._texts[event_id]

    def site_of(self, who: Principal) -> int | None:
        """The site a display token is limited to (None: the whole event)."""
        return self._display_sites.get(who.token_id)

    def topics(self, who: Principal) -> list[str]:
        topics = [f"{t}:{who.event_id}" if t != "hub" else "hub" for t in ROLE_TOPICS[who.role]]
        site = self.site_of(who)
        if site is not None:
            topics = [
                t if t != f"tally:{who.event_id}" else f"tally:{who.event_id}:site:{site}"
                for t in topics
            ]
        return topics

    async def handle(self, who: Principal, msg: Any) -> dict[str, Any]:
        """Apply one write; the returned ack is only built after the commit."""
        if msg.type == "ping":
            return {"type": "pong"}
        extra = self.extra_writes.get((who.role, msg.type))
        if extra is not None:
            outcome: Outcome = await extra(who, msg)
        else:
            fn = writes.handler_for(who, msg.type)
            async with self.db.writer() as s:
                outcome = await fn(s, who, msg)
        if outcome.ballot is not None:  # committed: the live tally counts it from now on
            self.tallies.record(*outcome.ballot)
        if any(topic.startswith("event:") for topic, _ in outcome.events):
            self._event_views.pop(who.event_id, None)
        for topic, message in outcome.events:
            await self.hub.publish(topic, await self._expand(who.event_id, message))
        if outcome.dirty_poll is not None:
            self._dirty_polls.add((who.event_id, outcome.dirty_poll))
            self._wake.set()
        if msg.type == "demographics":
            self._dirty_demographics.add(who.event_id)
            self._wake.set()
        if outcome.new_comment is not None:
            await self._announce_comment(who.event_id, outcome.new_comment, outcome.comment_row)
        return {"type": "ack", "id": msg.id, **outcome.ack}

    async def _expand(self, event_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """Turn a change notice into what clients show, once, before fan-out."""
        kind = message["type"]
        if kind not in ("question_changed", "poll_changed"):
            return message
        async with self.db.session() as s:
            if kind == "question_changed":
                question = await poll_store.current_question(s, event_id)
                return {"type": "question", "question": question}
            if kind == "poll_changed":
                poll = await s.get(Poll, message["poll_id"])
                assert poll is not None
                return {"type": "poll", "poll": await poll_store.poll_view(s, poll)}
        return message

    async def _announce_comment(
        self, event_id: int, comment_id: int, row: Comment | None = None
    ) -> None:
        async with self.db.session() as s:
            c = row or await s.get(Comment, comment_id)
            assert c is not None
            if c.table_id not in self._tables:
                # Tables and sites do not change during a meeting: read them once.
                table = await s.get(EventTable, c.table_id)
                site = await s.get(Site, table.site_id) if table else None
                self._tables[c.table_id] = (table, site)
            table, site = self._tables[c.table_id]
            view = theme_store.comment_view(c, table, site)
        await self.hub.publish(f"comments:{event_id}", {"type": "comment", "comment": view})
        for listener in self.comment_listeners:
            await listener(event_id, comment_id)

    async def _broadcast_results(self) -> None:
        # Coalesce: a burst of 5,000 votes becomes one tally per interval, not 5,000.
        breakdown_due: set[tuple[int, int]] = set()
        breakdown_at: dict[tuple[int, int], float] = {}
        every = self.settings.breakdown_interval
        small_cell = self.settings.small_cell
        spent = 0.0
        while True:
            # Wake on votes, or after a while to send breakdowns still owed.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=every)
            self._wake.clear()
            # Results are recomputed from the database; with thousands of ballots
            # that costs real time on the event loop, so the pause grows with it
            # (at most a third of the loop goes to results, the rest to acks).
            await asyncio.sleep(max(self.settings.tally_interval, 2 * spent))
            started = time.monotonic()
            polls, self._dirty_polls = self._dirty_polls, set()
            demos, self._dirty_demographics = self._dirty_demographics, set()
            breakdown_due |= polls
            try:
                async with self.db.session() as s:
                    for event_id, poll_id in polls:
                        sites = await self._sites(s, event_id)
                        views = await self.tallies.views(s, poll_id, sites)
                        for site_id, view in zip([None, *sites], views, strict=True):
                            topic = f"tally:{event_id}" + (f":site:{site_id}" if site_id else "")
                            await self.hub.publish(topic, {"type": "tally", **view})
                    now = time.monotonic()
                    for key in [k for k in breakdown_due if now >= breakdown_at.get(k, 0)]:
                        breakdown_due.discard(key)
                        t0 = time.monotonic()
                        extra = await result_store.breakdown_view(s, key[1], small_cell)
                        # The breakdown re-reads every ballot with its voter's answers:
                        # never more than a tenth of the loop goes to it.
                        breakdown_at[key] = now + max(every, 10 * (time.monotonic() - t0))
                        await self.hub.publish(f"tally:{key[0]}", extra)
                        shift = await shift_view(s, key[1], self.settings.small_cell)
                        if shift is not None:  # a poll asked twice: the paired change too
                            await self.hub.publish(f"tally:{key[0]}", shift)
                    for event_id in demos:
                        demo = await result_store.demographics_view(s, event_id, small_cell)
                        await self.hub.publish(
                            f"demographics:{event_id}", {"type": "demographics", "questions": demo}
                        )
            except Exception:
                log.exception("result broadcast failed; will retry on the next change")
            spent = time.monotonic() - started

    async def _sites(self, s: Any, event_id: int) -> list[int]:
        """Sites whose screens get their own tallies: none for a one-site event."""
        ids = [
            i for i in (await s.exec(select(Site.id).where(Site.event_id == event_id))).all() if i
        ]
        return ids if len(ids) > 1 else []

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

    async def snapshot(self, who: Principal) -> dict[str, Any]:
        """Everything a (re)connecting client needs, as one ``hello`` message."""
        # A reconnect storm builds hellos a few at a time, leaving database
        # connections for the writes that are waiting to be acked.
        async with self._snapshots, self.db.session() as s:
            ev = await self._event_view(s, who.event_id)
            base: dict[str, Any] = {"type": "hello", "role": who.role}
            if who.role == "table":
                return base | await self._table_state(s, who, ev)
            if who.role == "participant":
                return base | await self._participant_state(s, who, ev)
            return base | await self._screen_state(s, who, ev)

    async def _table_state(self, s: Any, who: Principal, ev: dict[str, Any]) -> dict[str, Any]:
        assert who.table_id is not None
        table = await s.get(EventTable, who.table_id)
        assert table is not None
        site = await s.get(Site, table.site_id)
        return {
            "table": {"id": table.id, "name": table.name, "site": site.name if site else ""},
            "event": {"title": ev["title"]},
            "question": ev["current_question"],
            "last_seq": table.last_seq,
            # The open allocation poll, for the table's consensus allocation.
            "poll": next(
                (p for p in ev["polls"] if p["status"] == "open" and p["kind"] == "allocation"),
                None,
            ),
        }

    async def _screen_state(self, s: Any, who: Principal, ev: dict[str, Any]) -> dict[str, Any]:
        """A big screen's, the team's or the producer's hello."""
        site_id = self.site_of(who)
        small_cell = self.settings.small_cell
        active = [p["id"] for p in ev["polls"] if p["status"] != "draft"]
        sites = [site_id] if site_id is not None else []
        tallies = [(await self.tallies.views(s, pid, sites))[-1] for pid in active]
        # Breakdowns and weights are for the whole event; a site's screen
        # shows its own counts only.
        breakdowns = (
            [await result_store.breakdown_view(s, pid, small_cell) for pid in active]
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
            "themes": await theme_store.themes_view(
                s, who.event_id, published_only=who.role == "display"
            ),
            "hub_healthy": self.hub.healthy,
            "shifts": [x for x in shifts if x is not None],
        }
        if who.role in ("team", "producer"):
            state["comments"] = await theme_store.comments_view(s, who.event_id)
            state["evaluation_summary"] = await evaluation_store.summary_view(
                s, who.event_id, small_cell
            )
        return state

    async def _participant_state(
        self, s: Any, who: Principal, ev: dict[str, Any]
    ) -> dict[str, Any]:
        open_poll = next((p for p in ev["polls"] if p["status"] == "open"), None)
        ballot = None
        if open_poll is not None:
            vote = (
                await s.exec(
                    select(Vote).where(
                        Vote.poll_id == open_poll["id"], Vote.participant_id == who.participant_id
                    )
                )
            ).first()
            if vote is not None:
                ballot = {"choice": json.loads(vote.choice), "seq": vote.seq}
                if vote.amounts is not None:  # an allocation ballot (server/core/budget.py)
                    ballot["amounts"] = json.loads(vote.amounts)
        answers = (
            await s.exec(
                select(DemographicQuestion.key, DemographicAnswer.option_key)
                .join(
                    DemographicQuestion,
                    col(DemographicQuestion.id) == DemographicAnswer.question_id,
                )
                .where(DemographicAnswer.participant_id == who.participant_id)
            )
        ).all()
        return {
            "event": {"title": ev["title"], "code": ev["code"]},
            "demographics": await self._demographic_questions(s, who.event_id),
            "answers": dict(answers),
            "poll": open_poll,
            "ballot": ballot,
            "evaluation": await evaluation_store.phone_view(s, who.event_id, who.participant_id),
        }

    def check_role(self, who: Principal, *roles: str) -> None:
        if who.role not in roles:
            raise Forbidden(f"the {who.role} role cannot do this")
