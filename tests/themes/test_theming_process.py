"""``townhall serve`` runs the theming worker in a process of its own (issue 19):
the real command, a real SQLite file, real sockets. Comments typed at tables are
placed on the team's workbench by that process, team ops reach it through the
web process, it is started again when it dies, and it never outlives the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from server.event.loader import IssuedTokens
from tests.support.example import ROOT, load_example, new_id
from tests.support.live import recv_until, sample_texts, ws_url
from tests.support.server import FAILED, free_port
from tests.support.workbench import op, themed

WAIT = 60  # seconds; the machine is shared and a process start imports a lot


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str
    tokens: IssuedTokens
    log: Path

    def children(self) -> dict[int, str]:
        """The processes ``serve`` started: pid -> command line."""
        return children_of(self.proc.pid)

    def theming_pid(self) -> int | None:
        found = [p for p, cmd in self.children().items() if "theming-worker" in cmd]
        assert len(found) <= 1, found
        return found[0] if found else None


def children_of(pid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmd
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(check: object, what: str, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.1)


def serve(tmp: Path, *extra: str, embedder: str = "hashing") -> Served:
    db_url = f"sqlite+aiosqlite:///{tmp / 'townhall.db'}"
    tokens = load_example(db_url)
    port = free_port()
    env = {
        **os.environ,
        "TOWNHALL_EMBEDDER": embedder,
        "TOWNHALL_CHECK_PROTOCOL": "true",
        "TMPDIR": str(tmp),  # where serve makes the local hub's folder
    }
    for key in ("TOWNHALL_THEMING", "TOWNHALL_HUB_URL", "TOWNHALL_THEMING_PROCESS"):
        env.pop(key, None)  # the defaults are what is tested
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    log = tmp / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*cmd, *extra], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return True
        except OSError:
            return False

    wait_for(up, "the server answers")
    return Served(proc, base, tokens, log)


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    s = serve(tmp_path)
    yield s
    stop(s)
    if request.node.stash.get(FAILED, False):
        print(s.log.read_text(errors="replace"))


def stop(s: Served) -> None:
    worker = s.theming_pid()
    if s.proc.poll() is None:
        s.proc.send_signal(signal.SIGINT)
        try:
            s.proc.wait(30)
        except subprocess.TimeoutExpired:
            s.proc.kill()
    if worker is not None and alive(worker):
        os.kill(worker, signal.SIGKILL)


async def comment_and_place(s: Served, table: int, seq: int, text: str) -> None:
    """A table types ``text``; the team's page sees it placed."""
    tables = sorted(s.tokens.tables.items())
    async with (
        connect(ws_url(s.base, "team", s.tokens.team), max_size=2**24) as team,
        connect(ws_url(s.base, "table", tables[table][1])) as tab,
    ):
        await recv_until(team, "hello")
        await recv_until(tab, "hello")
        await tab.send(json.dumps({"type": "comment", "id": new_id(), "seq": seq, "text": text}))
        ack = await recv_until(tab, "ack")
        await themed(team, [ack["comment_id"]])


async def test_serve_themes_in_a_process_of_its_own(served: Served) -> None:
    wait_for(lambda: served.theming_pid() is not None, "a theming-worker process")
    assert len(served.children()) == 1, served.children()
    # The socket of the local hub is private to the server's user.
    [folder] = [p for p in served.log.parent.iterdir() if p.name.startswith("townhall-hub-")]
    assert (folder.stat().st_mode & 0o777) == 0o700
    await comment_and_place(served, 0, 1, sample_texts(1)[0])


async def test_team_ops_reach_the_theming_process(served: Served) -> None:
    texts = sample_texts(12)
    tables = sorted(served.tokens.tables.items())
    async with connect(ws_url(served.base, "team", served.tokens.team), max_size=2**24) as team:
        await recv_until(team, "hello")
        ids = []
        async with connect(ws_url(served.base, "table", tables[0][1])) as tab:
            await recv_until(tab, "hello")
            for i, text in enumerate(texts, 1):
                comment = {"type": "comment", "id": new_id(), "seq": i, "text": text}
                await tab.send(json.dumps(comment))
                ids.append((await recv_until(tab, "ack"))["comment_id"])
        msg = await themed(team, ids)
        reply = await op(team, "retheme", msg["question_id"])
        assert reply["type"] == "ack", reply
        reply = await op(team, "sync", msg["question_id"])
        assert reply["type"] == "ack", reply
        placed = reply["themes"]
        assert {m for t in placed["themes"] for m in t["members"]} | set(
            placed["unassigned"]
        ) >= set(ids)


async def test_a_theming_process_that_dies_is_started_again_and_catches_up(
    served: Served,
) -> None:
    wait_for(lambda: served.theming_pid() is not None, "a theming-worker process")
    first = served.theming_pid()
    assert first is not None
    await comment_and_place(served, 0, 1, "more buses to the school in the morning")
    os.kill(first, signal.SIGKILL)
    # A comment typed while no theming process runs is acked, then placed once
    # the new process has caught up from the database.
    await comment_and_place(served, 1, 1, "a crossing by the library for children")
    second = served.theming_pid()
    assert second is not None and second != first
    assert "exited (code -9)" in served.log.read_text()


def test_stopping_serve_stops_its_theming_process(served: Served) -> None:
    wait_for(lambda: served.theming_pid() is not None, "a theming-worker process")
    worker = served.theming_pid()
    assert worker is not None
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(30) == 0
    wait_for(lambda: not alive(worker), "the theming process stops", within=15)
    assert not [p for p in served.log.parent.iterdir() if p.name.startswith("townhall-hub-")]


def test_a_theming_process_never_outlives_a_killed_server(served: Served) -> None:
    wait_for(lambda: served.theming_pid() is not None, "a theming-worker process")
    worker = served.theming_pid()
    assert worker is not None
    served.proc.kill()
    served.proc.wait(10)
    wait_for(lambda: not alive(worker), "the orphaned theming process stops", within=20)


async def test_theming_in_process_runs_one_process(tmp_path: Path) -> None:
    s = serve(tmp_path, "--theming-in-process")
    try:
        await comment_and_place(s, 0, 1, sample_texts(1)[0])
        assert s.children() == {}
    finally:
        stop(s)


def _maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.timeout(300)
async def test_the_model_lives_in_the_theming_process_not_the_web_process(
    tmp_path: Path,
) -> None:
    s = serve(tmp_path, embedder="minilm")
    try:
        await comment_and_place(s, 0, 1, sample_texts(1)[0])
        worker = s.theming_pid()
        assert worker is not None
        assert _maps_torch(worker)
        assert not _maps_torch(s.proc.pid)
    finally:
        stop(s)
        await asyncio.sleep(0)
