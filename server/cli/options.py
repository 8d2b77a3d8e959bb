"""Options several ``townhall`` commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
        "(default: $TOWNHALL_PUBLIC_URL, else http://$TOWNHALL_HOST:$TOWNHALL_PORT).",
    ),
]
