"""The sender against a fake server over real loopback websockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from table_client.endpoint import table_ws_base
from table_client.events import Link, QuestionChanged
from table_client.outbox import Outbox, State, table_key
from table_client.sender import Sender
from tests.support.table import TOKEN, WAIT, FakeServer, Stored

Start = Callable[..., Sender]
Until = Callable[[Sender, Callable[[], bool]], Awaitable[None]]


def fill(path: Path, server: FakeServer, n: int, prefix: str = "comment") -> list[str]:
    """Queue ``n`` comments while no sender runs (the laptop was offline)."""
    outbox = Outbox(path, table_key(table_ws_base(server.url), TOKEN))
    try:
        rows = [(f"{prefix} {i}", 1, False, None) for i in range(n)]
        return [c.uuid for c in outbox.add_many(rows)]
    finally:
        outbox.close()


def all_settled(sender: Sender) -> Callable[[], bool]:
    return lambda: sender.status.link is Link.CONNECTED and sender.status.waiting == 0


async def test_comment_acked_only_after_server_commits(
    server: FakeServer, start_sender: Start, until: Until
) -> None:
    sender = start_sender()
    await until(sender, lambda: sender.status.link is Link.CONNECTED)
    comment = sender.submit("More buses at night")
    await until(sender, all_settled(sender))

    stored = server.comments[comment.uuid]
    after = sender.outbox.get(comment.uuid)
    assert after is not None and after.state is State.ACKED
    assert after.comment_id == stored.comment_id
    assert (stored.seq, stored.text, stored.question_id) == (1, "More buses at night", 1)
    assert sender.status.label == "● connected — all sent"


async def test_offline_backlog_of_200_drains_in_order_within_window(
    server: FakeServer, start_sender: Start, until: Until, outbox_path: Path
) -> None:
    uuids = fill(outbox_path, server, 200)
    server.ack_delay = 0.005  # commit latency, so an unbounded sender would pile up
    sender = start_sender(window=20)
    await until(sender, all_settled(sender))

    assert server.commit_order == uuids
    assert [server.comments[u].seq for u in uuids] == list(range(1, 201))
    assert server.out_of_order == []
    assert 1 <= server.outstanding_max <= 20
    assert all(c.state is State.ACKED for c in sender.outbox.all())


async def test_server_killed_mid_stream_every_comment_stored_once_in_order(
    server: FakeServer, start_sender: Start, until: Until, outbox_path: Path
) -> None:
    uuids = fill(outbox_path, server, 120)
    server.crash_after_commits = 50  # the 50th is committed but its ack never leaves
    port = server.port
    sender = start_sender()
    await server.wait_for(lambda: server._server is None)
    await until(sender, lambda: sender.status.link is Link.OFFLINE)
    assert 120 - 49 <= sender.status.waiting <= 120  # at most 49 acks left the server

    await server.start()  # same port: the laptop's config does not change
    assert server.port == port
    await until(sender, all_settled(sender))

    assert server.commit_order == uuids  # stored once each, in typed order
    assert server.out_of_order == []
    # The 50th keeps its number (the server holds it), so the rest follow on with no gap.
    assert [server.comments[u].seq for u in uuids] == list(range(1, 121))
    resent = [m["id"] for m in server.received if m["type"] == "comment"]
    assert uuids[49] in resent[50:], "the comment whose ack was lost must be resent"
    assert {c.comment_id for c in sender.outbox.all()} == {
        server.comments[u].comment_id for u in uuids
    }


async def test_lost_ack_keeps_its_number_and_only_taken_numbers_move(
    server: FakeServer, start_sender: Start, until: Until, outbox_path: Path
) -> None:
    """Offline, one comment was stored without its ack and a spare laptop took 6..8:
    the stored one is acked where it is and the rest follow the spare's, no gap."""
    uuids = fill(outbox_path, server, 10)
    server.crash_after_commits = 5  # the 5th is committed but its ack never leaves
    sender = start_sender()
    await server.wait_for(lambda: server._server is None)
    await until(sender, lambda: sender.status.link is Link.OFFLINE)
    for seq in (6, 7, 8):
        server.comments[f"spare {seq}"] = Stored(900 + seq, seq, "spare", 1, False)
    server.last_seq = 8

    await server.start()
    await until(sender, all_settled(sender))

    assert [server.comments[u].seq for u in uuids] == [1, 2, 3, 4, 5, 9, 10, 11, 12, 13]
    assert server.out_of_order == [6, 7, 8], "asked about once each, then renumbered"
    assert server.connections_seen == 2, "a conflict while settling needs no reconnect"


async def test_refused_comment_stays_visible_and_others_go_through(
    server: FakeServer, start_sender: Start, until: Until
) -> None:
    sender = start_sender()
    await until(sender, lambda: sender.status.link is Link.CONNECTED)
    bad = sender.submit(server.refuse_text)
    good = sender.submit("Fix the library roof")
    await until(sender, all_settled(sender))

    refused = sender.outbox.get(bad.uuid)
    assert refused is not None and refused.state is State.REFUSED
    assert refused.error == "not allowed"
    assert good.uuid in server.comments and bad.uuid not in server.comments
    assert [c.uuid for c in sender.outbox.all()] == [bad.uuid, good.uuid]


async def test_refused_token_stops_reconnecting(server: FakeServer, start_sender: Start) -> None:
    server.refuse_token = True
    sender = start_sender(run=False)
    async with asyncio.timeout(WAIT):
        await sender.run()  # returns instead of retrying forever
    assert sender.status.link is Link.REFUSED
    assert "token refused" in sender.status.label
    assert server.connections_seen == 0


async def test_question_push_updates_and_new_comments_follow_it(
    server: FakeServer, start_sender: Start, until: Until
) -> None:
    sender = start_sender()
    seen: list[Any] = []
    sender.subscribe(lambda e: seen.append(e) if isinstance(e, QuestionChanged) else None)
    await until(sender, lambda: sender.status.link is Link.CONNECTED)
    await server.push_question({"id": 2, "text": "What should we fund first?", "round": "2"})
    await until(sender, lambda: bool(seen))

    assert sender.question is not None and sender.question.text == "What should we fund first?"
    comment = sender.submit("Parks")
    await until(sender, all_settled(sender))
    assert server.comments[comment.uuid].question_id == 2


async def test_server_ahead_of_lost_outbox_numbering_continues_after_last_seq(
    server: FakeServer, start_sender: Start, until: Until, outbox_path: Path
) -> None:
    server.last_seq = 40  # this laptop's outbox file was lost
    uuids = fill(outbox_path, server, 3)
    sender = start_sender()
    await until(sender, all_settled(sender))
    later = sender.submit("after")
    await until(sender, all_settled(sender))

    assert [server.comments[u].seq for u in [*uuids, later.uuid]] == [41, 42, 43, 44]
    assert server.out_of_order == []


async def test_star_toggled_after_ack_reaches_server(
    server: FakeServer, start_sender: Start, until: Until
) -> None:
    sender = start_sender()
    await until(sender, lambda: sender.status.link is Link.CONNECTED)
    comment = sender.submit("Safe cycle lanes")
    await until(sender, all_settled(sender))
    starred = sender.toggle_star(comment.uuid)
    assert starred is not None and starred.star and not starred.star_synced
    await until(sender, all_settled(sender))

    assert server.comments[comment.uuid].star is True
    after = sender.outbox.get(comment.uuid)
    assert after is not None and after.star_synced


async def test_comments_typed_while_server_down_are_sent_when_it_returns(
    server: FakeServer, start_sender: Start, until: Until
) -> None:
    await server.stop()
    sender = start_sender()
    await until(sender, lambda: sender.status.link is Link.OFFLINE)
    typed = [sender.submit(f"offline {i}").uuid for i in range(3)]
    assert sender.status.waiting == 3
    assert "3 waiting" in sender.status.label

    await server.start()
    await until(sender, all_settled(sender))
    assert server.commit_order == typed


async def test_two_devices_on_one_table_both_get_every_comment_stored(
    server: FakeServer, start_sender: Start, until: Until, tmp_path: Path
) -> None:
    """A spare laptop takes seq numbers the first one also used: conflict → renumber."""
    first = start_sender(tmp_path / "first.sqlite3")
    await until(first, all_settled(first))
    spare = start_sender(tmp_path / "spare.sqlite3")
    await until(spare, all_settled(spare))
    a = [first.submit(f"first {i}").uuid for i in range(3)]
    await until(first, all_settled(first))
    b = [spare.submit(f"spare {i}").uuid for i in range(3)]  # seq 1..3 again
    await until(spare, all_settled(spare))

    assert server.commit_order == a + b
    assert [server.comments[u].seq for u in a + b] == [1, 2, 3, 4, 5, 6]
    assert server.out_of_order, "the spare laptop's first try must have conflicted"
    assert all(c.state is State.ACKED for c in spare.outbox.all())
