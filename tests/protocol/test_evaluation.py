"""The evaluation survey and follow-up contacts over the protocol (Starlette TestClient)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.live import followup
from server.report.export import export_event
from server.settings import Settings
from server.storage.db import Database
from server.web.app import create_app
from tests.support.database import db_columns, db_rows
from tests.support.example import new_id
from tests.support.testclient import join, recv_until


@pytest.fixture
def client(settings: Settings, tokens: IssuedTokens) -> Any:
    with TestClient(create_app(settings)) as c:
        yield c


def test_poll_asked_twice_is_two_linked_polls(client: TestClient, tokens: IssuedTokens) -> None:
    with client.websocket_connect(f"/ws/producer?token={tokens.producer}") as ws:
        polls = recv_until(ws, "hello")["event"]["polls"]
    pair = [(p["key"], p["phase"]) for p in polls if p["pair_key"] == "trust"]
    assert pair == [("trust-before", "before"), ("trust-after", "after")]
    assert polls[-1]["key"] == "trust-after"  # asked at the close: opened last


def test_phone_answers_the_survey_and_the_producer_sees_the_table_check(
    client: TestClient, tokens: IssuedTokens
) -> None:
    phone_token = join(client, tokens.code)
    with (
        client.websocket_connect(f"/ws/producer?token={tokens.producer}") as producer,
        client.websocket_connect(f"/ws/phone?token={phone_token}") as phone,
    ):
        assert recv_until(phone, "hello")["evaluation"] is None  # not open yet
        early = {"type": "evaluation", "id": new_id(), "answers": {"themes": 2}}
        phone.send_json(early)
        assert recv_until(phone, "error")["code"] == "poll_closed"
        assert recv_until(producer, "hello")["evaluation_summary"]["status"] == "draft"
        producer.send_json({"type": "open_evaluation", "id": new_id()})
        recv_until(producer, "ack")
        survey = recv_until(phone, "evaluation")["evaluation"]
        assert [q["key"] for q in survey["questions"]] == ["fair-chance", "themes", "trust-use"]
        assert survey["tables"] == list(range(1, 17))
        for bad, words in (({"themes": 6}, "answers.themes"), ({"nope": 3}, "nope")):
            phone.send_json({"type": "evaluation", "id": new_id(), "answers": bad})
            err = recv_until(phone, "error")
            assert err["code"] == "invalid" and words in err["message"]
        phone.send_json({"type": "evaluation", "id": new_id(), "answers": {}, "table": 99})
        assert "no table 99" in recv_until(phone, "error")["message"]
        msg = {"type": "evaluation", "id": new_id(), "answers": {"themes": 2}, "table": 3}
        phone.send_json(msg)
        recv_until(phone, "ack")
        phone.send_json(msg)  # a resend changes nothing
        recv_until(phone, "ack")
        tables: list[Any] = []
        for _ in range(10):  # the open itself pushed a summary (no answers yet) first
            tables = recv_until(producer, "evaluation_summary")["summary"]["synthesis"]["tables"]
            if tables:
                break
        row = tables[0]
        # One answer at table 3: counted, but its mean is not shown on its own.
        assert row == {"table": 3, "answered": 1, "mean": None, "flagged": False}
    with client.websocket_connect(f"/ws/phone?token={phone_token}") as phone:
        again = recv_until(phone, "hello")["evaluation"]
        assert again["answers"] == {"themes": 2} and again["table"] == 3


def test_followup_contacts_are_not_linked_and_never_exported(
    client: TestClient, tokens: IssuedTokens, settings: Settings, tmp_path: Path
) -> None:
    phone_token = join(client, tokens.code)
    with client.websocket_connect(f"/ws/phone?token={phone_token}") as phone:
        recv_until(phone, "hello")
        for email in ("Ana@Example.org ", "ana@example.org", "bo@example.org"):
            phone.send_json({"type": "followup", "id": new_id(), "email": email})
            recv_until(phone, "ack")
        phone.send_json({"type": "followup", "id": new_id(), "email": "not-an-email"})
        assert recv_until(phone, "error")["code"] == "invalid"
        phone.send_json(
            {"type": "followup", "id": new_id(), "email": "bo@example.org", "remove": True}
        )
        recv_until(phone, "ack")
    columns = db_columns(settings.db_url, "followup_contact")
    rows = db_rows(settings.db_url, "SELECT email, created_on FROM followup_contact")
    assert columns == ["id", "event_id", "email", "created_on"]  # no participant, no time
    assert [r[0] for r in rows] == ["ana@example.org"] and len(rows[0][1]) == 10

    async def exports() -> tuple[list[Path], int, int]:
        db = Database(settings.db_url)
        try:
            paths = await export_event(db, "riverton-budget", tmp_path / "export", "json")
            n = await followup.export_contacts(db, "riverton-budget", tmp_path / "contacts.csv")
            deleted = await followup.delete_email(db, "ANA@example.org")
            return paths, n, deleted
        finally:
            await db.dispose()

    paths, exported, deleted = asyncio.run(exports())
    assert paths and all("example.org" not in p.read_text() for p in paths)
    assert exported == 1 and "ana@example.org" in (tmp_path / "contacts.csv").read_text()
    assert oct((tmp_path / "contacts.csv").stat().st_mode & 0o777) == "0o600"
    assert deleted == 1
    assert db_rows(settings.db_url, "SELECT count(*) FROM followup_contact") == [(0,)]
