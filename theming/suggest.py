"""``townhall themes suggest COMMENTS.csv --json OUT.json``: one-shot theming.

Reads ``id,text`` (and, if present, ``table``) from a CSV, themes it with a
fresh engine and writes ``{"themes": [...], "unassigned": [...]}`` listing
every input id exactly once. ``python -m theming.suggest IN OUT`` runs it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from theming.embed import Embedder
from theming.engine import ThemeEngine
from theming.model import Comment, ThemingError

__all__ = ["InputError", "main", "read_comments", "suggest"]

Progress = Callable[[str, int, int], None]

# Below this many comments a progress bar only adds noise.
PROGRESS_MIN_ROWS = 200
_EMBED_BATCH = 256


class InputError(ThemingError):
    """The input file cannot be themed; the message says why, for a person."""


def read_comments(path: Path) -> list[Comment]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at position {exc.start}); "
            "save it as UTF-8 CSV and try again"
        ) from exc
    if not text.strip():
        raise InputError(f"{path} is empty; expected a CSV with columns id,text")
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("id", "text") if c not in columns]
    if missing:
        raise InputError(
            f"{path} lacks column(s) {', '.join(missing)}; found: {', '.join(columns) or 'none'}"
        )
    reader.fieldnames = columns
    comments: list[Comment] = []
    first_line: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        cid = (row.get("id") or "").strip()
        if not cid:
            raise InputError(f"{path}, line {line}: the id is empty")
        if cid in first_line:
            raise InputError(
                f"{path}, line {line}: duplicate id {cid!r} (first on line {first_line[cid]})"
            )
        first_line[cid] = line
        table = (row.get("table") or "").strip() or None
        comments.append(Comment(cid, row.get("text") or "", table))
    if not comments:
        raise InputError(f"{path} has a header but no comments")
    return comments


def suggest(
    rows: Sequence[Comment],
    embedder: Embedder,
    progress: Progress | None = None,
    question: str | None = None,
) -> dict[str, Any]:
    """Theme the comments from scratch; the contract output plus extra keys.

    ``question`` is what the comments answer; labels avoid merely repeating it."""
    report = progress or (lambda stage, done, total: None)
    comments = list(rows)
    total = len(comments)
    batches = []
    for start in range(0, total, _EMBED_BATCH):
        batch = comments[start : start + _EMBED_BATCH]
        batches.append(embedder.encode([c.text for c in batch]))
        report("embedding", min(start + _EMBED_BATCH, total), total)
    engine = ThemeEngine(embedder)
    engine.question = question
    if batches:
        import numpy as np

        engine.add(comments, np.concatenate(batches))
    report("clustering", 0, 1)
    engine.retheme()
    engine.refresh_labels()
    engine.check()
    report("clustering", 1, 1)
    snapshot = engine.snapshot()
    return {
        "themes": [
            {
                "id": t["id"],
                "label": t["label"],
                "members": t["members"],
                "size": t["size"],
                "keywords": t["keywords"],
                "quotes": [q["text"] for q in t["quotes"]],
                "tables": t["tables"],
                "duplicates": [item["ids"] for item in t["items"] if item["count"] > 1],
            }
            for t in snapshot["themes"]
            if t["members"]
        ],
        "unassigned": snapshot["unassigned"],
    }


def _progress_bar() -> tuple[Progress, Callable[[], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}
    bar.start()

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar.stop


def main(
    input_path: Path,
    output_path: Path,
    *,
    show_progress: bool = True,
    question: str | None = None,
) -> int:
    """Run the command; returns the exit code. Errors go to stderr, no traceback."""
    try:
        comments = read_comments(input_path)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from theming.embed import MiniLMEmbedder

    stop: Callable[[], None] = lambda: None  # noqa: E731
    progress: Progress | None = None
    if show_progress and len(comments) >= PROGRESS_MIN_ROWS:
        progress, stop = _progress_bar()
    try:
        result = suggest(comments, MiniLMEmbedder(), progress, question)
    finally:
        stop()
    try:
        output_path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    except OSError as exc:
        print(f"error: cannot write {output_path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if show_progress:
        print(
            f"{len(result['themes'])} themes, {len(result['unassigned'])} unassigned "
            f"of {len(comments)} comments -> {output_path}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python -m theming.suggest COMMENTS.csv OUT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
