"""Numbers past 32 bits get the same answer on every database. Sequence numbers are
64-bit: the phone page numbers its votes in milliseconds since 1970
(server/static/phone.js), past a 32-bit INTEGER, which PostgreSQL refused (every
phone's vote answered ``server_error``). A row id past the databases' 32-bit keys
is ``invalid``, where PostgreSQL answered ``server_error`` ("send it again": a
table's outbox would resend it forever). Run on SQLite and on PostgreSQL whichever
database the rest of the suite uses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.settings import Settings
from server.web.app import create_app
from tests.support.example import load_example, new_id
from tests.support.testclient import join, recv_until

PHONE_SEQ = int(time.time() * 1000)  # what phone.js sends: Date.now(), then +1
TABLE_SEQ = 2**40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'townhall.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def test_a_phone_vote_and_a_comment_numbered_past_32_bits_are_stored(any_db: str) -> None:
    tokens = load_example(any_db)
    settings = Settings(db_url=any_db, theming=False, embedder="hashing", check_protocol=True)
    with TestClient(create_app(settings)) as client:
        participant = join(client, tokens.code)
        with (
            client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod,
            client.websocket_connect(f"/ws/phone?token={participant}") as phone,
        ):
            poll = next(p for p in prod.receive_json()["event"]["polls"] if p["kind"] == "single")
            phone.receive_json()
            prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
            assert recv_until(prod, "ack", "error")["type"] == "ack"
            recv_until(phone, "poll")
            answers = []
            for seq, choice in ((PHONE_SEQ, "bike"), (PHONE_SEQ + 1, "car")):
                vote = {"type": "vote", "id": new_id(), "poll_id": poll["id"], "seq": seq}
                phone.send_json(vote | {"choice": [choice]})
                answers.append(recv_until(phone, "ack", "error"))
        assert [a["type"] for a in answers] == ["ack", "ack"], answers
        assert answers[1]["applied"] is True and answers[1]["seq"] == PHONE_SEQ + 1

        with client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as table:
            table.receive_json()
            table.send_json({"type": "comment", "id": new_id(), "seq": TABLE_SEQ, "text": "hi"})
            ack = recv_until(table, "ack", "error")
        assert ack["type"] == "ack" and ack["seq"] == TABLE_SEQ, ack
        with client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as table:
            assert table.receive_json()["last_seq"] == TABLE_SEQ


def test_an_id_past_32_bits_is_invalid_not_a_server_error(any_db: str) -> None:
    tokens = load_example(any_db)
    settings = Settings(db_url=any_db, theming=False, embedder="hashing", check_protocol=True)
    with TestClient(create_app(settings)) as client:
        participant = join(client, tokens.code)
        with client.websocket_connect(f"/ws/phone?token={participant}") as phone:
            phone.receive_json()
            vote = {"type": "vote", "id": new_id(), "poll_id": 2**40, "seq": 1, "choice": ["a"]}
            phone.send_json(vote)
            voted = recv_until(phone, "ack", "error")
        with client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as table:
            table.receive_json()
            comment = {"type": "comment", "id": new_id(), "seq": 1, "text": "hi"}
            table.send_json(comment | {"question_id": 2**40})
            commented = recv_until(table, "ack", "error")
    assert (voted["code"], commented["code"]) == ("invalid", "invalid"), (voted, commented)
    assert "poll_id" in voted["message"] and "question_id" in commented["message"]
