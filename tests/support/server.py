"""The real server under uvicorn on a free port: in a thread of the test process
(``ServerThread``: real sockets and websockets, without starting and importing a
process), or in a process of its own (``start_server``) where a test kills or
restarts it or reads its log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from server.web.asgi import uvicorn_options
from tests.support.example import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base: str
    ws: str
    tokens: IssuedTokens
    proc: subprocess.Popen[bytes] | None  # None: the server runs in a thread of the tests
    log: Path
    db_url: str
    env: dict[str, str]

    def ws_url(self, role: str, token: str) -> str:
        return f"{self.ws}/ws/{role}?token={token}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    db_url: str, log: Path, env_extra: dict[str, str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = port or free_port()
    env = {
        **os.environ,
        "TOWNHALL_THEMING": "false",
        "TOWNHALL_EMBEDDER": "hashing",
        "TOWNHALL_TALLY_INTERVAL": "0.05",
        "TOWNHALL_CHECK_PROTOCOL": "true",  # every message sent checked against the spec
        **(env_extra or {}),
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start within 60 s:\n{log.read_text()}")


# Set on a test item whose call failed: fixtures then show the server's log.
FAILED = pytest.StashKey[bool]()


class ServerThread:
    """The app under uvicorn, with the options of ``townhall serve``, in a thread of
    the test process. ``env`` holds TOWNHALL_* settings, as for ``start_server``."""

    def __init__(self, db_url: str, env: dict[str, str] | None = None) -> None:
        overrides = {k.removeprefix("TOWNHALL_").lower(): v for k, v in (env or {}).items()}
        fields = {
            "theming": False,
            "embedder": "hashing",
            "tally_interval": 0.05,
            "check_protocol": True,  # every message sent checked against the spec
        } | overrides
        self.settings = Settings(db_url=db_url, port=free_port(), **fields)  # type: ignore[arg-type]
        config = uvicorn.Config(create_app(self.settings), **uvicorn_options(self.settings))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start (see the captured log)")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.settings.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
