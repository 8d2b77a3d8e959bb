"""Census-weighted results and demographic breakdowns reach the screens, small groups hidden."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id
from tests.support.testclient import join, recv_until


def vote_as(client: TestClient, code: str, poll_id: int, age: str, choice: str) -> None:
    token = join(client, code)
    with client.websocket_connect(f"/ws/phone?token={token}") as phone:
        phone.receive_json()
        phone.send_json({"type": "demographics", "id": new_id(), "answers": {"age": age}})
        recv_until(phone, "ack")
        phone.send_json(
            {"type": "vote", "id": new_id(), "poll_id": poll_id, "seq": 1, "choice": [choice]}
        )
        assert recv_until(phone, "ack", "error")["type"] == "ack"


def test_breakdown_suppresses_small_groups_and_weights_to_the_census(
    settings: Settings, tokens: IssuedTokens
) -> None:
    settings = settings.model_copy(update={"breakdown_interval": 0.1})
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod:
            ev = prod.receive_json()["event"]
            poll = next(p for p in ev["polls"] if p["key"] == "warmup")
            prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
            recv_until(prod, "ack")
        # 11 people aged 16-29 drive, 12 aged 30-44 go by bike, 3 aged 65+ walk.
        for _ in range(11):
            vote_as(client, tokens.code, poll["id"], "16-29", "car")
        for _ in range(12):
            vote_as(client, tokens.code, poll["id"], "30-44", "bike")
        for _ in range(3):
            vote_as(client, tokens.code, poll["id"], "65-plus", "walk")
        with client.websocket_connect(f"/ws/display?token={tokens.display}") as display:
            hello: dict[str, Any] = display.receive_json()
    bd = next(b for b in hello["breakdowns"] if b["poll_id"] == poll["id"])
    age = next(c for c in bd["crosstabs"] if c["question_key"] == "age")
    rows = {r["key"]: r for r in age["rows"]}
    assert rows["30-44"]["participants"] == 12 and not rows["30-44"]["suppressed"]
    bike = next(o for o in rows["30-44"]["result"]["options"] if o["key"] == "bike")
    assert bike["count"] == 12
    assert rows["65-plus"]["suppressed"] and rows["65-plus"]["participants"] is None
    assert rows["65-plus"]["result"] is None
    # With one group hidden, the next smallest (16-29, 11 people) is hidden too,
    # or the total minus the shown groups would give the 65+ figures away.
    assert rows["16-29"]["suppressed"] and rows["16-29"]["result"] is None
    # Weighting the 65+ to their census share would raise "walk" from 3/26 =
    # 11.5 % to about 27.5 %, and so tell the screen that the suppressed 65+ are
    # exactly the people who walk. People in a suppressed group are not weighted
    # by that question: only 30-44 is left, so weighting by age changes nothing.
    weighted = {o["key"]: o for o in bd["weighted"]["options"]}
    assert abs(weighted["walk"]["percent"] - 100 * 3 / 26) < 0.01
    assert abs(weighted["walk"]["weighted_percent"] - 100 * 3 / 26) < 0.01
    assert abs(bd["weighted"]["effective_sample_size"] - 26) < 0.01
