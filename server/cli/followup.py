"""``townhall followup``: the producer's commands for follow-up contacts
(server/live/followup.py). Like every command, each imports what it runs inside
its own function, to keep the start-up time of the others short."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from server.cli.options import DbOpt, console

followup_app = typer.Typer(
    help="Follow-up contacts (emails left for a later survey): export, delete.",
    no_args_is_help=True,
)


def _db_url(db: str | None) -> str:
    # Deferred: start-up time (see the module docstring).
    from server.settings import Settings

    return db or Settings().db_url


@followup_app.command("export")
def export(
    event: Annotated[str, typer.Argument(help="Event slug (or numeric id).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (mode 600).")] = Path(
        "followup-contacts.csv"
    ),
    db: DbOpt = None,
) -> None:
    """Write one event's follow-up emails to a CSV (email, date left); nothing else."""
    # Deferred: start-up time (see the module docstring).
    from server.live import followup
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    async def go() -> int:
        database = Database(_db_url(db))
        try:
            return await followup.export_contacts(database, event, out)
        finally:
            await database.dispose()

    try:
        n = asyncio.run(go())
    except UnknownEvent as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"wrote {n} contacts to {out}")


@followup_app.command("delete")
def delete(
    email: Annotated[str, typer.Argument(help="The email address to forget.")],
    event: Annotated[
        str | None, typer.Option(help="Only in this event (slug or id); default: every event.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Delete an email address from the follow-up contacts (on the person's request)."""
    # Deferred: start-up time (see the module docstring).
    from server.core.errors import InvalidMessage
    from server.live import followup
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    async def go() -> int:
        database = Database(_db_url(db))
        try:
            return await followup.delete_email(database, email, event)
        finally:
            await database.dispose()

    try:
        n = asyncio.run(go())
    except (UnknownEvent, InvalidMessage) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"deleted {n} contact(s) for that address")
