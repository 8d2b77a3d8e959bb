"""``townhall serve``'s theming process: started with the web process, restarted
if it dies, stopped when the server stops.

The web process (uvicorn, in the main thread) listens on the local hub's Unix
socket; the theming worker connects to it (``server/live/localhub.py``). A
thread of the web process keeps the worker running: a worker that exits while
the server is up is started again after a pause that doubles from 1 s up to
30 s while it keeps dying young. The worker runs in its own session, so a
Ctrl-C in the terminal reaches only the web process, which then stops the
worker (SIGTERM, SIGKILL after ``STOP_WAIT`` seconds); if the web process is
killed outright, the worker notices its parent is gone and stops by itself.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from server.settings import Settings

log = logging.getLogger("townhall.theming")

STOP_WAIT = 10.0  # seconds the worker has to stop cleanly before it is killed
FIRST_PAUSE = 1.0  # seconds before restarting a worker that died
LONGEST_PAUSE = 30.0
HEALTHY_AFTER = 60.0  # a worker that ran this long before dying waits FIRST_PAUSE again


class ThemingProcess:
    """One ``townhall theming-worker`` kept running beside this process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._keep, name="theming-process", daemon=True)
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "server.cli", "theming-worker"]
        cmd += ["--parent-pid", str(os.getpid())]
        return subprocess.Popen(cmd, env=self.env, start_new_session=True)

    def _keep(self) -> None:
        pause = FIRST_PAUSE
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self.proc = self._spawn()
                self.starts += 1
            began = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            lived = time.monotonic() - began
            pause = FIRST_PAUSE if lived >= HEALTHY_AFTER else pause
            log.error(
                "the theming process exited (code %s) after %.0f s; starting it again in %.0f s",
                code,
                lived,
                pause,
            )
            if self._stopping.wait(pause):
                return
            pause = min(LONGEST_PAUSE, pause * 2)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                log.error("the theming process did not stop within %.0f s: killed", STOP_WAIT)
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(STOP_WAIT)


def serve_with_theming_process(s: Settings, options: dict[str, Any]) -> None:
    """The web process here, the theming worker in a process of its own, the two
    joined by the local hub on a Unix socket in a private temporary folder."""
    # Deferred: start-up time (server/cli/main.py's docstring).
    import uvicorn

    # Deferred: start-up time (server/cli/main.py's docstring).
    from server.storage.migrate import upgrade
    from server.web.app import create_app

    upgrade(s.db_url)  # once, before the two processes race to do it
    folder = Path(tempfile.mkdtemp(prefix="townhall-hub-"))  # mode 0700
    sock = folder / "hub.sock"
    env = {**os.environ, **s.as_env(), "TOWNHALL_HUB_URL": f"local://{sock}"}
    env.pop("TOWNHALL_ALLOWED_ORIGINS", None)
    env.pop("TOWNHALL_EVENT_FILE", None)  # the web process loads it
    theming = ThemingProcess(env)
    web = s.model_copy(update={"theming": False, "hub_url": f"local+listen://{sock}"})
    # uvicorn stops on SIGTERM, then raises it again with the handler it found:
    # by default that ends the process before ``finally`` stops the theming one.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        theming.start()
        uvicorn.run(create_app(web), **options)
    finally:
        theming.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)
