"""``townhall report`` and ``townhall export``: documents made from a meeting's
database. They read the database ``serve`` used and never create one (a missing or
empty database is one line naming --db). Like every command, each imports what it
runs inside its own function, to keep the start-up time of the others short."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from server.cli.options import DbOpt, console


def _database_to_read(db: str | None) -> str:
    """The database a reading command (report, export) uses; one red line and exit 2
    when there is none."""
    # Deferred: start-up time (see the module docstring).
    from server.cli.databases import NoDatabase, database_to_read
    from server.settings import Settings

    try:
        url = database_to_read(db, Settings().db_url, "TOWNHALL_DB_URL" in os.environ)
    except NoDatabase as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    if db is None and url != Settings().db_url:
        console.print(f"reading the demo's database ({url})", soft_wrap=True)
    return url


def _not_a_meeting(url: str, exc: Exception) -> typer.Exit:
    first = str(exc).splitlines()[0][:120]
    console.print(
        f"[red]{url} holds no townhall meeting ({first}): pass --db with the URL the server "
        "was started with[/]",
        soft_wrap=True,
    )
    return typer.Exit(2)


def report(
    event: Annotated[str, typer.Argument(help="Event slug (or numeric id).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")] = Path(
        "report.html"
    ),
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also print it to this PDF (needs Chromium).")
    ] = None,
    small_cell: Annotated[
        int, typer.Option(help="Suppress any group of fewer than this many people.")
    ] = 10,
    lang: Annotated[
        str | None, typer.Option(help="One of the event's languages (default: its first).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Write the same-day report (one printable HTML file) from the data as of now."""
    # Deferred: start-up time (see the module docstring).
    from sqlalchemy.exc import DBAPIError

    # Deferred too: start-up time.
    from server.report.build import ReportError, build_report, report_pdf
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    url = _database_to_read(db)

    async def go() -> None:
        database = Database(url)
        try:
            html = await build_report(database, event, small_cell=small_cell, lang=lang)
        finally:
            await database.dispose()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
        console.print(f"[green]report written[/] to {out}")
        if pdf is not None:
            await report_pdf(out, pdf)
            console.print(f"[green]PDF written[/] to {pdf}")

    try:
        asyncio.run(go())
    except (UnknownEvent, ReportError, ValueError) as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    except DBAPIError as exc:  # a database without townhall's tables
        raise _not_a_meeting(url, exc) from None


def export(
    event: Annotated[str, typer.Argument(help="Event slug (or numeric id).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv or json (event.json is always JSON).")
    ] = "csv",
    small_cell: Annotated[
        int, typer.Option(help="Blank a ballot's demographic if fewer share it than this.")
    ] = 10,
    db: DbOpt = None,
) -> None:
    """Export comments, themes, polls, anonymous ballots and the curation log (docs/exports.md)."""
    # Deferred: start-up time (see the module docstring).
    from sqlalchemy.exc import DBAPIError

    # Deferred too: start-up time.
    from server.report.export import export_event
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    if fmt not in ("csv", "json"):
        console.print(f"[red]--format must be csv or json, not {fmt!r}[/]")
        raise typer.Exit(2)
    url = _database_to_read(db)

    async def go() -> list[Path]:
        database = Database(url)
        try:
            return await export_event(database, event, out, fmt, small_cell=small_cell)
        finally:
            await database.dispose()

    try:
        paths = asyncio.run(go())
    except (UnknownEvent, ValueError) as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    except DBAPIError as exc:
        raise _not_a_meeting(url, exc) from None
    for path in paths:
        console.print(f"wrote {path}")
