"""What several ``townhall`` commands share, declared once: the error console and
the options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

# emoji=False: "file.toml:100:" is a line number, not :100:. soft_wrap: a message is
# one line however long its path ("file:line: ..." is what editors and CI read),
# not cut at the 80 columns rich assumes when stderr is not a terminal.
console = Console(stderr=True, emoji=False, soft_wrap=True)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $TOWNHALL_DB_URL or ./townhall.db)."),
]
LinksJsonOpt = Annotated[
    Path | None,
    typer.Option(
        "--links-json",
        help="Also write every role's token, page and websocket URL as JSON (mode 600; "
        "format in docs/protocol.md).",
    ),
]
PublicUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        help="Base URL the server will be reached at, e.g. https://hall.example.org "
        "(default: $TOWNHALL_PUBLIC_URL, else http://$TOWNHALL_HOST:$TOWNHALL_PORT; "
        "serve --demo: this machine's LAN address), printed and in the QR codes.",
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
ThemingInProcessOpt = Annotated[
    bool,
    typer.Option(
        "--theming-in-process",
        help="Theme comments in the web process instead of a theming process of its "
        "own (one process: for development; the model then shares the web loop's "
        "CPU and memory).",
    ),
]
