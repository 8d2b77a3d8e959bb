"""Nobody acts beyond their role: every write a role may not send is refused with
``forbidden`` and changes nothing; every page and endpoint checks its role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id

# One well-formed example of every client write, so the role check (not the parser)
# is what refuses it.
WRITES: dict[str, dict[str, Any]] = {
    "comment": {"seq": 1, "text": "a comment"},
    "star": {"comment": "6f1c1c0e-5b8a-4d7e-9a55-3c8e0c3b8a11", "star": True},
    "demographics": {"answers": {"age": "16-29"}},
    "vote": {"poll_id": 1, "seq": 1, "choice": ["bike"]},
    "set_question": {"question_id": None},
    "open_poll": {"poll_id": 1},
    "close_poll": {"poll_id": 1},
    "screen": {"mode": "join"},
    "rename": {"question_id": 1, "theme": "t1", "version": 1, "label": "x"},
    "discard": {"question_id": 1, "comment": 1, "reason": "spam"},
    "publish": {"question_id": 1, "themes": {}},
    "poll_from_themes": {"question_id": 1, "kind": "multi"},
    "reissue_token": {"role": "table", "table": 1},
    "revoke_token": {"role": "display"},
}
ALLOWED = {
    "table": {"comment", "star"},
    "participant": {"demographics", "vote"},
    "team": {"rename", "discard", "publish"},
    "producer": {
        "set_question",
        "open_poll",
        "close_poll",
        "screen",
        "poll_from_themes",
        "reissue_token",
        "revoke_token",
    },
    "display": set(),
}
ENDPOINT = {
    "table": "table",
    "participant": "phone",
    "team": "team",
    "producer": "producer",
    "display": "display",
}


@pytest.fixture
def client(settings: Settings, tokens: IssuedTokens) -> Iterator[TestClient]:
    # Generous rate limits: these tests are about roles, not rates.
    roomy = settings.model_copy(update={"rate_limits": {r: (100.0, 100.0) for r in ALLOWED}})
    with TestClient(create_app(roomy)) as c:
        yield c


def token_for(client: TestClient, tokens: IssuedTokens, role: str) -> str:
    if role == "participant":
        r = client.post("/api/join", json={"code": tokens.code})
        return str(r.json()["token"])
    return {
        "table": tokens.tables[1],
        "team": tokens.team,
        "producer": tokens.producer,
        "display": tokens.display,
    }[role]


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_is_refused_every_write_beyond_it(
    client: TestClient, tokens: IssuedTokens, role: str
) -> None:
    token = token_for(client, tokens, role)
    refused = {}
    with client.websocket_connect(f"/ws/{ENDPOINT[role]}?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        for kind in sorted(set(WRITES) - ALLOWED[role]):
            mid = new_id()
            ws.send_json({"type": kind, "id": mid, **WRITES[kind]})
            reply = ws.receive_json()
            while reply["type"] not in ("ack", "error"):
                reply = ws.receive_json()
            assert reply["id"] == mid
            refused[kind] = reply["code"]
        # Still usable afterwards: a refusal is an answer, not a dropped connection.
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
    assert refused and set(refused.values()) == {"forbidden"}, refused


def test_participant_cannot_send_a_comment_and_nothing_is_stored(
    client: TestClient, tokens: IssuedTokens
) -> None:
    token = token_for(client, tokens, "participant")
    with client.websocket_connect(f"/ws/phone?token={token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "comment", "id": new_id(), "seq": 1, "text": "sneaky"})
        assert ws.receive_json()["code"] == "forbidden"
    with client.websocket_connect(f"/ws/team?token={tokens.team}") as team:
        assert all(c["text"] != "sneaky" for c in team.receive_json()["comments"])


@pytest.mark.parametrize("role", list(ENDPOINT))
def test_every_token_is_refused_on_every_other_endpoint(
    client: TestClient, tokens: IssuedTokens, role: str
) -> None:
    token = token_for(client, tokens, role)
    for other, endpoint in ENDPOINT.items():
        if other == role:
            continue
        with client.websocket_connect(f"/ws/{endpoint}?token={token}") as ws:
            err = ws.receive_json()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert err["code"] == "forbidden" and closed.value.code == 1008, (role, endpoint)


PAGES = {
    "producer": ["/producer?token={t}", "/producer/links?token={t}", "/producer/report?token={t}"],
    "team": ["/team?token={t}"],
    "display": ["/screen?token={t}"],
    "table": ["/t/{t}"],
}


@pytest.mark.parametrize("role", ["table", "participant", "team", "display", "producer"])
def test_role_pages_open_only_with_their_own_role(
    client: TestClient, tokens: IssuedTokens, role: str
) -> None:
    token = token_for(client, tokens, role)
    for page_role, urls in PAGES.items():
        for url in urls:
            status = client.get(url.format(t=token)).status_code
            if page_role == role:
                assert status == 200, url
            else:
                assert status == 403, (role, url)


def test_a_table_token_cannot_open_the_producer_console(
    client: TestClient, tokens: IssuedTokens
) -> None:
    r = client.get(f"/producer?token={tokens.tables[3]}")
    assert r.status_code == 403 and "not producer" in r.text
    r = client.post("/producer/links", data={"token": tokens.tables[3], "tables": "all"})
    assert r.status_code == 403
