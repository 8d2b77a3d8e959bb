"""The theming worker: feeds committed comments to one ThemeEngine per
question, in a worker thread, and publishes the themes to the theme team.

Embeddings are cached in the database (never embedded twice, even across
restarts) and engine state is stored per question, so a restart resumes.
Arrivals and team ops (``curate``) on a question share a lock: one engine call at a time.
Each question is re-clustered as it grows (``theming.live``), from arrivals and
from a once-a-second tick; a theme such a re-cluster retires is logged as the
machine's step ("merged into …" or "back to unassigned"), so no theme the team
has seen disappears without a trace. Published themes are held as they are.

Arrivals come first: a batch is placed and published before any re-cluster or
relabel. A re-cluster the policy asks for follows at once (~25 ms at 500
comments); the themes it changed are relabelled only when no more comments
wait, as labels embed candidate phrases (in a burst of 500 comments they were
700 of the 1,200 texts embedded, and every comment behind a relabel waited
for it: issue 19). Once a question is quiet its labels are chosen afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from server.live.hub import MemoryHub
from server.storage.db import Database
from server.storage.models import (
    Comment,
    EventTable,
    Question,
    ThemeState,
)
from server.themes.batches import gather, steps
from server.themes.embeddings import RecordingCache, make_embedder
from server.themes.recluster import hold, live_step, machine_rows, relabel_themes
from server.themes.store import QuestionStore
from theming.cache import CachedEmbedder
from theming.embed import Precision
from theming.engine import ThemeEngine
from theming.live import LiveClock, LivePolicy
from theming.model import Comment as ThemingComment

log = logging.getLogger("townhall.theming")

TICK = 1.0  # seconds between checks for questions due a re-cluster without arrivals

# A curation op run on the engine in the worker thread; it returns the op's
# summary, and may return a whole replacement state under "state" (undo).
EngineOp = Callable[[ThemeEngine], dict[str, Any]]


@dataclass
class Curated:
    result: dict[str, Any]
    before: dict[str, Any]  # engine state before and after, for undo
    after: dict[str, Any]
    rows: list[Any]  # the rows written with the new state (log entries), ids set


class ThemingWorker:
    def __init__(
        self,
        db: Database,
        hub: MemoryHub,
        executor: Executor,
        embedder: str,
        threads: int | None = None,
        precision: Precision = "auto",
    ) -> None:
        self.db = db
        self.hub = hub
        self.executor = executor
        self.name = embedder
        self.cache = RecordingCache(self.name)
        self.embedder = CachedEmbedder(make_embedder(self.name, threads, precision), self.cache)
        self.store = QuestionStore(db, hub, self.cache)
        self.engines: dict[int, ThemeEngine] = {}
        self.policy = LivePolicy()
        self.clocks: dict[int, LiveClock] = defaultdict(LiveClock)
        self.question_event: dict[int, int] = {}
        self.question_text: dict[int, str] = {}
        self.locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Comment ids, lowest first: comments are placed in the order they were
        # committed even when some reach the queue late (picked up after a
        # restart or a missed message, beside live ones).
        self.queue: asyncio.PriorityQueue[int] = asyncio.PriorityQueue()
        self.held_back = 0  # comments of the batch in hand not placed yet
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.processed = 0
        # Comments placed by this worker: a catch-up after a gap in the hub's
        # messages (a resync) skips them instead of re-reading all of them.
        self.placed: set[int] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        for task in (self._task, self._ticker):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _tick(self) -> None:
        """Re-cluster questions that went quiet or are due on time (``theming.live``)."""
        while True:
            await asyncio.sleep(TICK)
            for question_id, clock in list(self.clocks.items()):
                engine = self.engines.get(question_id)
                if engine is None or question_id not in self.question_event:
                    continue  # no arrivals yet: nothing to re-cluster for
                if self.locks[question_id].locked():
                    continue  # busy: the arrival or op holding it checks the policy
                now, size = time.monotonic(), len(engine.comments)
                try:
                    if self._may_recluster(question_id) and clock.due(self.policy, size, now):
                        await self._recluster(question_id)
                    elif clock.quiet(self.policy, now) and clock.labels_settled != size:
                        await self._relabel(question_id, settled=True)
                except Exception:
                    log.exception("re-cluster or relabel of question %d failed", question_id)

    def _may_recluster(self, question_id: int) -> bool:
        """Not while arrivals wait, unless the question went ``interval`` without one."""
        since = time.monotonic() - self.clocks[question_id].last_recluster
        return self._idle() or since >= self.policy.interval

    def _idle(self) -> bool:
        """No comment waits: none queued, none held back in the batch in hand."""
        return self.queue.empty() and self.held_back == 0

    async def _recluster(self, question_id: int, relabel: bool = True) -> None:
        """Re-cluster and (unless ``relabel`` is false) relabel what changed."""
        event_id = self.question_event[question_id]
        async with self.locks[question_id]:
            held = await self.store.published(question_id)
            loop = asyncio.get_running_loop()
            snap, state, retired = await loop.run_in_executor(
                self.executor, self._recluster_sync, question_id, held, relabel
            )
            await self.store.save(
                event_id,
                question_id,
                snap,
                state,
                machine_rows(event_id, question_id, retired),
                retired,
            )

    def _recluster_sync(
        self, question_id: int, held: set[str], relabel: bool = True
    ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        engine = self.engines[question_id]
        clock = self.clocks[question_id]
        retired = live_step(engine, clock, self.policy, held, arrived=False, relabel=relabel)
        return engine.snapshot(), engine.to_dict(), retired

    async def enqueue(self, event_id: int, comment_id: int) -> None:
        """A committed comment to theme (its row names the event and question)."""
        self.queue.put_nowait(comment_id)

    def catch_up(self, comment_ids: Sequence[int]) -> int:
        """Queue the comments of ``comment_ids`` not placed yet (after messages
        may have been missed); returns how many. Never waits: it runs on the
        hub's reading loop, which must keep draining."""
        todo = [cid for cid in comment_ids if cid not in self.placed]
        for cid in todo:
            self.queue.put_nowait(cid)
        return len(todo)

    async def _run(self) -> None:
        await self._resume_unthemed()
        while True:
            batch = await self.next_batch()
            for step, held_back in steps(batch):
                self.held_back = held_back
                try:
                    await self.process(step)
                except Exception:
                    log.exception("theming failed for %d comments; they stay unthemed", len(step))
            self.held_back = 0

    async def next_batch(self) -> list[int]:
        """The comments gathered next (``server.themes.batches``), oldest first."""
        return sorted(await gather(self.queue))

    async def _resume_unthemed(self) -> None:
        """After a restart, comments committed but not yet themed are picked up."""
        async with self.db.session() as s:
            ids = (await s.exec(select(Comment.id).order_by(col(Comment.id)))).all()
        if ids:
            await self.process([i for i in ids if i is not None])

    async def process(self, comment_ids: list[int]) -> None:
        comment_ids = [c for c in dict.fromkeys(comment_ids) if c not in self.placed]
        if not comment_ids:
            return
        async with self.db.session() as s:
            rows = (
                await s.exec(
                    select(Comment, EventTable)
                    .join(EventTable, col(Comment.table_id) == EventTable.id)
                    .where(col(Comment.id).in_(comment_ids))
                    .order_by(col(Comment.id))  # placed oldest first
                )
            ).all()
        by_question: dict[int, list[tuple[Comment, EventTable]]] = defaultdict(list)
        for c, t in rows:
            if c.question_id is not None:
                by_question[c.question_id].append((c, t))
            elif c.id is not None:
                self.placed.add(c.id)  # no question: nothing to theme it under
        for question_id, items in by_question.items():
            await self._theme_question(question_id, items)
            self.processed += len(items)
            self.placed.update(c.id for c, _ in items if c.id is not None)

    async def _theme_question(
        self, question_id: int, items: list[tuple[Comment, EventTable]]
    ) -> None:
        event_id = items[0][0].event_id
        self.question_event[question_id] = event_id
        async with self.locks[question_id]:
            state_json = await self._stored_state(question_id)
            await self.store.warm([c.text for c, _ in items])
            held = await self.store.published(question_id)
            comments = [ThemingComment(str(c.id), c.text, t.name) for c, t in items]
            loop = asyncio.get_running_loop()
            added = await loop.run_in_executor(
                self.executor, self._add_sync, question_id, comments, state_json, held
            )
            if added is None:
                return  # all known already (a catch-up after a restart): nothing changed
            snapshot, state, retired = added
            rows = machine_rows(event_id, question_id, retired)
            await self.store.save(event_id, question_id, snapshot, state, rows, retired)
        clock, now = self.clocks[question_id], time.monotonic()
        first = clock.size_at_last == 0
        late = now - clock.last_recluster >= self.policy.interval
        size = len(self.engines[question_id].comments)
        # A re-cluster the policy asks for is made at once, whatever waits: the
        # clustering is ~25 ms at 500 comments, so each step's comments join
        # themes as a burst is placed (a burst gathered as two batches used to
        # leave the first one's last step unthemed until the second was embedded:
        # in a theme p95 3.4 s instead of 2.8 s). Labels (~1 s at 500: candidate
        # phrases to embed) wait until no comment does (never between a batch's
        # steps), except after a question's first or an overdue re-cluster;
        # themes are published before they are relabelled.
        # (Left to the tick alone, growth re-clusters at 5 comments/s rarely
        # happened: the arrivals' relabels held the question's lock at each tick,
        # and halfway through each stream AMI fell from 0.163 to 0.126.)
        between_steps = self.held_back > 0
        try:
            due = clock.due(self.policy, size, now)
            if due:
                await self._recluster(question_id, relabel=False)
            if not between_steps and (self._idle() or (due and (first or late))):
                await self._relabel(question_id)
        except Exception:  # the comments are placed; the tick tries again
            log.exception("re-cluster or relabel of question %d failed", question_id)

    async def _relabel(self, question_id: int, settled: bool = False) -> None:
        """Relabel the themes arrivals changed (``settled``: every machine-named
        one, the question having gone quiet), and publish if a label changed."""
        event_id = self.question_event[question_id]
        async with self.locks[question_id]:
            held = await self.store.published(question_id)
            loop = asyncio.get_running_loop()
            out = await loop.run_in_executor(
                self.executor, self._relabel_sync, question_id, held, settled
            )
            if out is not None:
                await self.store.save(event_id, question_id, *out)

    def _relabel_sync(
        self, question_id: int, held: set[str], settled: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        engine = self.engines[question_id]
        if not relabel_themes(engine, self.clocks[question_id], held, settled=settled):
            return None
        return engine.snapshot(), engine.to_dict()

    async def _stored_state(self, question_id: int) -> str | None:
        """The saved engine state if the engine is not in memory yet (cache warmed)."""
        if question_id in self.engines:
            return None
        async with self.db.session() as s:
            question = await s.get(Question, question_id)
            if question is not None:
                self.question_text[question_id] = question.text
            st = await s.get(ThemeState, question_id)
        if st is None:
            return None
        await self.store.warm([r["text"] for r in json.loads(st.state)["comments"]])
        return st.state

    def _engine(self, question_id: int, state_json: str | None) -> ThemeEngine:
        engine = self.engines.get(question_id)
        if engine is None:
            engine = (
                ThemeEngine.from_dict(json.loads(state_json), self.embedder)
                if state_json
                else ThemeEngine(self.embedder)
            )
            engine.question = self.question_text.get(question_id)
            self.engines[question_id] = engine
        return engine

    async def curate(
        self,
        event_id: int,
        question_id: int,
        op: EngineOp,
        log_rows: Callable[[dict[str, Any]], Sequence[Any]],
    ) -> Curated:
        """Run one team op on the question's engine in the worker thread, then
        commit the new state, the synced themes and ``log_rows(result)`` together."""
        async with self.locks[question_id]:
            state_json = await self._stored_state(question_id)
            held = await self.store.published(question_id)
            loop = asyncio.get_running_loop()
            result, snap, before, after = await loop.run_in_executor(
                self.executor, self._curate_sync, question_id, state_json, op, held
            )
            rows = list(log_rows(result))
            await self.store.save(event_id, question_id, snap, after, rows)
        return Curated(result, before, after, rows)

    def _curate_sync(
        self, question_id: int, state_json: str | None, op: EngineOp, held: set[str]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        engine = self._engine(question_id, state_json)
        before = engine.to_dict()
        try:
            result = op(engine)
            replacement = result.pop("state", None)
            if replacement is not None:
                engine = ThemeEngine.from_dict(replacement, self.embedder)
                self.engines[question_id] = engine
        except Exception:
            # Ops check before they change anything, but a half-applied op
            # must never survive: go back to the state before it.
            self.engines[question_id] = ThemeEngine.from_dict(before, self.embedder)
            raise
        if result.get("op") == "retheme":
            now = time.monotonic()
            self.clocks[question_id].reclustered(len(engine.comments), now, now)
        # A published theme keeps the label the screens show: a member's move
        # into it changed its label there, unseen, until this took ``held``.
        engine.refresh_labels(frozen=held)
        return result, engine.snapshot(), before, engine.to_dict()

    async def placement(self, event_id: int, question_id: int) -> dict[str, Any]:
        """The current ``themes`` message of a question (for a page that just connected)."""
        async with self.locks[question_id]:
            state_json = await self._stored_state(question_id)
            loop = asyncio.get_running_loop()
            snap = await loop.run_in_executor(
                self.executor,
                lambda: self._engine(question_id, state_json).snapshot(quotes=0, keywords=0),
            )
        return await self.store.themes_message(event_id, question_id, snap)

    def _add_sync(
        self,
        question_id: int,
        comments: list[ThemingComment],
        state_json: str | None,
        held: set[str],
    ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]] | None:
        engine = self._engine(question_id, state_json)
        comments = [c for c in comments if c.id not in engine.comments]
        if not comments:
            return None
        hold(engine, held)  # published since the last step: held before they join
        engine.add(comments, self.embedder.encode([c.text for c in comments]))
        # Placed and published first; the re-cluster, if due, follows (_theme_question).
        retired = live_step(
            engine,
            self.clocks[question_id],
            self.policy,
            held,
            arrived=True,
            recluster=False,
            relabel=False,  # after the placement is out: _relabel
        )
        return engine.snapshot(), engine.to_dict(), retired
