"""``townhall table``: the facilitator's client, terminal UI or CSV replay.

Wire it with ``main_app.command("table")(table)``; ``run_table`` is the same
thing without typer. Expected failures (bad URL, unreadable CSV, outbox file not writable, token
refused) end with one clear line and an exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from table_client import replay as replaying
from table_client.endpoint import BadServerURL, table_ws_base
from table_client.events import Link
from table_client.outbox import Outbox, table_key
from table_client.replay import ReplayError
from table_client.sender import Sender

EXIT_USAGE = 2
EXIT_TOKEN_REFUSED = 3
EXIT_INTERRUPTED = 130


def default_outbox_path() -> Path:
    """The per-user data dir: the outbox must outlive reboots, so not a temp dir."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "townhall" / "table-outbox.sqlite3"


def _log_to_file(outbox_path: Path) -> logging.Handler:
    # Stderr belongs to the terminal UI; the log sits next to the outbox.
    # Only token-free URLs are ever logged (see endpoint.table_ws_base).
    handler = logging.FileHandler(outbox_path.with_suffix(".log"), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("table_client")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def run_table(server: str, token: str, outbox: Path | None, replay: Path | None) -> int:
    """Run the table client; returns the process exit code."""
    err = Console(stderr=True)
    try:
        base = table_ws_base(server)
    except BadServerURL as exc:
        err.print(f"[red]bad --server:[/red] {exc}")
        return EXIT_USAGE
    if not token.strip():
        err.print("[red]--token is empty[/red]: use the table token from the organisers")
        return EXIT_USAGE
    source = None
    if replay is not None:
        try:
            source = replaying.load(replay)
        except ReplayError as exc:
            err.print(f"[red]cannot replay:[/red] {exc}")
            return EXIT_USAGE
    path = outbox or default_outbox_path()
    try:
        box = Outbox(path, table_key(base, token.strip()))
        handler = _log_to_file(path)
    except (OSError, sqlite3.Error) as exc:
        err.print(f"[red]cannot open the outbox file[/red] {path}: {exc}")
        return EXIT_USAGE
    sender = Sender(base, token.strip(), box)
    try:
        if source is not None:
            out = Console()
            try:
                return asyncio.run(replaying.replay(sender, source, out)).exit_code
            except KeyboardInterrupt:
                err.print(
                    f"interrupted: {box.waiting_count()} comments still waiting in {path}; "
                    "run the same command again to finish sending them."
                )
                return EXIT_INTERRUPTED
        from table_client.tui import TableApp  # textual: ~0.8 s of start-up a replay skips

        TableApp(sender).run()
        if sender.status.link is Link.REFUSED:
            err.print(f"[red]token refused[/red] by {base}; comments stay saved in {path}")
            return EXIT_TOKEN_REFUSED
        if waiting := box.waiting_count():
            err.print(f"{waiting} comments still waiting in {path}; they go out on next start.")
        return 0
    finally:
        box.close()
        logging.getLogger("table_client").removeHandler(handler)
        handler.close()


def table(
    server: Annotated[
        str,
        typer.Option(
            help="Server address from the organisers, e.g. http://10.0.0.5:8000 or "
            "wss://townhall.example.org (http(s) and ws(s) both work).",
        ),
    ],
    token: Annotated[
        str,
        typer.Option(
            help="This table's token (from the table's link or card).",
            envvar="TOWNHALL_TABLE_TOKEN",
        ),
    ],
    outbox: Annotated[
        Path | None,
        typer.Option(
            help="Local outbox file: comments are saved here before sending and kept "
            "until the server confirms them. Default: the user's data dir.",
            dir_okay=False,
        ),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="Send a CSV of comments (column 'text', optional 'question_id') instead of "
            "opening the terminal UI; exits when all are acked. Re-running the same file "
            "into the same outbox only sends what is missing.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Type the table's comments; they are saved on this laptop and delivered when online."""
    raise typer.Exit(run_table(server, token, outbox, replay))
