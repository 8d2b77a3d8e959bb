"""A published theme through the theming worker and its database: comments the
machine adds to it after publishing are placed afresh by the next re-cluster,
and what leaves is logged under the theme, not announced as a retired theme."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from server.live.hub import MemoryHub
from server.storage.db import Database
from server.storage.models import CurationLog, Theme
from server.themes.recluster import MACHINE
from server.themes.worker import ThemingWorker
from tests.support.example import IssuedTokens, stored_comments


async def test_a_published_theme_gives_back_what_joined_it_and_the_log_says_so(
    db_url: str, tokens: IssuedTokens
) -> None:
    db = Database(db_url)
    hub = MemoryHub()
    with ThreadPoolExecutor(1) as pool:
        worker = ThemingWorker(db, hub, pool, "hashing")
        try:
            texts = [f"parking downtown is too expensive {i}" for i in range(6)]
            texts += [f"more bike lanes on main street {i}" for i in range(6)]
            question_id, ids = await stored_comments(db, texts, 1)
            await worker.process(ids)
            engine = worker.engines[question_id]
            held = engine.where(str(ids[0]))
            core = set(engine.members(held))
            async with db.writer() as s:  # the team publishes it
                row = (await s.exec(select(Theme).where(Theme.key == held))).one()
                row.published = True
                s.add(row)
                await s.commit()
            night = [
                f"parking downtown for night shift nurses at the hospital {i}" for i in range(8)
            ]
            async with hub.subscribe(f"themes:{tokens.event_id}") as sub:
                _, new = await stored_comments(db, night, 100)
                worker.clocks[question_id].last_recluster = -1e9
                await worker.process(new)
                messages = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
            assert set(engine.members(held)) == core
            went = {engine.where(str(c)) for c in new}
            assert held not in went and len(went) == 1
            async with db.session() as s:
                logs = (await s.exec(select(CurationLog).where(CurationLog.actor == MACHINE))).all()
            released = [json.loads(r.after) for r in logs if r.theme_key == held]
            assert released and sum(r["released"] for r in released) == len(new)
            assert {r["into"] for r in released} == went
            # The held theme is still there: no screen or laptop is told it retired.
            retired = [r for m in messages for r in m.get("retired", [])]
            assert all(r["theme"] != held for r in retired)
        finally:
            await db.dispose()
