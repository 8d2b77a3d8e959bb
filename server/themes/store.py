"""The theming worker's writes and pushes: a question's engine state, its themes
and their members (only the difference) in one commit, then its ``themes``
message on the hub; and the reads that go with them (published themes, stored
vectors)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from server.live.hub import MemoryHub
from server.storage import theme_store
from server.storage.db import Database
from server.storage.models import Theme, ThemeMembership, ThemeState, utcnow
from server.themes.embeddings import RecordingCache


class QuestionStore:
    def __init__(self, db: Database, hub: MemoryHub, cache: RecordingCache) -> None:
        self.db = db
        self.hub = hub
        self.cache = cache
        # question -> theme key -> keywords of the last full snapshot, so a page's
        # sync (which skips the c-TF-IDF, ~0.7 s at 5,000 comments) still shows them.
        self.keywords: dict[int, dict[str, list[str]]] = {}

    async def published(self, question_id: int) -> set[str]:
        async with self.db.session() as s:
            keys = await s.exec(
                select(Theme.key).where(
                    Theme.question_id == question_id,
                    Theme.published == True,  # noqa: E712
                )
            )
            return set(keys.all())

    async def warm(self, texts: list[str]) -> None:
        async with self.db.session() as s:
            await self.cache.warm(s, texts)

    async def save(
        self,
        event_id: int,
        question_id: int,
        snap: dict[str, Any],
        state: dict[str, Any],
        extra: Sequence[Any] = (),
        retired: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.keywords[question_id] = {t["id"]: t["keywords"] for t in snap["themes"]}
        async with self.db.writer() as s:
            await self.cache.save_new(s)
            st = await s.get(ThemeState, question_id)
            if st is None:
                st = ThemeState(question_id=question_id, state="")
            st.state, st.updated_at = json.dumps(state), utcnow()
            s.add(st)
            await self._sync_themes(s, event_id, question_id, snap)
            for row in extra:
                s.add(row)
            await s.commit()
        message = await self.themes_message(event_id, question_id, snap)
        # Themes gone; a held theme that only gave comments back is still listed.
        gone = [r for r in retired if "released" not in r]
        if gone:
            message["retired"] = gone
        await self.hub.publish(f"themes:{event_id}", message)

    async def themes_message(
        self, event_id: int, question_id: int, snap: dict[str, Any]
    ) -> dict[str, Any]:
        live = {(question_id, t["id"]) for t in snap["themes"]}  # retired rows stay if published
        async with self.db.session() as s:
            rows = await theme_store.themes_view(s, event_id, question_id=question_id)
        words = self.keywords.get(question_id, {})
        engine = {t["id"]: t for t in snap["themes"]}
        themes = [
            {
                **t,
                "keywords": words.get(t["key"], []),
                "suggested_label": engine[t["key"]].get("suggested_label"),
                "split_offer": _split_offer(engine[t["key"]].get("split_offer")),
            }
            for t in rows
            if (t["question_id"], t["key"]) in live
        ]
        return {
            "type": "themes",
            "question_id": question_id,
            "themes": themes,
            "unassigned": [int(c) for c in snap["unassigned"]],
            "discarded": [{"id": int(d["id"]), "reason": d["reason"]} for d in snap["discarded"]],
            "counts": snap["counts"],
        }

    async def _sync_themes(
        self, s: Any, event_id: int, question_id: int, snap: dict[str, Any]
    ) -> None:
        existing = {
            t.key: t
            for t in (await s.exec(select(Theme).where(Theme.question_id == question_id))).all()
        }
        live = set()
        held = await theme_store.memberships(s, [r.id for r in existing.values() if r.id])
        current: dict[int, set[int]] = defaultdict(set, {t: set(c) for t, c in held.items()})
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
            # Only the difference is written: a batch of new comments touches a
            # few rows, not every membership of the question.
            wanted = {int(cid) for cid in th["members"]}
            gone = current[row.id] - wanted
            if gone:
                await s.exec(
                    delete(ThemeMembership).where(
                        col(ThemeMembership.theme_id) == row.id,
                        col(ThemeMembership.comment_id).in_(gone),
                    )
                )
            for cid in wanted - current[row.id]:
                s.add(ThemeMembership(theme_id=row.id, comment_id=cid))
        for key, row in existing.items():
            if key not in live:
                await s.exec(delete(ThemeMembership).where(col(ThemeMembership.theme_id) == row.id))
                if not row.published:
                    await s.delete(row)


def _split_offer(offer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The engine's split offer with the comments' database ids."""
    if not offer:
        return None
    return {"comments": [int(c) for c in offer["comments"]], "example": offer["example"]}
