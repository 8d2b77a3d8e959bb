"""Send a CSV of comments through the real outbox and sender (rehearsals, load).

Replays are resumable: each row is saved with a marker (file hash + row
number), so running the same file again into the same outbox sends only what
is missing instead of duplicating the rehearsal.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from table_client.events import Event, Link
from table_client.outbox import Comment, State, validate_text
from table_client.sender import Sender


class ReplayError(Exception):
    """The CSV cannot be replayed; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # data row, 1-based: stable across runs of the same file
    text: str
    question_id: int | None


@dataclass(frozen=True, slots=True)
class ReplayResult:
    acked: int
    refused: list[Comment]
    skipped: list[str]  # rows never sent: invalid before they left the laptop
    token_refused: bool

    @property
    def exit_code(self) -> int:
        return 3 if self.token_refused else (1 if self.refused or self.skipped else 0)


@dataclass(frozen=True, slots=True)
class ReplayFile:
    rows: list[Row]
    skipped: list[str]  # a note for each row that cannot be sent as is
    marker: str  # prefix of the outbox source of every row: file identity


def load(path: Path) -> ReplayFile:
    try:
        raw = path.read_bytes()
        records = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReplayError(f"cannot read {path}: {exc}") from exc
    if not records or "text" not in records[0]:
        raise ReplayError(f"{path}: needs a header row with a 'text' column and some rows")
    rows: list[Row] = []
    skipped: list[str] = []
    for number, record in enumerate(records, start=1):
        qid = (record.get("question_id") or "").strip()
        try:
            text = validate_text(record.get("text") or "")
            rows.append(Row(number, text, int(qid) if qid else None))
        except ValueError as exc:
            skipped.append(f"row {number}: {exc}")
    if not rows:
        raise ReplayError(f"{path}: no comments to send in it")
    return ReplayFile(rows, skipped, f"replay:{hashlib.sha256(raw).hexdigest()[:16]}:")


async def replay(sender: Sender, source: ReplayFile, console: Console) -> ReplayResult:
    """Queue the file's rows (once), send them, and return when none is waiting."""
    rows, skipped, marker = source.rows, source.skipped, source.marker
    for note in skipped:
        console.print(f"[yellow]skipped[/yellow] {note}")
    changed = asyncio.Event()

    def on_event(_event: Event) -> None:
        changed.set()

    sender.subscribe(on_event)
    task = asyncio.create_task(sender.run())
    try:
        if any(r.question_id is None for r in rows) and sender.question is None:
            # Rows without a question go to the open one: learn it first.
            with console.status("connecting to learn the current question…") as shown:
                while sender.hello is None and not task.done():
                    shown.update(f"learning the current question: {sender.status.label}")
                    changed.clear()
                    await changed.wait()
        current = sender.question.id if sender.question else None
        sender.outbox.add_many(
            [(r.text, r.question_id or current, False, f"{marker}{r.number}") for r in rows]
        )
        sender.wake()
        return await _watch(sender, marker, skipped, changed, console, task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _watch(
    sender: Sender,
    marker: str,
    skipped: list[str],
    changed: asyncio.Event,
    console: Console,
    task: asyncio.Task[None],
) -> ReplayResult:
    mine = sender.outbox.by_source_prefix(marker)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(sender.status.label, total=len(mine))
        while True:
            changed.clear()
            mine = sender.outbox.by_source_prefix(marker)
            done = sum(not c.waiting for c in mine)
            progress.update(bar, completed=done, description=sender.status.label)
            if done == len(mine) or sender.status.link is Link.REFUSED or task.done():
                break
            await changed.wait()
    refused = [c for c in mine if c.state is State.REFUSED]
    result = ReplayResult(
        acked=sum(c.state is State.ACKED for c in mine),
        refused=refused,
        skipped=skipped,
        token_refused=sender.status.link is Link.REFUSED,
    )
    _report(result, len(mine), console)
    return result


def _report(result: ReplayResult, total: int, console: Console) -> None:
    if result.token_refused:
        console.print(
            f"[red]token refused[/red] by the server; {total - result.acked - len(result.refused)}"
            " comments stay waiting in the outbox."
        )
    console.print(f"{result.acked} of {total} comments acked by the server.")
    if result.skipped:
        console.print(f"{len(result.skipped)} rows skipped (see above).")
    if result.refused:
        table = Table("seq", "refused because", "comment", title="Refused comments")
        for c in result.refused:
            table.add_row(str(c.seq), c.error or "", c.text[:80])
        console.print(table)
