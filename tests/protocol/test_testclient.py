"""Protocol level 1: Starlette's TestClient, no sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id
from tests.support.testclient import join, recv_until


@pytest.fixture
def client(settings: Settings, tokens: IssuedTokens) -> Any:
    with TestClient(create_app(settings)) as c:
        yield c


def test_comment_is_acked_once_and_resend_gets_the_same_ack(
    client: TestClient, tokens: IssuedTokens
) -> None:
    with client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["table"]["name"] == "Table 1"
        assert hello["last_seq"] == 0
        cid = new_id()
        msg = {"type": "comment", "id": cid, "seq": 1, "text": "More buses after 10pm"}
        ws.send_json(msg)
        first = recv_until(ws, "ack")
        ws.send_json(msg)
        second = recv_until(ws, "ack")
    assert first["id"] == second["id"] == cid
    assert first["comment_id"] == second["comment_id"]
    with client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as ws:
        assert ws.receive_json()["last_seq"] == 1


def test_reused_seq_with_new_id_is_refused_with_a_clear_error(
    client: TestClient, tokens: IssuedTokens
) -> None:
    with client.websocket_connect(f"/ws/table?token={tokens.tables[2]}") as ws:
        ws.receive_json()
        ws.send_json({"type": "comment", "id": new_id(), "seq": 1, "text": "first"})
        recv_until(ws, "ack")
        bad = new_id()
        ws.send_json({"type": "comment", "id": bad, "seq": 1, "text": "second"})
        err = recv_until(ws, "error")
    assert err["id"] == bad and err["code"] == "conflict"
    assert "sequence 1" in err["message"]


def test_bad_token_is_closed_with_policy_code(client: TestClient) -> None:
    with client.websocket_connect("/ws/table?token=nope") as ws:
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 1008


def test_a_table_token_cannot_open_the_phone_endpoint(
    client: TestClient, tokens: IssuedTokens
) -> None:
    with client.websocket_connect(f"/ws/phone?token={tokens.tables[1]}") as ws:
        assert "table role" in ws.receive_json()["message"]
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 1008


def test_foreign_origin_is_refused(client: TestClient, tokens: IssuedTokens) -> None:
    with client.websocket_connect(
        f"/ws/display?token={tokens.display}", headers={"origin": "https://evil.example"}
    ) as ws:
        ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 1008


def test_malformed_and_unknown_messages_get_protocol_errors_and_the_connection_stays(
    client: TestClient, tokens: IssuedTokens
) -> None:
    with client.websocket_connect(f"/ws/table?token={tokens.tables[3]}") as ws:
        ws.receive_json()
        ws.send_text("{not json")
        assert recv_until(ws, "error")["code"] == "invalid"
        ws.send_text(json.dumps({"type": "launch_rockets"}))
        assert recv_until(ws, "error")["code"] == "unknown_type"
        ws.send_json({"type": "comment", "id": new_id(), "seq": 1, "text": "   "})
        assert "empty" in recv_until(ws, "error")["message"]
        ws.send_json({"type": "vote", "id": new_id(), "poll_id": 1, "seq": 1, "choice": ["x"]})
        assert recv_until(ws, "error")["code"] == "forbidden"
        ws.send_json({"type": "comment", "id": new_id(), "seq": 1, "text": "still here"})
        assert recv_until(ws, "ack")["seq"] == 1


def test_frame_over_limit_closes_with_1009(client: TestClient, tokens: IssuedTokens) -> None:
    with client.websocket_connect(f"/ws/table?token={tokens.tables[4]}") as ws:
        ws.receive_json()
        ws.send_text("x" * 70_000)
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 1009


def test_display_is_read_only(client: TestClient, tokens: IssuedTokens) -> None:
    with client.websocket_connect(f"/ws/display?token={tokens.display}") as ws:
        hello = ws.receive_json()
        assert hello["event"]["code"] == "RIVER26"
        ws.send_json({"type": "screen", "id": new_id(), "mode": "join"})
        assert recv_until(ws, "error")["code"] == "forbidden"


def test_vote_flow_open_vote_change_close_and_late_vote_refused(
    client: TestClient, tokens: IssuedTokens
) -> None:
    participant = join(client, "river26")
    with (
        client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod,
        client.websocket_connect(f"/ws/phone?token={participant}") as phone,
    ):
        ev = prod.receive_json()["event"]
        poll = next(p for p in ev["polls"] if p["kind"] == "multi")
        hello = phone.receive_json()
        assert hello["poll"] is None
        prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
        recv_until(prod, "ack")
        pushed = recv_until(phone, "poll")
        assert pushed["poll"]["status"] == "open"
        phone.send_json(
            {
                "type": "vote",
                "id": new_id(),
                "poll_id": poll["id"],
                "seq": 2,
                "choice": ["housing", "parks"],
            }
        )
        assert recv_until(phone, "ack", "error")["type"] == "ack"
        # An older ballot arriving late must not replace the newer one.
        phone.send_json(
            {"type": "vote", "id": new_id(), "poll_id": poll["id"], "seq": 1, "choice": ["roads"]}
        )
        stale = recv_until(phone, "ack")
        assert stale["applied"] is False
        phone.send_json(
            {
                "type": "vote",
                "id": new_id(),
                "poll_id": poll["id"],
                "seq": 3,
                "choice": ["transit"] * 3,
            }
        )
        assert recv_until(phone, "ack", "error")["type"] == "ack"
        phone.send_json(
            {
                "type": "vote",
                "id": new_id(),
                "poll_id": poll["id"],
                "seq": 4,
                "choice": ["housing", "parks", "roads", "youth"],
            }
        )
        too_many = recv_until(phone, "ack", "error")
        assert too_many["type"] == "error" and too_many["code"] == "invalid"
        assert "at most 3" in too_many["message"]
        tally = recv_until(prod, "tally")
        while tally["result"]["turnout"] < 1 or tally["result"]["options"][1]["count"] == 0:
            tally = recv_until(prod, "tally")
        counts = {o["key"]: o["count"] for o in tally["result"]["options"]}
        assert counts["transit"] == 1 and counts["housing"] == 0 and counts["roads"] == 0
        prod.send_json({"type": "close_poll", "id": new_id(), "poll_id": poll["id"]})
        recv_until(prod, "ack")
        late = {
            "type": "vote",
            "id": new_id(),
            "poll_id": poll["id"],
            "seq": 9,
            "choice": ["parks"],
        }
        phone.send_json(late)
        err = recv_until(phone, "error")
    assert err["code"] == "poll_closed" and "closed" in err["message"]


def test_join_with_unknown_code_says_so(client: TestClient) -> None:
    r = client.post("/api/join", json={"code": "NOPE1"})
    assert r.status_code == 404 and "No meeting has this code" in r.json()["error"]
    assert "NOPE1" not in r.text, "the answer never echoes what was sent"


def test_healthz_and_csp(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["event"] == "riverton-budget"
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_producer_downloads_the_report_and_no_one_else_can(
    client: TestClient, tokens: IssuedTokens
) -> None:
    r = client.get(f"/producer/report?token={tokens.producer}")
    assert r.status_code == 200 and "Riverton: Our City, Our Budget" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "<script" not in r.text and "<style" not in r.text
    assert client.get(f"/producer/report?token={tokens.display}").status_code == 403
