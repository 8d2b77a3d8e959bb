"""Exports of an event's data (CSV or JSON), anonymous and traceable.

Every column is documented in ``docs/exports.md``. Ballots carry no participant
id: each gets a random number drawn afresh for every export and every poll (so
two exports, or two polls, cannot be joined on it), and ballots are written in
that random order. A ballot's demographic (and site) column is filled only when
its group among that poll's voters has at least ``small_cell`` people;
otherwise it reads ``suppressed``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Literal

from server.core.csvcells import escape_row
from server.core.privacy import NOT_GIVEN, hidden_groups
from server.core.tally import latest_valid_ballots, tally_choices
from server.report.budget_export import write_budget_export
from server.report.reimport import import_export
from server.storage.db import Database
from server.storage.event_store import SITE_KEY, EventData, load_event_data
from server.storage.poll_store import iso

__all__ = ["FORMAT", "export_event", "import_export", "write_rows"]

FORMAT = "townhall-export/1"
SUPPRESSED = "suppressed"
Fmt = Literal["csv", "json"]


def _list(values: list[Any]) -> str:
    return ";".join(str(v) for v in values)


def structure(data: EventData) -> dict[str, Any]:
    ev = data.event
    round_key = {r.id: r.key for r in data.rounds}
    return {
        "format": FORMAT,
        "event": {"slug": ev.slug, "title": ev.title, "code": ev.code, "languages": ev.languages},
        "sites": [{"key": s.key, "name": s.name} for s in data.sites.values()],
        "tables": [
            {"number": t.number, "name": t.name, "site": data.sites[t.site_id].key}
            for t in data.tables.values()
        ],
        "rounds": [
            {
                "key": r.key,
                "title": r.title,
                "position": r.position,
                "questions": [
                    {"key": q.key, "text": q.text, "position": q.position}
                    for q in data.questions
                    if q.round_id == r.id
                ],
            }
            for r in data.rounds
        ],
        "polls": [
            {
                "key": p.poll.key,
                "kind": p.poll.kind,
                "prompt": p.poll.prompt,
                "max_choices": p.poll.max_choices,
                "status": p.poll.status,
                "round": round_key.get(p.poll.round_id),
                "position": p.poll.position,
                "options": [{"key": o.key, "label": o.label} for o in p.options],
            }
            for p in data.polls
        ],
        "demographics": [
            {
                "key": d.question.key,
                "prompt": d.question.prompt,
                "options": [
                    {"key": o.key, "label": o.label, "census": o.census_share} for o in d.options
                ],
            }
            for d in data.demographics
        ],
    }


def comment_rows(data: EventData) -> list[dict[str, Any]]:
    qs = data.question_by_id()
    rounds = {r.id: r.key for r in data.rounds}
    themes_of: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for theme in data.themes:
        for cid in data.members.get(theme.id or 0, []):
            themes_of[cid].append((theme.key, theme.label))
    rows = []
    for c in data.comments:
        t = data.tables.get(c.table_id)
        q = qs.get(c.question_id or 0)
        reason = data.discarded.get(c.question_id or 0, {}).get(c.id or 0)
        mine = themes_of.get(c.id or 0, [])
        rows.append(
            {
                "comment_id": c.id,
                "table_number": t.number if t else None,
                "table": t.name if t else None,
                "site": data.sites[t.site_id].key if t else None,
                "round": rounds.get(q.round_id) if q else None,
                "question": q.key if q else None,
                "text": c.text,
                "star": c.star,
                "theme_keys": _list([k for k, _ in mine]),
                "theme_labels": _list([lb for _, lb in mine]),
                "status": "discarded" if reason is not None else "themed" if mine else "unthemed",
                "discard_reason": reason or "",
                "created_at": iso(c.created_at),
            }
        )
    return rows


def theme_rows(data: EventData) -> list[dict[str, Any]]:
    qs = data.question_by_id()
    return [
        {
            "theme_key": t.key,
            "label": t.label,
            "question": qs[t.question_id].key,
            "size": len(data.members.get(t.id or 0, [])),
            "published": t.published,
            "version": t.version,
            "member_comment_ids": _list(data.members.get(t.id or 0, [])),
            "quote_comment_ids": _list(json.loads(t.quotes or "[]")),
            "updated_at": iso(t.updated_at),
        }
        for t in data.themes
    ]


def poll_rows(
    data: EventData, small_cell: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Polls, their options with tallies, and anonymous ballots."""
    demos = data.with_site()
    columns = [(d.question.key, set(d.labels)) for d in data.demographics]
    columns.append((SITE_KEY, {s.key for s in data.sites.values()}))
    rng = random.SystemRandom()
    used: set[int] = set()  # ballot numbers are unique within the export, not only a poll
    polls, options, ballots = [], [], []
    for pd in data.polls:
        latest, rejected = latest_valid_ballots(pd.spec, pd.ballots(demos))
        result = tally_choices(pd.spec, (b.choice for b in latest.values()), rejected)
        polls.append(
            {
                "poll_key": pd.poll.key,
                "kind": pd.poll.kind,
                "prompt": pd.poll.prompt,
                "status": pd.poll.status,
                "max_choices": pd.poll.max_choices,
                "turnout": result.turnout,
                "rejected": result.rejected,
                "mean": result.mean,
                "median": result.median,
            }
        )
        for pos, o in enumerate(result.options):
            options.append(
                {
                    "poll_key": pd.poll.key,
                    "option_key": o.key,
                    "label": o.label,
                    "position": pos,
                    "count": o.count,
                    "percent": round(o.percent, 4),
                    "borda": o.borda,
                    "first_preferences": o.first_preferences,
                }
            )
        groups: dict[str, dict[str, str]] = {}
        for key, known in columns:
            values = {pid: b.demographics.get(key, NOT_GIVEN) for pid, b in latest.items()}
            values = {pid: v if v in known else NOT_GIVEN for pid, v in values.items()}
            hidden, _ = hidden_groups(Counter(values.values()), small_cell)
            groups[key] = {pid: SUPPRESSED if v in hidden else v for pid, v in values.items()}
        numbers = _fresh_numbers(rng, len(latest), used)
        rows = []
        for number, (pid, b) in zip(numbers, latest.items(), strict=True):
            row: dict[str, Any] = {
                "poll_key": pd.poll.key,
                "ballot": number,
                "choice": _list(list(b.choice)),
            }
            row.update({key: groups[key][pid] for key, _ in columns})
            rows.append(row)
        ballots.extend(sorted(rows, key=lambda r: r["ballot"]))
    return polls, options, ballots


BALLOT_NUMBERS = range(100_000_000, 1_000_000_000)  # 9 digits


def _fresh_numbers(rng: random.Random, n: int, used: set[int]) -> list[int]:
    """``n`` random ballot numbers none of which is in ``used`` (which takes them).
    Drawn per poll, two polls' ballots met on the same number about once in 400
    exports of a 2,000-ballot meeting, though the export promises unique numbers."""
    if n > len(BALLOT_NUMBERS) - len(used):
        raise ValueError("more ballots than ballot numbers")
    numbers: list[int] = []
    while len(numbers) < n:
        for number in rng.sample(BALLOT_NUMBERS, n - len(numbers)):
            if number not in used:
                used.add(number)
                numbers.append(number)
    return numbers


def curation_rows(data: EventData) -> list[dict[str, Any]]:
    qs = data.question_by_id()
    return [
        {
            "at": iso(c.at),
            "actor": c.actor,
            "action": c.action,
            "question": qs[c.question_id].key if c.question_id in qs else "",
            "theme_key": c.theme_key or "",
            "before": c.before,
            "after": c.after,
        }
        for c in data.curation
    ]


def write_rows(
    out: Path, name: str, rows: list[dict[str, Any]], fmt: Fmt, header: list[str] | None = None
) -> Path:
    if fmt == "json":
        path = out / f"{name}.json"
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        return path
    path = out / f"{name}.csv"
    fields = header or (list(rows[0]) if rows else [])
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        # Formula-safe (server/core/csvcells.py); read_rows undoes it.
        w.writerows(escape_row({k: "" if v is None else v for k, v in r.items()}) for r in rows)
    return path


async def export_event(
    db: Database,
    event_slug_or_id: int | str,
    out: Path,
    fmt: str = "csv",
    *,
    small_cell: int = 10,
) -> list[Path]:
    """Write every export file for the event into ``out``; returns the paths written."""
    if fmt not in ("csv", "json"):
        raise ValueError("format is csv or json")
    if small_cell < 1:
        raise ValueError("small_cell must be at least 1")
    data = await load_event_data(db, event_slug_or_id)
    paths = await asyncio.to_thread(
        write_export, data, out, "json" if fmt == "json" else "csv", small_cell
    )
    assert data.event.id is not None
    # Budgeting polls: their own nested results file (server/report/budget_export.py).
    return paths + await write_budget_export(db, data.event.id, out, small_cell)


def write_export(data: EventData, out: Path, fmt: Fmt, small_cell: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    meta = structure(data)
    meta.update(exported_at=iso(data.as_of), small_cell=small_cell)
    (out / "event.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    polls, options, ballots = poll_rows(data, small_cell)
    ballot_header = [
        "poll_key",
        "ballot",
        "choice",
        *[d.question.key for d in data.demographics],
        SITE_KEY,
    ]
    return [
        out / "event.json",
        write_rows(out, "comments", comment_rows(data), fmt),
        write_rows(out, "themes", theme_rows(data), fmt),
        write_rows(out, "polls", polls, fmt),
        write_rows(out, "poll_options", options, fmt),
        write_rows(out, "ballots", ballots, fmt, ballot_header),
        write_rows(out, "curation_log", curation_rows(data), fmt),
    ]
