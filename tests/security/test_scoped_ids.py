"""A client id (the idempotency key of a write) belongs to its sender: the same UUID
from two tables is two comments, and a resend from either gets its own ack back
(issue 23, item 4)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id


def _ack(ws: Any) -> dict[str, Any]:
    for _ in range(50):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] in ("ack", "error"):
            return msg
    raise AssertionError("no reply within 50 messages")


def test_the_same_uuid_from_two_tables_is_two_comments(
    settings: Settings, tokens: IssuedTokens
) -> None:
    shared = new_id()
    with TestClient(create_app(settings)) as client:
        acks = {}
        for table, text in ((1, "more buses"), (2, "safer bike lanes")):
            with client.websocket_connect(f"/ws/table?token={tokens.tables[table]}") as ws:
                ws.receive_json()
                msg = {"type": "comment", "id": shared, "seq": 1, "text": text}
                ws.send_json(msg)
                first = _ack(ws)
                ws.send_json(msg)  # a resend: the same ack, nothing stored twice
                again = _ack(ws)
                ws.send_json({"type": "star", "id": new_id(), "comment": shared, "star": True})
                starred = _ack(ws)
            assert first["type"] == again["type"] == starred["type"] == "ack", (first, starred)
            assert first["comment_id"] == again["comment_id"]
            acks[table] = first["comment_id"]
        assert acks[1] != acks[2]
        meeting = client.app.state.meeting  # type: ignore[attr-defined]
        rows = client.portal.call(_comments, meeting, shared)  # type: ignore[union-attr]
    assert rows == [(acks[1], "more buses", True), (acks[2], "safer bike lanes", True)]


async def _comments(meeting: Any, client_id: str) -> list[tuple[int, str, bool]]:
    from server.storage.models import Comment

    async with meeting.db.session() as s:
        q = select(Comment).where(Comment.client_id == client_id).order_by(Comment.id)  # type: ignore[arg-type]
        return [(c.id, c.text, c.star) for c in (await s.exec(q)).all()]
