"""The theming worker: feeds committed comments to one ThemeEngine per
question, in a worker thread, and publishes the themes to the theme team.

Embeddings are cached in the database (never embedded twice, even across
restarts) and engine state is stored per question, so a restart resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import delete
from sqlmodel import col, select

from server import views
from server.meeting import Meeting
from server.models import (
    Comment,
    EmbeddingCacheEntry,
    EventTable,
    Theme,
    ThemeMembership,
    ThemeState,
    utcnow,
)
from theming.cache import CachedEmbedder, InMemoryEmbeddingCache, text_key
from theming.embed import Embedder, HashingEmbedder, MiniLMEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment as ThemingComment

log = logging.getLogger("townhall.theming")

BATCH = 256
RETHEME_MIN_UNASSIGNED = 6
RETHEME_SHARE = 0.25
RETHEME_EVERY = 10.0  # seconds between automatic rethemes of one question


class RecordingCache(InMemoryEmbeddingCache):
    """In memory for the thread; remembers what is new so it can be saved to the database."""

    def __init__(self) -> None:
        super().__init__()
        self.new: dict[str, np.ndarray] = {}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        super().put_many(items)
        self.new.update(items)


def make_embedder(name: str) -> Embedder:
    if name == "hashing":
        return HashingEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
    raise ValueError(f"unknown embedder {name!r}: use minilm or hashing")


class ThemingWorker:
    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting
        self.name = meeting.settings.embedder
        self.cache = RecordingCache()
        self.embedder = CachedEmbedder(make_embedder(self.name), self.cache)
        self.engines: dict[int, ThemeEngine] = {}
        self.last_retheme: dict[int, float] = defaultdict(float)
        self.queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.processed = 0

    async def start(self) -> None:
        self.meeting.comment_listeners.append(self.enqueue)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def enqueue(self, event_id: int, comment_id: int) -> None:
        self.queue.put_nowait((event_id, comment_id))

    async def _run(self) -> None:
        await self._resume_unthemed()
        while True:
            batch = [await self.queue.get()]
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self.process([cid for _, cid in batch])
            except Exception:
                log.exception("theming failed for %d comments; they stay unthemed", len(batch))

    async def _resume_unthemed(self) -> None:
        """After a restart, comments committed but not yet themed are picked up."""
        async with self.meeting.db.session() as s:
            ids = (await s.exec(select(Comment.id).order_by(col(Comment.id)))).all()
        if ids:
            await self.process([i for i in ids if i is not None])

    async def process(self, comment_ids: list[int]) -> None:
        async with self.meeting.db.session() as s:
            rows = (
                await s.exec(
                    select(Comment, EventTable)
                    .join(EventTable, col(Comment.table_id) == EventTable.id)
                    .where(col(Comment.id).in_(comment_ids))
                )
            ).all()
        by_question: dict[int, list[tuple[Comment, EventTable]]] = defaultdict(list)
        for c, t in rows:
            if c.question_id is not None:
                by_question[c.question_id].append((c, t))
        for question_id, items in by_question.items():
            await self._theme_question(question_id, items)
            self.processed += len(items)

    async def _theme_question(
        self, question_id: int, items: list[tuple[Comment, EventTable]]
    ) -> None:
        event_id = items[0][0].event_id
        state_json = None
        if question_id not in self.engines:
            async with self.meeting.db.session() as s:
                st = await s.get(ThemeState, question_id)
                state_json = st.state if st else None
        texts = [c.text for c, _ in items]
        if state_json:
            texts += [r["text"] for r in json.loads(state_json)["comments"]]
        await self._warm_cache(texts)
        comments = [ThemingComment(str(c.id), c.text, t.name) for c, t in items]
        loop = asyncio.get_running_loop()
        snapshot, state = await loop.run_in_executor(
            self.meeting.executor, self._add_sync, question_id, comments, state_json
        )
        await self._save(event_id, question_id, snapshot, state)

    def _add_sync(
        self, question_id: int, comments: list[ThemingComment], state_json: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        engine = self.engines.get(question_id)
        if engine is None:
            engine = (
                ThemeEngine.from_dict(json.loads(state_json), self.embedder)
                if state_json
                else ThemeEngine(self.embedder)
            )
            self.engines[question_id] = engine
        engine.add(comments, self.embedder.encode([c.text for c in comments]))
        snap = engine.snapshot()
        unassigned = snap["counts"]["unassigned"]
        now = time.monotonic()
        if (
            unassigned >= RETHEME_MIN_UNASSIGNED
            and unassigned >= RETHEME_SHARE * snap["counts"]["comments"]
            and now - self.last_retheme[question_id] >= RETHEME_EVERY
        ):
            # Themes appear once there is enough unplaced material; curated
            # themes are kept by the engine, ids stay stable.
            engine.retheme()
            self.last_retheme[question_id] = now
            snap = engine.snapshot()
        return snap, engine.to_dict()

    def _db_key(self, key: str) -> str:
        return f"{self.name}:{key}"

    async def _warm_cache(self, texts: list[str]) -> None:
        keys = [
            k for k in dict.fromkeys(text_key(t) for t in texts) if not self.cache.get_many([k])
        ]
        if not keys:
            return
        async with self.meeting.db.session() as s:
            rows = (
                await s.exec(
                    select(EmbeddingCacheEntry).where(
                        col(EmbeddingCacheEntry.key).in_([self._db_key(k) for k in keys])
                    )
                )
            ).all()
        prefix = len(self.name) + 1
        InMemoryEmbeddingCache.put_many(
            self.cache, {r.key[prefix:]: np.frombuffer(r.vector, dtype=np.float32) for r in rows}
        )

    async def _save(
        self, event_id: int, question_id: int, snap: dict[str, Any], state: dict[str, Any]
    ) -> None:
        new, self.cache.new = self.cache.new, {}
        lock = self.meeting.write_lock or contextlib.nullcontext()
        async with lock, self.meeting.db.session() as s:
            for key, vector in new.items():
                await s.merge(
                    EmbeddingCacheEntry(
                        key=self._db_key(key), vector=np.asarray(vector, np.float32).tobytes()
                    )
                )
            st = await s.get(ThemeState, question_id)
            if st is None:
                st = ThemeState(question_id=question_id, state="")
            st.state, st.updated_at = json.dumps(state), utcnow()
            s.add(st)
            await self._sync_themes(s, event_id, question_id, snap)
            await s.commit()
        async with self.meeting.db.session() as s:
            themes = [
                t for t in await views.themes_view(s, event_id) if t["question_id"] == question_id
            ]
        await self.meeting.hub.publish(
            f"themes:{event_id}",
            {
                "type": "themes",
                "question_id": question_id,
                "themes": themes,
                "unassigned": [int(c) for c in snap["unassigned"]],
                "counts": snap["counts"],
            },
        )

    async def _sync_themes(
        self, s: Any, event_id: int, question_id: int, snap: dict[str, Any]
    ) -> None:
        existing = {
            t.key: t
            for t in (await s.exec(select(Theme).where(Theme.question_id == question_id))).all()
        }
        live = set()
        for th in snap["themes"]:
            live.add(th["id"])
            row = existing.get(th["id"]) or Theme(
                event_id=event_id, question_id=question_id, key=th["id"], label=""
            )
            row.label = th["label"]
            row.version = th["version"]
            row.quotes = json.dumps([int(q["comment_id"]) for q in th["quotes"]])
            row.updated_at = utcnow()
            s.add(row)
            await s.flush()
            assert row.id is not None
            await s.exec(delete(ThemeMembership).where(col(ThemeMembership.theme_id) == row.id))
            for cid in th["members"]:
                s.add(ThemeMembership(theme_id=row.id, comment_id=int(cid)))
        for key, row in existing.items():
            if key not in live:
                await s.exec(delete(ThemeMembership).where(col(ThemeMembership.theme_id) == row.id))
                if not row.published:
                    await s.delete(row)
