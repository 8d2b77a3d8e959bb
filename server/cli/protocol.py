"""``townhall protocol``: the websocket protocol as an AsyncAPI 3 document (the one
served at /protocol/asyncapi.json), printed or written with its Markdown tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from server.settings import Settings


def protocol(
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the AsyncAPI 3 document here.")
    ] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write it as Markdown tables here.")
    ] = None,
) -> None:
    """The websocket protocol as an AsyncAPI 3 document.

    Printed when no file is given; the server also serves it at
    /protocol/asyncapi.json."""
    # Deferred: start-up time (the message models and the whole web layer).
    from server.web.asyncapi import document, markdown

    doc = document(Settings())
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if json_out is not None:
        json_out.write_text(text, encoding="utf-8")
    if markdown_out is not None:
        markdown_out.write_text(markdown(doc) + "\n", encoding="utf-8")
    if json_out is None and markdown_out is None:
        sys.stdout.write(text)
