"""Multi-site: phones join at a site; each site's screen shows its own figures."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id
from tests.support.testclient import recv_until


def vote_at(client: TestClient, code: str, site: str, poll_id: int, choice: str) -> None:
    r = client.post("/api/join", json={"code": code, "site": site})
    assert r.status_code == 200, r.text
    with client.websocket_connect(f"/ws/phone?token={r.json()['token']}") as phone:
        phone.receive_json()
        phone.send_json(
            {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": [choice]}
        )
        assert recv_until(phone, "ack", "error")["type"] == "ack"


def counts(hello: dict[str, Any], poll_id: int) -> dict[str, int]:
    tally = next(t for t in hello["tallies"] if t["poll"]["id"] == poll_id)
    return {o["key"]: o["count"] for o in tally["result"]["options"] if o["count"]}


def test_each_site_screen_shows_its_own_figures_and_the_main_screen_all(
    settings: Settings, tokens: IssuedTokens
) -> None:
    assert set(tokens.site_displays) == {"civic-hall", "north-library"}
    # Groups of 2 and 3 are shown from a small-cell threshold of 2 (tests/core/test_privacy.py
    # covers sites whose voters are too few to show).
    settings = settings.model_copy(update={"small_cell": 2})
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod:
            poll = next(p for p in prod.receive_json()["event"]["polls"] if p["key"] == "warmup")
            prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
            recv_until(prod, "ack")
        for _ in range(3):
            vote_at(client, tokens.code, "civic-hall", poll["id"], "bus")
        for _ in range(2):
            vote_at(client, tokens.code, "north-library", poll["id"], "walk")
        screens = {}
        for name, token in [("all", tokens.display), *tokens.site_displays.items()]:
            with client.websocket_connect(f"/ws/display?token={token}") as display:
                screens[name] = display.receive_json()
        bad_site = client.post("/api/join", json={"code": tokens.code, "site": "moon-base"})
    assert counts(screens["all"], poll["id"]) == {"bus": 3, "walk": 2}
    assert counts(screens["civic-hall"], poll["id"]) == {"bus": 3}
    assert counts(screens["north-library"], poll["id"]) == {"walk": 2}
    assert screens["north-library"]["site"]["name"] == "North Library"
    assert screens["all"]["site"] is None
    # Refused without echoing the key the client sent (docs/security.md).
    assert bad_site.status_code == 404 and "no such site" in bad_site.json()["error"]
    assert "moon-base" not in bad_site.json()["error"]


def test_site_screen_gets_live_tallies_of_its_site_only(
    settings: Settings, tokens: IssuedTokens
) -> None:
    settings = settings.model_copy(update={"small_cell": 1})  # one voter per site, shown
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod:
            poll = next(p for p in prod.receive_json()["event"]["polls"] if p["key"] == "warmup")
            prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
            recv_until(prod, "ack")
        north = tokens.site_displays["north-library"]
        with client.websocket_connect(f"/ws/display?token={north}") as display:
            display.receive_json()
            vote_at(client, tokens.code, "civic-hall", poll["id"], "car")
            vote_at(client, tokens.code, "north-library", poll["id"], "bike")
            tally = recv_until(display, "tally")
            while tally["result"]["turnout"] < 1:
                tally = recv_until(display, "tally")
    assert {o["key"]: o["count"] for o in tally["result"]["options"] if o["count"]} == {"bike": 1}
    assert tally["participants"] == 1
