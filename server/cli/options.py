"""What several ``townhall`` commands share: the error console and options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True, emoji=False)  # "file.toml:100:" is a line number, not :100:

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $TOWNHALL_DB_URL or ./townhall.db)."),
]
PublicUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="The address phones use, printed and in the QR codes (e.g. http://10.0.0.5:8000). "
        "--demo uses this machine's LAN address by default."
    ),
]
AccessLogOpt = Annotated[
    Path | None,
    typer.Option(
        help="Write the server's log and every request (tokens redacted) to this file; the "
        "terminal keeps warnings only. --demo writes demo-data/server.log by default."
    ),
]
FreshOpt = Annotated[
    bool, typer.Option(help="With --demo: start a new meeting instead of resuming the last.")
]
AutopilotOpt = Annotated[
    bool,
    typer.Option(
        help="With --demo: a simulated producer runs the agenda until a person acts in the "
        "producer console (--no-autopilot: leave the agenda to you)."
    ),
]
