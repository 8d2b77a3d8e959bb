"""The example event (server/examples/riverton-budget.toml) in a fresh database,
and the paths and ids every level of test uses."""

from __future__ import annotations

import asyncio
import atexit
import copy
import shutil
import sqlite3
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlmodel import select

from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens, load_event
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.storage.models import Comment, EventTable, Question

ROOT = Path(__file__).resolve().parents[2]
EVENT_FILE = ROOT / "server" / "examples" / "riverton-budget.toml"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Event file -> (a migrated SQLite database with it loaded, its tokens), built once.
_TEMPLATES: dict[Path, tuple[Path, IssuedTokens]] = {}


def new_id() -> str:
    return str(uuid.uuid4())


def load_example(db_url: str, path: Path = EVENT_FILE) -> IssuedTokens:
    """Migrate the database and load the event file into it; its fresh tokens.

    A SQLite database is a copy of one built once per test process: migrating and
    loading take seconds, copying the file none. Each copy is its own database;
    they share the tokens, which no test compares across databases.
    """
    target = _sqlite_file(db_url)
    if target is None:
        return _load(db_url, path)
    if path not in _TEMPLATES:
        _TEMPLATES[path] = _build_template(path)
    template, tokens = _TEMPLATES[path]
    shutil.copyfile(template, target)
    return copy.deepcopy(tokens)


def _load(db_url: str, path: Path) -> IssuedTokens:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called from an async test: asyncio.run (here and in upgrade) needs a thread
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(_load, db_url, path).result()
    upgrade(db_url)

    async def go() -> IssuedTokens:
        db = Database(db_url)
        try:
            return await load_event(db, load_event_file(path))
        finally:
            await db.dispose()

    return asyncio.run(go())


def _build_template(path: Path) -> tuple[Path, IssuedTokens]:
    folder = Path(tempfile.mkdtemp(prefix="townhall-example-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    file = folder / "townhall.db"
    tokens = _load(f"sqlite+aiosqlite:///{file}", path)
    with sqlite3.connect(file) as db:  # everything into the file itself: copies need no WAL
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return file, tokens


def _sqlite_file(db_url: str) -> Path | None:
    if not db_url.startswith("sqlite"):
        return None
    return Path(db_url.split(":///", 1)[1])


async def stored_comments(
    db: Database, texts: list[str], first_seq: int = 1
) -> tuple[int, list[int]]:
    """``texts`` stored as one table's comments on the example's first question,
    as the write path leaves them for the theming worker; that question's id and
    the comments' ids."""
    async with db.writer() as s:
        table = (await s.exec(select(EventTable))).first()
        question = (await s.exec(select(Question).order_by(Question.id))).first()
        assert table is not None and table.id is not None
        assert question is not None and question.id is not None
        rows = [
            Comment(
                event_id=table.event_id,
                table_id=table.id,
                question_id=question.id,
                client_id=new_id(),
                seq=first_seq + i,
                text=text,
            )
            for i, text in enumerate(texts)
        ]
        s.add_all(rows)
        await s.commit()
        return question.id, [r.id for r in rows if r.id is not None]
