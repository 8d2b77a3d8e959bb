"""A connection hands its group-committed writes over without waiting for each
commit (``routes.PIPELINED``): a table's comments sent back to back share commits,
keep their order and are answered in it, and a message of another kind still sees
them done."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.live.group_commit import GroupCommit
from server.live.meeting import Meeting
from server.live.routes import PIPELINED
from server.settings import Settings
from server.storage.models import Comment
from server.web.app import create_app
from tests.support.example import new_id

N = 40


def test_comments_sent_back_to_back_share_commits_and_keep_their_order(
    settings: Settings, tokens: IssuedTokens
) -> None:
    ids = [new_id() for _ in range(N)]
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect(f"/ws/table?token={tokens.tables[2]}") as ws:
            assert ws.receive_json()["type"] == "hello"
            for seq, cid in enumerate(ids, start=1):  # the way the sender's window sends
                ws.send_json({"type": "comment", "id": cid, "seq": seq, "text": f"idea {seq}"})
            # Not pipelined: it waits for the comments, so it finds the last one stored.
            star_id = new_id()
            ws.send_json({"type": "star", "id": star_id, "comment": ids[-1], "star": True})
            replies: dict[str, dict[str, Any]] = {}
            while len(replies) < N + 1:
                msg = ws.receive_json()
                if msg["type"] in ("ack", "error"):
                    replies[msg["id"]] = msg
        assert list(replies) == [*ids, star_id], "answered in the order sent"
        meeting: Meeting = client.app.state.meeting  # type: ignore[attr-defined]
        stored = client.portal.call(_stored, meeting, ids)  # type: ignore[union-attr]
        batches = meeting.comments.batches
    assert [replies[c]["type"] for c in ids] == ["ack"] * N, [replies[c] for c in ids]
    assert [replies[c]["seq"] for c in ids] == list(range(1, N + 1))
    assert replies[star_id]["type"] == "ack", replies[star_id]
    assert stored == [(seq, seq == N) for seq in range(1, N + 1)]
    # One at a time, each comment was a commit of its own (N batches).
    assert 1 <= batches < N, batches


async def _stored(meeting: Meeting, client_ids: list[str]) -> list[tuple[int, bool]]:
    async with meeting.db.session() as s:
        rows = (await s.exec(select(Comment).where(Comment.client_id.in_(client_ids)))).all()  # type: ignore[attr-defined]
    by_id = {r.client_id: (r.seq, r.star) for r in rows}
    return [by_id[c] for c in client_ids]


async def test_every_pipelined_write_goes_to_a_group_commit(live_meeting: Meeting) -> None:
    """The order argument holds only for writes handed to a group commit's queue."""
    m = live_meeting
    commits = {id(c) for c in (m.comments, m.votes, m.demographics)}
    for role, kind in PIPELINED:
        handler = m._routes[(role, kind)]
        owner = getattr(handler, "__self__", None)
        assert isinstance(owner, GroupCommit) and id(owner) in commits, (role, kind)
        assert getattr(handler, "__func__", None) is GroupCommit.submit, (role, kind)
