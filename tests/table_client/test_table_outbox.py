"""The outbox keeps every comment until the server has it, across crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from table_client.outbox import MAX_TEXT, Outbox, State, table_key

KEY = table_key("ws://127.0.0.1:8000/ws/table", "tok-secret")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "laptop" / "outbox.sqlite3"


def test_comments_survive_reopening_and_numbering_continues(path: Path) -> None:
    outbox = Outbox(path, KEY)
    first = [outbox.add(f"c{i}", 3).uuid for i in range(3)]
    outbox.close()

    again = Outbox(path, KEY)
    comments = again.all()
    assert [c.uuid for c in comments] == first
    assert [c.seq for c in comments] == [1, 2, 3]
    assert all(c.state is State.QUEUED and c.question_id == 3 for c in comments)
    assert again.add("c3").seq == 4
    again.close()


def test_each_table_numbers_its_own_comments(path: Path) -> None:
    a = Outbox(path, KEY)
    b = Outbox(path, table_key("ws://127.0.0.1:8000/ws/table", "other-table"))
    assert [a.add("a1").seq, b.add("b1").seq, a.add("a2").seq] == [1, 1, 2]
    assert [c.text for c in b.all()] == ["b1"]
    a.close()
    b.close()


def test_ack_takes_comment_out_of_waiting(path: Path) -> None:
    outbox = Outbox(path, KEY)
    one, two = outbox.add("one"), outbox.add("two")
    outbox.mark_sent([one.uuid, two.uuid])
    assert outbox.waiting_count() == 2

    acked = outbox.mark_acked(one.uuid, 501)
    assert acked is not None and acked.state is State.ACKED and acked.comment_id == 501
    assert outbox.waiting_count() == 1
    assert [c.uuid for c in outbox.waiting_after(0, 50)] == [two.uuid]
    assert outbox.mark_acked(one.uuid, 501) is None, "a repeated ack changes nothing"
    outbox.close()


def test_refused_comment_stays_listed_with_the_reason(path: Path) -> None:
    outbox = Outbox(path, KEY)
    c = outbox.add("x" * 10)
    refused = outbox.mark_refused(c.uuid, "rate limited")
    assert refused is not None and refused.state is State.REFUSED
    outbox.close()

    again = Outbox(path, KEY)
    (listed,) = again.all()
    assert (listed.state, listed.error, listed.waiting) == (State.REFUSED, "rate limited", False)
    assert again.waiting_count() == 0
    again.close()


def test_empty_or_too_long_comment_is_not_saved(path: Path) -> None:
    outbox = Outbox(path, KEY)
    with pytest.raises(ValueError, match="empty"):
        outbox.add("   ")
    with pytest.raises(ValueError, match="limit"):
        outbox.add("x" * (MAX_TEXT + 1))
    assert outbox.all() == [] and outbox.next_seq() == 1
    outbox.close()


def test_comments_survive_the_process_being_killed(path: Path) -> None:
    """SIGKILL right after add(): no close, no flush, no atexit."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from table_client.outbox import Outbox
        outbox = Outbox(Path({str(path)!r}), {KEY!r})
        for i in range(5):
            outbox.add(f"typed {{i}}")
        outbox.mark_acked(outbox.all()[0].uuid, 9)
        print("saved", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "saved"

    outbox = Outbox(path, KEY)
    comments = outbox.all()
    assert [c.text for c in comments] == [f"typed {i}" for i in range(5)]
    assert [c.state for c in comments] == [State.ACKED] + [State.QUEUED] * 4
    assert outbox.next_seq() == 6
    outbox.close()


def test_server_ahead_renumbers_waiting_comments_after_its_last_seq(path: Path) -> None:
    outbox = Outbox(path, KEY)
    c1, c2 = outbox.add("lost laptop 1"), outbox.add("lost laptop 2")
    assert outbox.on_hello(last_seq=40) is True
    assert [(c.uuid, c.seq) for c in outbox.all()] == [(c1.uuid, 41), (c2.uuid, 42)]
    assert outbox.add("next").seq == 43
    assert outbox.on_hello(last_seq=40) is False, "behind all our numbers: nothing to do"
    assert [c.seq for c in outbox.all()] == [41, 42, 43]
    outbox.close()


def test_waiting_comment_at_or_below_last_seq_moves_after_it(path: Path) -> None:
    """Its number was taken by another device (the server said conflict): renumber."""
    outbox = Outbox(path, KEY)
    done = outbox.add_many([(t, None, False, None) for t in ("a", "b", "c", "d")])
    for c in done[:2]:
        outbox.mark_acked(c.uuid, 1)
    assert outbox.on_hello(last_seq=3) is True
    assert [(c.text, c.seq) for c in outbox.all()] == [("a", 1), ("b", 2), ("c", 4), ("d", 5)]
    assert outbox.next_seq() == 6
    outbox.close()


def test_star_before_send_rides_on_the_comment_after_ack_needs_a_star_message(
    path: Path,
) -> None:
    outbox = Outbox(path, KEY)
    early = outbox.add("starred before sending")
    outbox.toggle_star(early.uuid)
    early_now = outbox.get(early.uuid)
    assert early_now is not None and early_now.star_initial is True

    late = outbox.add("starred after ack")
    outbox.mark_sent([early.uuid, late.uuid])
    outbox.mark_acked(early.uuid, 1)
    outbox.mark_acked(late.uuid, 2)
    assert outbox.pending_stars() == []

    outbox.toggle_star(late.uuid)
    assert outbox.waiting_count() == 1
    (op,) = outbox.pending_stars()
    assert (op.comment, op.star) == (late.uuid, True)
    assert outbox.pending_stars() == [op], "the same op id is reused until acked"

    synced = outbox.star_acked(op.id)
    assert synced is not None and synced.star and synced.star_synced
    assert outbox.waiting_count() == 0
    outbox.close()


def test_token_is_never_written_to_the_file(path: Path) -> None:
    outbox = Outbox(path, KEY)
    outbox.add("hello")
    outbox.close()
    blobs = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())
    assert b"tok-secret" not in blobs
    assert os.path.getsize(path) > 0
