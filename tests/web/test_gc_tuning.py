"""A server process tunes Python's garbage collector once started
(server/web/collector.py): its start-up objects frozen out of every collection,
full collections far apart. `townhall serve` asks for it; an app built with the
default settings (as the tests build many, in one process) leaves it alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import main as cli
from server.settings import Settings
from server.web import collector
from tests.support.example import ROOT, load_example

PROBE = """
import gc, json, sys
from starlette.testclient import TestClient
from server.settings import Settings
from server.web.app import create_app
settings = Settings(db_url=sys.argv[1], theming=False, embedder="hashing",
                    tune_gc=sys.argv[2] == "on")
with TestClient(create_app(settings)) as client:
    assert client.get("/healthz").status_code == 200
    print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _probe(db_url: str, tune: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, db_url, tune],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_tuned_server_freezes_its_start_up_and_spaces_full_collections(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"
    load_example(db_url)
    tuned = _probe(db_url, "on")
    assert tuned["thresholds"] == list(collector.THRESHOLDS)
    assert tuned["frozen"] > 10_000  # modules, mappers, schemas: never garbage
    default = _probe(db_url, "off")
    assert default == {"thresholds": [700, 10, 10], "frozen": 0}


def test_serve_asks_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    monkeypatch.setattr(cli, "_serve", lambda s, workers, access_log: served.append(s))
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8999"])
    assert result.exit_code == 0, result.output
    assert [s.tune_gc for s in served] == [True]
    assert Settings().tune_gc is False
