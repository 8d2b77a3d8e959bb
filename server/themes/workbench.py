"""The theme team's curation ops over the websocket (see docs/workbench.md).

Each op runs on the question's engine in the theming worker's thread,
serialised with arrivals; the new engine state, the synced themes and the
curation-log row (who, when, before/after) commit together, then the op is
acked and every team page gets the new ``themes`` message. A resend of the
same op id is found in the log and acked again without doing anything.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlmodel import col, select

from server.core import undo
from server.core.errors import InvalidMessage, NotFound
from server.protocol import messages as p
from server.protocol.outcome import Outcome
from server.storage import screen_state, theme_store
from server.storage.db import Database
from server.storage.models import CurationLog, Event, Question, Theme
from server.storage.tokens import Principal
from server.themes.conflicts import changed_after_step, changed_since_seen
from server.themes.polls import poll_from_themes
from server.themes.worker import ThemingWorker
from theming.engine import ThemeEngine
from theming.model import CurationError, UnknownComment, UnknownTheme, VersionConflict

UNDO_DEPTH = 50  # per member and question; older steps stay in the log, not undoable


def actor(who: Principal, name: str) -> str:
    """Who did it, for the log: the link's label plus the name typed on the page."""
    base = who.label or who.role
    name = " ".join(name.split())
    return f"{base} · {name}" if name else base


async def find_logged(db: Database, event_id: int, op_id: str) -> CurationLog | None:
    """The log row of an op already applied, so a resend is acked, not applied twice."""
    async with db.session() as s:
        return (
            await s.exec(
                select(CurationLog).where(
                    CurationLog.event_id == event_id,
                    col(CurationLog.after).contains(f'"op_id": "{op_id}"'),
                )
            )
        ).first()


def replayed_ack(row: CurationLog) -> dict[str, Any]:
    return {**json.loads(row.after).get("ack", {}), "log_id": row.id}


def _cid(comment_id: int) -> str:
    return str(comment_id)


def _on_each(msg: Any, act: Any) -> Any:
    """A move or discard of one comment, or of several as one step. The version
    the member saw is checked before the first; the later ones only see versions
    this very step bumped. A comment already carried along as a near-duplicate of
    an earlier one is not acted on twice."""

    def run(e: ThemeEngine) -> dict[str, Any]:
        done: list[dict[str, Any]] = []
        carried: set[str] = set()
        for cid in (_cid(c) for c in msg.ids):
            if cid not in carried:
                done.append(act(e, cid, None if done else msg.version))
                carried.update(done[-1]["comments"])
        return done[0] if len(done) == 1 else as_one_step(done)

    return run


def as_one_step(done: list[dict[str, Any]]) -> dict[str, Any]:
    """Several moves (or discards) told as one: where from and to, every
    comment, and each engine call's own before/after inside."""
    first = done[0]
    return {
        **first,
        "revision": done[-1]["revision"],
        "before": {"from": first["before"]["from"], "steps": [d["before"] for d in done]},
        "after": {
            **{k: v for k, v in first["after"].items() if k in ("to", "reason")},
            "steps": [d["after"] for d in done],
        },
        "comments": sorted({c for d in done for c in d["comments"]}),
    }


def engine_op(msg: Any) -> Any:
    """The engine call for one message, to run in the worker thread."""
    if isinstance(msg, p.RenameMsg):
        return lambda e: e.rename(msg.theme, msg.label, expected_version=msg.version)
    if isinstance(msg, p.MergeMsg):
        return lambda e: e.merge(
            msg.themes, msg.into, label=msg.label, expected_versions=msg.versions
        )
    if isinstance(msg, p.SplitMsg):
        ids = None if msg.comments is None else [_cid(c) for c in msg.comments]
        return lambda e: e.split(msg.theme, ids, label=msg.label, expected_version=msg.version)
    if isinstance(msg, p.MoveMsg):
        return _on_each(msg, lambda e, c, v: e.move(c, msg.to, expected_version=v))
    if isinstance(msg, p.DiscardMsg):
        return _on_each(msg, lambda e, c, v: e.discard(c, msg.reason, expected_version=v))
    if isinstance(msg, p.RestoreMsg):
        return lambda e: e.restore(_cid(msg.comment))
    if isinstance(msg, p.PinQuoteMsg):
        return lambda e: e.pin_quote(msg.theme, _cid(msg.comment), expected_version=msg.version)
    if isinstance(msg, p.RethemeMsg):
        return lambda e: e.retheme()
    raise InvalidMessage(f"{msg.type!r} is not a curation op")


def theme_key(msg: Any, result: dict[str, Any]) -> str | None:
    """The theme a log row is filed under (the trace view groups by it)."""
    if isinstance(msg, p.MergeMsg):
        return msg.into
    if isinstance(msg, p.RenameMsg | p.SplitMsg | p.PinQuoteMsg):
        return msg.theme
    if isinstance(msg, p.MoveMsg):
        return msg.to or result.get("before", {}).get("from")
    if isinstance(msg, p.DiscardMsg):
        return (result.get("before") or {}).get("from")
    return None


class Workbench:
    """The team's ops (and the producer's themes → poll) where this process themes."""

    def __init__(self, db: Database, worker: ThemingWorker) -> None:
        self.db = db
        self.worker = worker
        # (question id, actor) -> undo records, newest last. Kept in memory:
        # after a restart the log still shows every step, but undo starts afresh.
        self.undo: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)

    async def poll_from_themes(self, who: Principal, msg: p.PollFromThemesMsg) -> Outcome:
        return await poll_from_themes(self.db, who, msg)

    async def handle(self, who: Principal, msg: Any) -> Outcome:
        await self._check_question(who, msg.question_id)
        if isinstance(msg, p.SyncMsg):
            return Outcome(
                ack={"themes": await self.worker.placement(who.event_id, msg.question_id)}
            )
        done = await find_logged(self.db, who.event_id, msg.id)
        if done is not None:
            return Outcome(ack=replayed_ack(done))
        by = actor(who, msg.name)
        if isinstance(msg, p.PublishMsg):
            return await self._publish(who, msg, by)
        try:
            if isinstance(msg, p.UndoMsg):
                return await self._undo(who, msg, by)
            return await self._apply(who, msg, by)
        except VersionConflict as exc:
            async with self.db.session() as s:
                told = await changed_since_seen(
                    s, who.event_id, msg.question_id, exc.theme_id, exc.actual
                )
            raise told from exc
        except undo.UndoConflict as exc:
            step = self.undo[(msg.question_id, by)][-1]
            async with self.db.session() as s:
                told = await changed_after_step(
                    s, who.event_id, msg.question_id, exc.theme_id, step["log_id"]
                )
            raise told from exc
        except (UnknownTheme, UnknownComment) as exc:
            raise NotFound(f"{exc}; it may have been merged or re-themed — reloaded") from exc
        except CurationError as exc:
            raise InvalidMessage(str(exc)) from exc

    async def _publish(self, who: Principal, msg: p.PublishMsg, by: str) -> Outcome:
        """Mark exactly ``msg.themes`` (key -> version seen) as the question's
        published set; a theme changed since it was seen is refused. What was
        published is stored in the curation log (labels, members and quotes as
        shown), so the record says what the room saw even after further curation."""
        worker = self.worker
        # The question lock keeps a theme sync from changing versions mid-check.
        async with worker.locks[msg.question_id], self.db.writer() as s:
            rows = (await s.exec(select(Theme).where(Theme.question_id == msg.question_id))).all()
            by_key = {t.key: t for t in rows}
            for key, version in msg.themes.items():
                row = by_key.get(key)
                if row is None:
                    raise NotFound(f"theme {key} no longer exists; the themes have been reloaded")
                if row.version != version:
                    raise await changed_since_seen(
                        s, who.event_id, msg.question_id, key, row.version
                    )
            for row in rows:
                row.published = row.key in msg.themes
                s.add(row)
            ev = await s.get(Event, who.event_id)
            assert ev is not None
            # Screens that follow the room put up the themes wall for this question.
            followed = (
                screen_state.follow(ev, "themes", question_id=msg.question_id) if msg.themes else []
            )
            s.add(ev)
            await s.flush()
            shown = [
                {k: t[k] for k in ("key", "label", "size", "members", "quotes", "version")}
                for t in await theme_store.themes_view(s, who.event_id, published_only=True)
                if t["question_id"] == msg.question_id
            ]
            ack = {"published": len(shown)}
            log = CurationLog(
                event_id=who.event_id,
                question_id=msg.question_id,
                actor=by,
                action="publish",
                before="{}",
                after=json.dumps({"op_id": msg.id, "ack": ack, "themes": shown}),
            )
            s.add(log)
            await s.commit()
            everything = await theme_store.themes_view(s, who.event_id, published_only=True)
        team_view = await worker.placement(who.event_id, msg.question_id)
        return Outcome(
            ack={**ack, "log_id": log.id},
            events=[
                # Displays get every published theme, the same list a reconnecting screen gets.
                (f"published:{who.event_id}", {"type": "published", "themes": everything}),
                (f"themes:{who.event_id}", team_view),
                *followed,
            ],
        )

    async def _check_question(self, who: Principal, question_id: int) -> None:
        async with self.db.session() as s:
            q = await s.get(Question, question_id)
        if q is None or q.event_id != who.event_id:
            raise NotFound(f"question {question_id} is not part of this event")

    def _row(
        self,
        who: Principal,
        msg: Any,
        by: str,
        action: str,
        key: str | None,
        before: Any,
        after: Any,
    ) -> CurationLog:
        return CurationLog(
            event_id=who.event_id,
            question_id=msg.question_id,
            actor=by,
            action=action,
            theme_key=key,
            before=json.dumps(before),
            after=json.dumps(after),
        )

    async def _apply(self, who: Principal, msg: Any, by: str) -> Outcome:
        op = engine_op(msg)
        ack: dict[str, Any] = {}

        def rows(result: dict[str, Any]) -> list[CurationLog]:
            details = {k: v for k, v in result.items() if k not in ("before", "after")}
            if "new_theme" in result:
                ack["new_theme"] = result["new_theme"]
            if isinstance(msg, p.MoveMsg | p.DiscardMsg):
                # Near-duplicates go with the comments named: the page says how many moved.
                ack["comments"] = sorted(int(c) for c in result["comments"])
            key = theme_key(msg, result)
            ack["theme"] = key
            after = {"op_id": msg.id, "ack": dict(ack), "after": result.get("after"), **details}
            return [self._row(who, msg, by, msg.type, key, result.get("before"), after)]

        done = await self.worker.curate(who.event_id, msg.question_id, op, rows)
        stack = self.undo[(msg.question_id, by)]
        stack.append(
            {
                "log_id": done.rows[0].id,
                "action": msg.type,
                "theme_key": done.rows[0].theme_key,
                "diff": undo.record(done.before, done.after),
            }
        )
        del stack[:-UNDO_DEPTH]
        return Outcome(ack={**ack, "log_id": done.rows[0].id})

    async def _undo(self, who: Principal, msg: p.UndoMsg, by: str) -> Outcome:
        stack = self.undo[(msg.question_id, by)]
        if not stack:
            raise InvalidMessage("nothing of yours to undo on this question")
        step = stack[-1]

        def op(engine: ThemeEngine) -> dict[str, Any]:
            restored = undo.apply(engine.to_dict(), step["diff"])
            return {"op": "undo", "state": restored}

        def rows(result: dict[str, Any]) -> list[CurationLog]:
            before = {"undoes": step["log_id"], "action": step["action"]}
            after = {
                "op_id": msg.id,
                "ack": {"undone": step["log_id"], "theme": step["theme_key"]},
                "themes": undo.touched(step["diff"]),
            }
            return [self._row(who, msg, by, "undo", step["theme_key"], before, after)]

        done = await self.worker.curate(who.event_id, msg.question_id, op, rows)
        stack.pop()
        return Outcome(
            ack={"undone": step["log_id"], "theme": step["theme_key"], "log_id": done.rows[0].id}
        )
