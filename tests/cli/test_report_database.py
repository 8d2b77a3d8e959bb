"""`townhall report` (and `export`) find the meeting the way `serve` keeps it, and
without one say in one line which option to give, leaving no empty database behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.example import ROOT, load_example


def townhall_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOWNHALL_DB_URL"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_without_a_database_says_which_option_in_one_line(tmp_path: Path) -> None:
    out = townhall_in(tmp_path, "report", "riverton-budget", "--out", "report.html")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--db" in lines[0] and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "townhall.db").exists()  # reading never creates a database
    export = townhall_in(tmp_path, "export", "riverton-budget", "--out", "export")
    assert export.returncode == 2 and len(export.stderr.strip().splitlines()) == 1


def test_a_database_without_a_meeting_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / "townhall.db").write_bytes(b"")  # an empty file, as the old bug left
    out = townhall_in(tmp_path, "report", "riverton-budget", "--out", "report.html")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "--db" in out.stderr, out.stderr


def test_report_after_the_demo_reads_the_demos_database_as_the_readme_says(
    tmp_path: Path,
) -> None:
    (tmp_path / "demo-data").mkdir()
    load_example(f"sqlite+aiosqlite:///{tmp_path / 'demo-data' / 'demo.db'}")
    out = townhall_in(tmp_path, "report", "riverton-budget", "--out", "report.html")
    assert out.returncode == 0, out.stderr
    assert "Riverton" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not (tmp_path / "townhall.db").exists()
