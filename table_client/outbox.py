"""Durable local outbox: every comment is on disk before it goes on the wire.

The facilitator's laptop is the only copy of a comment until the server acks
it, so the outbox is a SQLite file in WAL mode. What the facilitator typed is
committed with ``synchronous=FULL`` (a laptop whose battery dies must not lose
it); bookkeeping such as acks uses ``NORMAL``, which survives a killed process
but maybe not a power cut: a lost ack only costs a harmless resend, and an
fsync per ack would slow a 200-comment backlog to seconds on a slow disk.

One file per laptop; rows are keyed by a *table key* (hash of server URL +
token) so one file can serve several tables or events without mixing their
sequence numbers, and the raw token is never written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from table_client.records import (
    COLUMNS,
    ELSEWHERE,
    MAX_TEXT,
    WAITING,
    Comment,
    StarOp,
    State,
    comment_row,
    is_stored_comment,
    table_key,
    validate_text,
)

__all__ = ["MAX_TEXT", "Comment", "Outbox", "StarOp", "State", "table_key", "validate_text"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    table_key TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL,
    hello TEXT
);
CREATE TABLE IF NOT EXISTS comments (
    uuid TEXT PRIMARY KEY,
    table_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    question_id INTEGER,
    star INTEGER NOT NULL,          -- what the facilitator wants
    star_initial INTEGER NOT NULL,  -- what the comment message carries
    star_server INTEGER,            -- what the server is known to hold
    star_op TEXT,                   -- id of the star message that syncs them
    star_op_value INTEGER,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    comment_id INTEGER,
    error TEXT,
    source TEXT,                    -- e.g. replay row marker, for resumable replays
    UNIQUE (table_key, seq),
    UNIQUE (table_key, source)
);
CREATE INDEX IF NOT EXISTS comments_star_op ON comments (star_op);
"""


class Outbox:
    """The outbox of one table in one SQLite file. Not thread-safe: one event loop uses it."""

    def __init__(self, path: Path, key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so seq
        # assignment is atomic even if two clients share the file.
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.key = key
        self._db.execute("INSERT OR IGNORE INTO tables (table_key, next_seq) VALUES (?, 1)", (key,))

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _tx(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        # FULL fsyncs the WAL at this commit (and so everything before it).
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")

    # -- writing ---------------------------------------------------------

    def add(self, text: str, question_id: int | None = None, star: bool = False) -> Comment:
        """Save a comment (durably) and give it the table's next seq number."""
        return self.add_many([(text, question_id, star, None)])[0]

    def add_many(self, rows: Sequence[tuple[str, int | None, bool, str | None]]) -> list[Comment]:
        """Save (text, question_id, star, source) rows in one transaction.

        Rows whose ``source`` is already in this table's outbox are skipped, so
        a replay interrupted halfway can be run again without duplicates.
        """
        texts = [validate_text(r[0]) for r in rows]
        made: list[str] = []
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._tx(durable=True) as db:
            (seq,) = db.execute(
                "SELECT next_seq FROM tables WHERE table_key = ?", (self.key,)
            ).fetchone()
            for text, (_, qid, star, source) in zip(texts, rows, strict=True):
                if source is not None and self._has_source(source):
                    continue
                cid = str(uuid.uuid4())
                db.execute(
                    "INSERT INTO comments (uuid, table_key, seq, text, question_id, star,"
                    " star_initial, created_at, state, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cid, self.key, seq, text, qid, star, star, now, State.QUEUED, source),
                )
                made.append(cid)
                seq += 1
            db.execute("UPDATE tables SET next_seq = ? WHERE table_key = ?", (seq, self.key))
        return [c for c in (self.get(u) for u in made) if c is not None]

    def _has_source(self, source: str) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM comments WHERE table_key = ? AND source = ?", (self.key, source)
            ).fetchone()
            is not None
        )

    def on_hello(self, last_seq: int) -> bool:
        """Keep numbering ahead of the server; True if waiting comments were renumbered.

        The server refuses a new comment whose seq is not above its
        ``last_seq``. If it holds numbers we have not reached (the laptop's
        file was lost, a spare laptop or a browser used the same table) or a
        waiting comment is at or below it, every waiting comment moves after
        ``last_seq``, in typed order. Call it once the server has answered for
        the waiting comments at or below ``last_seq`` (``Sender`` resends them
        first): one it already holds, its ack lost, must be acked where it is,
        or its new number is never used and the table's numbers get a gap.
        """
        with self._tx(durable=True) as db:
            (next_seq,) = db.execute(
                "SELECT next_seq FROM tables WHERE table_key = ?", (self.key,)
            ).fetchone()
            waiting = [
                (r[0], r[1])
                for r in db.execute(
                    "SELECT uuid, seq FROM comments WHERE table_key = ? AND state IN (?, ?)"
                    " ORDER BY seq",
                    (self.key, *WAITING),
                )
            ]
            if last_seq < next_seq and (not waiting or waiting[0][1] > last_seq):
                return False
            (top,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM comments WHERE table_key = ?"
                " AND state NOT IN (?, ?)",
                (self.key, *WAITING),
            ).fetchone()
            start = max(last_seq, top) + 1
            # Negative first so UNIQUE(table_key, seq) never sees a clash mid-way.
            for i, (cid, _) in enumerate(waiting):
                db.execute("UPDATE comments SET seq = ? WHERE uuid = ?", (-1 - i, cid))
            for i, (cid, _) in enumerate(waiting):
                db.execute("UPDATE comments SET seq = ? WHERE uuid = ?", (start + i, cid))
            db.execute(
                "UPDATE tables SET next_seq = ? WHERE table_key = ?",
                (max(next_seq, start + len(waiting)), self.key),
            )
        return bool(waiting)

    def adopt(self, stored: Iterable[Any], pushed: bool = False) -> list[Comment]:
        """Take in the table's comments the server holds (a table ``hello``'s
        ``comments``, or one ``table_comment`` push: ``pushed``); the ones
        changed here, to show. Call it after ``on_hello``.

        One typed on another device is kept as sent (``elsewhere``); one of
        ours whose ack was lost is acked; a star changed elsewhere is taken
        unless the facilitator has a change of their own on its way. An entry
        that is not a comment, or whose number this file holds already for
        another comment, is left out (the waiting one is refused as a conflict and
        renumbered at the next hello, which brings this one again). A pushed one
        moves the numbering of what is typed next past it.
        """
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        entries = [s for s in stored if is_stored_comment(s)]
        with self._tx() as db:
            if pushed and entries:
                top = max(s["seq"] for s in entries)
                db.execute(
                    "UPDATE tables SET next_seq = ? WHERE table_key = ? AND next_seq <= ?",
                    (top + 1, self.key, top),
                )
            changed = [s["id"] for s in entries if self._adopt_one(db, s, now)]
        return [c for c in (self.get(u) for u in changed) if c is not None]

    def _adopt_one(self, db: sqlite3.Connection, s: dict[str, Any], now: str) -> bool:
        """One entry of ``adopt``; whether a row changed."""
        cid, star = s["id"], bool(s.get("star"))
        row = db.execute(
            "SELECT table_key, state, star, star_server FROM comments WHERE uuid = ?", (cid,)
        ).fetchone()
        if row is None:
            values = (cid, self.key, s["seq"], s["text"], s.get("question_id"), star, star, star)
            cur = db.execute(
                "INSERT OR IGNORE INTO comments (uuid, table_key, seq, text, question_id,"
                " star, star_initial, star_server, created_at, state, comment_id, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, now, State.ACKED, s.get("comment_id"), ELSEWHERE + cid),
            )
        elif row["table_key"] != self.key:
            return False
        elif row["state"] == State.SENT:
            cur = db.execute(
                "UPDATE comments SET state = ?, comment_id = ?, star_server = ? WHERE uuid = ?",
                (State.ACKED, s.get("comment_id"), star, cid),
            )
        elif row["state"] == State.ACKED and row["star"] == row["star_server"] != star:
            cur = db.execute(
                "UPDATE comments SET star = ?, star_server = ? WHERE uuid = ?", (star, star, cid)
            )
        else:
            return False
        return bool(cur.rowcount)

    def mark_sent(self, uuids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE comments SET state = ? WHERE uuid = ? AND state = ?",
                [(State.SENT, u, State.QUEUED) for u in uuids],
            )

    def mark_acked(self, cid: str, comment_id: int | None) -> Comment | None:
        """Record the server's ack; None if ``cid`` is not a waiting comment of ours."""
        cur = self._db.execute(
            "UPDATE comments SET state = ?, comment_id = ?, error = NULL,"
            " star_server = star_initial WHERE uuid = ? AND table_key = ? AND state IN (?, ?)",
            (State.ACKED, comment_id, cid, self.key, *WAITING),
        )
        return self.get(cid) if cur.rowcount else None

    def mark_refused(self, cid: str, message: str) -> Comment | None:
        cur = self._db.execute(
            "UPDATE comments SET state = ?, error = ? WHERE uuid = ? AND table_key = ?"
            " AND state IN (?, ?)",
            (State.REFUSED, message, cid, self.key, *WAITING),
        )
        return self.get(cid) if cur.rowcount else None

    def toggle_star(self, cid: str) -> Comment | None:
        # A comment not yet on the wire carries its star itself; afterwards a
        # separate star message syncs it (see pending_stars).
        with self._tx(durable=True) as db:
            db.execute(
                "UPDATE comments SET star = NOT star,"
                " star_initial = CASE WHEN state = ? THEN NOT star ELSE star_initial END"
                " WHERE uuid = ? AND table_key = ?",
                (State.QUEUED, cid, self.key),
            )
        return self.get(cid)

    def pending_stars(self) -> list[StarOp]:
        """Star messages needed to bring the server in line with what the facilitator wants."""
        rows = self._db.execute(
            "SELECT uuid, star, star_op, star_op_value FROM comments WHERE table_key = ?"
            " AND state = ? AND star != star_server ORDER BY seq",
            (self.key, State.ACKED),
        ).fetchall()
        ops = []
        for r in rows:
            op, value = r["star_op"], r["star_op_value"]
            if op is None or value != r["star"]:
                # The op id is stored so a resend after reconnect reuses it.
                op, value = str(uuid.uuid4()), r["star"]
                self._db.execute(
                    "UPDATE comments SET star_op = ?, star_op_value = ? WHERE uuid = ?",
                    (op, value, r["uuid"]),
                )
            ops.append(StarOp(op, r["uuid"], bool(value)))
        return ops

    def is_star_op(self, op: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM comments WHERE star_op = ? AND table_key = ?", (op, self.key)
        ).fetchone()
        return row is not None

    def star_acked(self, op: str) -> Comment | None:
        row = self._db.execute(
            "UPDATE comments SET star_server = star_op_value, star_op = NULL"
            " WHERE star_op = ? AND table_key = ? RETURNING uuid",
            (op, self.key),
        ).fetchone()
        return self.get(row[0]) if row else None

    def star_refused(self, op: str, message: str) -> Comment | None:
        # Show the facilitator what the server holds, and why.
        row = self._db.execute(
            "UPDATE comments SET star = star_server, star_op = NULL, error = ?"
            " WHERE star_op = ? AND table_key = ? RETURNING uuid",
            (f"star refused: {message}", op, self.key),
        ).fetchone()
        return self.get(row[0]) if row else None

    def save_hello(self, hello: dict[str, Any]) -> None:
        """Remember event/table/question so an offline start still shows them."""
        self._db.execute(
            "UPDATE tables SET hello = ? WHERE table_key = ?", (json.dumps(hello), self.key)
        )

    # -- reading ---------------------------------------------------------

    def last_hello(self) -> dict[str, Any] | None:
        (raw,) = self._db.execute(
            "SELECT hello FROM tables WHERE table_key = ?", (self.key,)
        ).fetchone()
        return json.loads(raw) if raw else None

    def get(self, cid: str) -> Comment | None:
        r = self._db.execute(
            f"SELECT {COLUMNS} FROM comments WHERE uuid = ? AND table_key = ?", (cid, self.key)
        ).fetchone()
        return comment_row(r) if r else None

    def all(self) -> list[Comment]:
        return [
            comment_row(r)
            for r in self._db.execute(
                f"SELECT {COLUMNS} FROM comments WHERE table_key = ? ORDER BY seq", (self.key,)
            )
        ]

    def by_source_prefix(self, prefix: str) -> list[Comment]:
        return [
            comment_row(r)
            for r in self._db.execute(
                f"SELECT {COLUMNS} FROM comments WHERE table_key = ? AND source LIKE ? || '%'"
                " ORDER BY seq",
                (self.key, prefix),
            )
        ]

    def waiting_after(self, seq: int, limit: int) -> list[Comment]:
        """Unacked comments with seq > ``seq``, in seq order: the next ones to send."""
        return [
            comment_row(r)
            for r in self._db.execute(
                f"SELECT {COLUMNS} FROM comments WHERE table_key = ? AND seq > ?"
                " AND state IN (?, ?) ORDER BY seq LIMIT ?",
                (self.key, seq, *WAITING, limit),
            )
        ]

    def waiting_count(self) -> int:
        """Comments without an ack, plus star changes the server has not confirmed."""
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM comments WHERE table_key = ? AND (state IN (?, ?)"
            " OR (state = ? AND star != star_server))",
            (self.key, *WAITING, State.ACKED),
        ).fetchone()
        return int(n)

    def next_seq(self) -> int:
        (n,) = self._db.execute(
            "SELECT next_seq FROM tables WHERE table_key = ?", (self.key,)
        ).fetchone()
        return int(n)
