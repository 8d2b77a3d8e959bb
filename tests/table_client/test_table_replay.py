"""Replaying a CSV of comments, and the command line around it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from table_client.cli import run_table
from table_client.outbox import State
from table_client.replay import ReplayError, load, replay
from table_client.sender import Sender
from tests.support.table import WAIT, FakeServer

Start = Callable[..., Sender]


def write_csv(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


async def test_replay_sends_every_row_in_order_and_reports_refusals(
    server: FakeServer, start_sender: Start, tmp_path: Path
) -> None:
    rows = [f"rehearsal comment {i}" for i in range(40)]
    rows[7] = server.refuse_text
    body = "text,question_id\n" + "".join(f'"{t}",\n' for t in rows) + '"",\n"for q5",5\n'
    csv_path = write_csv(tmp_path / "comments.csv", body)
    out = io.StringIO()

    async with asyncio.timeout(WAIT):
        result = await replay(start_sender(run=False), load(csv_path), Console(file=out))

    assert result.acked == 40 and result.exit_code == 1
    assert [c.text for c in result.refused] == [server.refuse_text]
    assert result.skipped == ["row 41: comment is empty"]
    sent = [server.comments[u] for u in server.commit_order]
    assert [c.text for c in sent] == [t for t in rows if t != server.refuse_text] + ["for q5"]
    assert [c.question_id for c in sent][-2:] == [1, 5], "blank question_id → open question"
    assert "40 of 41 comments acked" in out.getvalue()
    assert "Refused comments" in out.getvalue()


async def test_replaying_the_same_file_again_sends_nothing_twice(
    server: FakeServer, start_sender: Start, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "c.csv", "text\none\ntwo\nthree\n")
    sender = start_sender(run=False)
    async with asyncio.timeout(WAIT):
        first = await replay(sender, load(csv_path), Console(file=io.StringIO()))
        again = await replay(sender, load(csv_path), Console(file=io.StringIO()))

    assert (first.acked, first.exit_code, again.acked, again.exit_code) == (3, 0, 3, 0)
    assert len(server.comments) == 3
    assert all(c.state is State.ACKED for c in sender.outbox.all())


def test_csv_without_text_column_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="'text' column"):
        load(write_csv(tmp_path / "bad.csv", "comment\nhello\n"))
    with pytest.raises(ReplayError, match="cannot read"):
        load(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("server_url", "replay_name", "expected"),
    [
        ("10.0.0.5:8000", None, "bad --server"),
        ("ftp://10.0.0.5", None, "unsupported scheme"),
        ("http://127.0.0.1:9", "missing.csv", "cannot replay"),
    ],
)
def test_expected_failures_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server_url: str,
    replay_name: str | None,
    expected: str,
) -> None:
    replay_path = tmp_path / replay_name if replay_name else None
    code = run_table(server_url, "tok", tmp_path / "o.sqlite3", replay_path)
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "o.sqlite3").exists(), "nothing is created on a usage error"


def test_refused_token_during_replay_exits_3(tmp_path: Path) -> None:
    """The whole command, as the lead will wire it, against a server that refuses us."""

    async def serve_and_run() -> int:
        fake = FakeServer(refuse_token=True)
        await fake.start()
        try:
            csv_path = write_csv(tmp_path / "c.csv", "text,question_id\nhello,1\n")
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(WAIT):
                return await loop.run_in_executor(
                    None, run_table, fake.url, "tok", tmp_path / "o.sqlite3", csv_path
                )
        finally:
            await fake.stop()

    assert asyncio.run(serve_and_run()) == 3
