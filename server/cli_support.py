"""Helpers behind the CLI: loading events and printing where to go."""

from __future__ import annotations

import socket
from pathlib import Path

import segno
from rich.console import Console
from sqlmodel import select

from server.db import Database, is_sqlite
from server.eventfile import load_event_file
from server.loader import IssuedTokens, load_event
from server.models import Event

DEMO_DB = Path("demo-data") / "demo.db"


class NoDatabase(Exception):
    """No meeting to read: the message says which option to give (one line)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases or in-memory SQLite)."""
    if not is_sqlite(url) or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1]) if ":///" in url else None


def database_to_read(given: str | None, default: str, from_env: bool) -> str:
    """The database ``report`` and ``export`` read: --db, else $TOWNHALL_DB_URL, else
    the one ``serve`` uses (./townhall.db), else the one ``serve --demo`` uses when
    only that exists. A SQLite file that is not there is an error naming --db (it
    is never created: reading must not leave an empty database behind)."""
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


def lan_address() -> str:
    """This machine's address on its local network (the one phones on the venue
    wifi reach), or 127.0.0.1 when it has none. Connecting a UDP socket sends
    nothing; it only asks the OS which interface would be used."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"
    return address if not address.startswith("0.") else "127.0.0.1"


async def ensure_event_loaded(db: Database, path: Path) -> IssuedTokens | None:
    """Load the event unless it is already there (restarts keep their tokens)."""
    spec = load_event_file(path)
    async with db.session() as s:
        if (await s.exec(select(Event).where(Event.slug == spec.slug))).first() is not None:
            return None
    return await load_event(db, spec)


def print_links(console: Console, base_url: str, tokens: IssuedTokens, *, qr: bool = True) -> None:
    """Every page's URL, once (the database keeps only token hashes). One URL per
    line, never wrapped, so it can be copied or clicked from any terminal."""
    rows = [("phones (participants)", f"{base_url}/join   (code {tokens.code})")]
    rows.append(("big screen", f"{base_url}/screen?token={tokens.display}"))
    if len(tokens.languages) > 1:  # docs/accessibility.md, "Languages"
        rows.append(
            (
                f"big screen, {'/'.join(tokens.languages)} in turn",
                f"{base_url}/screen?token={tokens.display}&alternate=20",
            )
        )
        for lang in tokens.languages[1:]:
            rows.append((f"phones in {lang!r}", f"{base_url}/join?lang={lang}"))
    for key, token in tokens.site_displays.items():
        rows.append((f"screen at {key}", f"{base_url}/screen?token={token}"))
    rows.append(("producer", f"{base_url}/producer?token={tokens.producer}"))
    rows.append(("theme team", f"{base_url}/team?token={tokens.team}"))
    for number, token in sorted(tokens.tables.items())[:3]:
        rows.append((f"table {number} (browser)", f"{base_url}/t/{token}"))
    console.print("[bold]townhall — where to go[/]")
    width = max(len(who) for who, _ in rows)
    for who, url in rows:
        console.print(f"  {who:<{width}}  [link={url}]{url}[/link]", soft_wrap=True)
    if len(tokens.tables) > 3:
        console.print(f"  … and {len(tokens.tables) - 3} more table links in the links file")
    if qr:
        console.print(f"Phones: scan to join {base_url}/j/{tokens.code}")
        segno.make(f"{base_url}/j/{tokens.code}", error="l").terminal(compact=True)


def write_links_file(path: Path, base_url: str, tokens: IssuedTokens) -> None:
    lines = [
        f"phones: {base_url}/join (code {tokens.code})",
        f"screen: {base_url}/screen?token={tokens.display}",
        *(
            [f"screen taking turns in {'/'.join(tokens.languages)}: "
             f"{base_url}/screen?token={tokens.display}&alternate=20"]
            if len(tokens.languages) > 1
            else []
        ),
        *(
            f"screen at {key} (its own figures; phones join at "
            f"{base_url}/j/{tokens.code}?site={key}): {base_url}/screen?token={tok}"
            for key, tok in tokens.site_displays.items()
        ),
        f"producer: {base_url}/producer?token={tokens.producer}",
        f"team: {base_url}/team?token={tokens.team}",
    ]
    lines += [
        f"table {n}: {base_url}/t/{tok}   "
        f"(terminal: townhall table --server {base_url} --token {tok})"
        for n, tok in sorted(tokens.tables.items())
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
