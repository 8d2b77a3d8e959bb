"""The one `townhall` command: help, contracts other tools rely on, clear errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.example import EVENT_FILE, ROOT


def townhall(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_every_command_of_the_contract() -> None:
    out = townhall("--help")
    assert out.returncode == 0
    for command in ("serve", "table", "themes", "report", "export", "loadtest", "db", "event"):
        assert command in out.stdout, command


def test_event_check_points_at_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EVENT_FILE.read_text().replace('kind = "scale"', 'kind = "stars"'))
    out = townhall("event", "check", str(bad))
    assert out.returncode == 2
    line = next(i + 1 for i, t in enumerate(bad.read_text().splitlines()) if "stars" in t)
    assert f"bad.toml:{line}:" in out.stderr and "Traceback" not in out.stderr
    assert townhall("event", "check", str(EVENT_FILE)).returncode == 0


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    out = townhall("db", "upgrade", "--db", f"sqlite+aiosqlite:///{db}")
    assert out.returncode == 0, out.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"comment", "vote", "theme", "curationlog", "alembic_version"} <= tables


@pytest.mark.model
def test_themes_suggest_contract_every_id_exactly_once(tmp_path: Path) -> None:
    # The project's own sample of real comments, so a fresh clone runs this too.
    source = ROOT / "server" / "examples" / "sample-comments.csv"
    with source.open(encoding="utf-8") as f:
        rows = [(r["id"], r["text"]) for r in csv.DictReader(f)][:80]
    comments = tmp_path / "comments.csv"
    with comments.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "extra"])
        w.writerows((i, t, "ignored") for i, t in rows)
    out_json = tmp_path / "themes.json"
    out = townhall("themes", "suggest", str(comments), "--json", str(out_json), timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out_json.read_text())
    placed = [m for t in data["themes"] for m in t["members"]] + data["unassigned"]
    assert sorted(placed) == sorted(i for i, _ in rows)
    assert data["themes"] and all(t["label"] and t["id"] for t in data["themes"])


def test_an_error_line_stays_whole_under_a_long_path(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "nested"
    deep.mkdir(parents=True)
    bad = deep / "bad.toml"
    bad.write_text(EVENT_FILE.read_text().replace('kind = "scale"', 'kind = "stars"'))
    out = townhall("event", "check", str(bad))
    assert out.returncode == 2
    first = out.stderr.splitlines()[0]
    line = next(i + 1 for i, t in enumerate(bad.read_text().splitlines()) if "stars" in t)
    assert first.startswith(f"{bad}:{line}: ") and "kind" in first
