"""Which database a reading command (``report``, ``export``) opens: the one
``serve`` used, found the way ``serve`` finds it, and never created by reading."""

from __future__ import annotations

from pathlib import Path

from server.storage.db import is_sqlite

DEMO_DB = Path("demo-data") / "demo.db"


class NoDatabase(Exception):
    """No meeting to read: the message says which option to give (one line)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases or in-memory SQLite)."""
    if not is_sqlite(url) or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1]) if ":///" in url else None


def database_to_read(given: str | None, default: str, from_env: bool) -> str:
    """--db, else $TOWNHALL_DB_URL, else the one ``serve`` uses (./townhall.db), else
    the one ``serve --demo`` uses when only that exists. A SQLite file that is not
    there is an error naming --db: reading must not leave an empty database behind."""
    url = given or default
    path = sqlite_file(url)
    if given is None and not from_env and path is not None and not path.exists():
        if DEMO_DB.exists():
            return f"sqlite+aiosqlite:///{DEMO_DB}"
    if path is not None and not path.exists():
        raise NoDatabase(
            f"No database at {path}: pass --db with the URL the server was started with, "
            f"e.g. --db sqlite+aiosqlite:///{DEMO_DB} after serve --demo"
        )
    return url
