"""`townhall loadtest` against the real server: every vote acked, none lost or doubled."""

from __future__ import annotations

import subprocess
import sys

from tests.support.example import ROOT
from tests.support.server import LiveServer


def test_loadtest_reports_every_vote_acked_and_its_latencies(live_server: LiveServer) -> None:
    s = live_server
    cmd = [
        sys.executable,
        "-m",
        "server.cli",
        "loadtest",
        "--server",
        s.base,
        "--code",
        s.tokens.code,
        "--producer-token",
        s.tokens.producer,
        "--display-token",
        s.tokens.display,
        "--phones",
        "40",
        "--votes",
        "40",
        "--window",
        "2",
        "--displays",
        "2",
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "votes sent 40, acked 40, duplicate acks 0, lost 0, errors 0" in out.stdout
    assert "vote->ack ms: p50" in out.stdout and "vote->every display ms" in out.stdout
    assert "nan" not in out.stdout.split("vote->every display")[1]
