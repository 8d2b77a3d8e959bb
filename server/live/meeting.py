"""The live meeting: each client write goes to its handler (``routes``), is
committed, then acked, and what changed is pushed through the hub. Owned by the
app's lifespan, which builds the services that handle the writes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlmodel import select

from server.core.errors import Forbidden
from server.live import demographics as demographic_writes
from server.live import votes, writes
from server.live.evaluation_service import EvaluationService
from server.live.group_commit import GroupCommit
from server.live.group_read import GroupRead
from server.live.hello import Hellos
from server.live.hub import MemoryHub, RedisHub, Subscription
from server.live.joins import Joins
from server.live.poll_timers import PollTimers
from server.live.results import ResultPush
from server.live.routes import Handler, Services, TeamOps, routing_table
from server.live.tallies import LiveTallies
from server.live.token_admin import TokenAdmin
from server.live.version import VersionClock
from server.protocol.outcome import Outcome, table_topic
from server.settings import Settings
from server.storage import poll_store, theme_store
from server.storage.db import Database
from server.storage.models import AccessToken, Comment, EventTable, EventText, Poll, Site
from server.storage.tokens import Principal, principal_of, token_hash, tokens_by_hash

# What each role's connection listens to (topic prefixes, completed with the event id).
ROLE_TOPICS: dict[str, tuple[str, ...]] = {
    "table": ("event",),
    "participant": ("event",),
    "display": ("event", "tally", "demographics", "published", "hub"),
    "team": ("event", "comments", "themes", "hub", "evaluation"),
    "producer": ("event", "tally", "demographics", "published", "comments", "hub", "evaluation"),
}

CommentListener = Callable[[int, int], Awaitable[None]]  # (event_id, comment_id)
Reply = tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]  # reply, then to publish


class Meeting:
    def __init__(self, settings: Settings, db: Database, hub: MemoryHub) -> None:
        self.settings = settings
        self.db = db
        self.hub = hub
        self.clock = VersionClock()  # versions of pushed state and vote acks
        # Where several processes write, each broadcast re-reads the ballots.
        self.tallies = LiveTallies(exact=not isinstance(hub, RedisHub))
        self.results = ResultPush(settings, db, hub, self.tallies, self.clock)
        self.hellos = Hellos(settings, db, self.tallies, self.clock)
        self.joins = Joins(db)  # the join desk (``pages.api_join``)
        self.hellos.hub_healthy = lambda: self.hub.healthy
        self.comment_listeners: list[CommentListener] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._display_sites: dict[int, int | None] = {}
        self._tables: dict[int, tuple[EventTable | None, Site | None]] = {}
        self._texts: dict[int, dict[str, dict[str, str]]] = {}
        self._tokens: GroupRead[str, AccessToken | None] = GroupRead(self._read_tokens)
        self.poll_timers = PollTimers(db, self.close_poll_if_due)

    async def start(self, team: TeamOps | None = None) -> None:
        """Start the services that handle writes; ``team`` takes the theme team's ops
        (none: this process refuses them)."""
        self.votes = GroupCommit(
            self.db,
            votes.apply_vote,
            votes.vote,
            prepare=votes.prefetch_votes,
            finish=votes.insert_new_votes,
        )
        self.comments = GroupCommit(
            self.db,
            writes.apply_comment,
            writes.comment,
            prepare=writes.prefetch_comments,
            finish=writes.insert_new_comments,
        )
        self.demographics = GroupCommit(
            self.db,
            demographic_writes.apply_demographics,
            demographic_writes.demographics,
            prepare=demographic_writes.prefetch_answers,
        )
        self.evaluation = EvaluationService(self.db, self.hub, self.settings)
        services = Services(
            self.db,
            self.votes,
            self.comments,
            self.demographics,
            self.evaluation,
            TokenAdmin(self.db),
            team,
        )
        self._routes = routing_table(services)
        self.results.start()
        self.votes.start()
        self.comments.start()
        self.demographics.start()
        self.joins.start()
        await self.poll_timers.start()

    async def stop(self) -> None:
        await self.poll_timers.stop()
        await self.votes.stop()
        await self.comments.stop()
        await self.demographics.stop()
        await self.joins.stop()
        await self.evaluation.stop()
        await self.results.stop()
        await self._tokens.stop()
        await self.hellos.stop()

    async def authenticate(self, token: str | None, *roles: str) -> Principal:
        """Who holds ``token``, if it is live and of one of ``roles``. Looked up with
        the other tokens arriving meanwhile (a hall's phones connect by thousands)."""
        if not token:
            raise Forbidden("a token is required")
        row = await self._tokens.get(token_hash(token))
        who = principal_of(row, roles)
        if row is not None and who.role == "display":
            self._display_sites[who.token_id] = row.site_id
        return who

    async def _read_tokens(self, hashes: list[str]) -> dict[str, AccessToken | None]:
        async with self.db.session() as s:
            return await tokens_by_hash(s, hashes)

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
        if who.role == "table" and who.table_id is not None:
            topics.append(table_topic(who.event_id, who.table_id))
        site = self.site_of(who)
        if site is not None:
            topics = [
                t if t != f"tally:{who.event_id}" else f"tally:{who.event_id}:site:{site}"
                for t in topics
            ]
        return topics

    @contextlib.asynccontextmanager
    async def subscribe(self, who: Principal) -> AsyncIterator[Subscription]:
        """What this client's connection is pushed (``ROLE_TOPICS``)."""
        async with self.hub.subscribe(*self.topics(who)) as sub:
            yield sub

    async def snapshot(self, who: Principal) -> dict[str, Any]:
        """Everything a (re)connecting client needs, as one ``hello`` message."""
        return await self.hellos.build(who, self.site_of(who))

    def last_write(self) -> float:
        """When the latest vote, comment or demographic answer was handed over."""
        return max(c.last_submit for c in (self.votes, self.comments, self.demographics))

    async def handle(self, who: Principal, msg: Any) -> Reply:
        """Apply one message; the reply (an ack) is only built after the commit. Returns
        it with what to publish once it is sent (``Outcome.after_reply``)."""
        if msg.type == "ping":
            return {"type": "pong"}, []
        route = self._routes.get((who.role, msg.type))
        if route is None:
            raise Forbidden(f"the {who.role} role cannot send {msg.type!r}")
        outcome = await route(who, msg)
        if outcome.ballot is not None:  # committed: the live tally counts it from now on
            self.tallies.record(*outcome.ballot)
        await self._publish(who, outcome)
        if outcome.timer is not None:
            self.poll_timers.schedule(who.event_id, *outcome.timer)
        if msg.type == "demographics":
            self.tallies.demographics_changed(who.participant_id)
            self.results.demographics_changed(who.event_id)
        if outcome.new_comment is not None:
            await self._announce_comment(who.event_id, outcome.new_comment, outcome.comment_row)
        ack = {"type": "ack", "id": msg.id, **outcome.ack}
        if msg.type == "vote":
            # Taken after the commit: a tally with a higher version counts this ballot.
            ack["version"] = self.clock.next()
        return ack, outcome.after_reply

    async def close_poll_if_due(self, event_id: int, poll_id: int) -> bool:
        """Close a poll whose timer ran out (``PollTimers``); False when it was closed
        or given more time meanwhile. Nobody's console did it, so no "by"."""
        who = Principal(role="timer", event_id=event_id, token_id=0)
        async with self.db.writer() as s:
            outcome = await writes.close_poll_if_due(s, who, poll_id)
        if outcome is None:
            return False
        await self._publish(who, outcome)
        return True

    async def _publish(self, who: Principal, outcome: Outcome) -> None:
        """Push what a committed write changed, through the hub."""
        if any(topic.startswith("event:") for topic, _ in outcome.events):
            self.hellos.forget(who.event_id)
        for topic, message in outcome.events:
            shown = await self._expand(who.event_id, message)
            if who.role == "producer" and topic.startswith("event:"):
                # Which console did it: consoles say so, and the demo's autopilot
                # steps aside when someone else acts.
                shown = {**shown, "by": who.label or who.role}
            await self.hub.publish(topic, shown)
        if outcome.dirty_poll is not None:
            self.results.poll_changed(who.event_id, outcome.dirty_poll)

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
        c = row
        if c is None or c.table_id not in self._tables:
            # A session only when something must be read: a burst of 500 comments
            # opened and rolled back 500 of them for rows already in hand.
            async with self.db.session() as s:
                c = c or await s.get(Comment, comment_id)
                assert c is not None
                if c.table_id not in self._tables:
                    # Tables and sites do not change during a meeting: read them once.
                    table = await s.get(EventTable, c.table_id)
                    site = await s.get(Site, table.site_id) if table else None
                    self._tables[c.table_id] = (table, site)
        table, site = self._tables[c.table_id]
        view = theme_store.comment_view(c, table, site)
        await self.hub.publish(f"comments:{event_id}", {"type": "comment", "comment": view})
        # The table's other laptops (and the sender: its ack may be the one lost).
        await self.hub.publish(*writes.table_comment_push(c))
        for listener in self.comment_listeners:
            await listener(event_id, comment_id)
