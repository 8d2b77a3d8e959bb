"""Budget ballots and tables' allocations over the real protocol (Starlette TestClient)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from server.event.loader import IssuedTokens
from server.settings import Settings
from server.web.app import create_app
from tests.support.example import new_id
from tests.support.testclient import join, recv_until


@pytest.fixture
def client(settings: Settings, tokens: IssuedTokens) -> Any:
    with TestClient(create_app(settings)) as c:
        yield c


def open_poll(prod: Any, key: str) -> dict[str, Any]:
    poll: dict[str, Any] = next(p for p in prod.receive_json()["event"]["polls"] if p["key"] == key)
    prod.send_json({"type": "open_poll", "id": new_id(), "poll_id": poll["id"]})
    assert recv_until(prod, "ack", "error")["type"] == "ack"
    return poll


def test_allocation_votes_and_table_allocations_reach_the_tally(
    client: TestClient, tokens: IssuedTokens
) -> None:
    participant = join(client, "RIVER26")
    with (
        client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod,
        client.websocket_connect(f"/ws/phone?token={participant}") as phone,
        client.websocket_connect(f"/ws/table?token={tokens.tables[3]}") as table,
    ):
        poll = open_poll(prod, "spread-100")
        assert poll["budget"] == 100 and poll["unit"] == "points"
        phone.receive_json()  # hello
        assert recv_until(phone, "poll")["poll"]["id"] == poll["id"]
        vote = {"type": "vote", "poll_id": poll["id"], "seq": 1}
        phone.send_json(vote | {"id": new_id(), "amounts": {"housing": 70, "parks": 50}})
        over = recv_until(phone, "ack", "error")
        assert over["code"] == "invalid"
        assert over["message"] == "That adds up to 120 points, over the budget of 100 points"
        phone.send_json(vote | {"id": new_id(), "amounts": {"housing": -5}})
        assert recv_until(phone, "error")["message"] == "Amounts can't be negative"
        phone.send_json(vote | {"id": new_id(), "amounts": {"casino": 5}})
        assert recv_until(phone, "error")["message"] == "Unknown option 'casino'"
        phone.send_json(vote | {"id": new_id(), "amounts": {"housing": 60, "parks": 40}})
        assert recv_until(phone, "ack", "error")["applied"] is True

        table.receive_json()  # hello
        msg = {
            "type": "table_allocation",
            "id": new_id(),
            "poll_id": poll["id"],
            "amounts": {"housing": 30, "transit": 70},
        }
        table.send_json(msg)
        ack = recv_until(table, "ack", "error")
        assert ack == {
            "type": "ack",
            "id": msg["id"],
            "poll_id": poll["id"],
            "amounts": {"housing": 30, "transit": 70},
        }
        table.send_json(msg)  # a resend is acked the same and stored once
        assert recv_until(table, "ack", "error") == ack
        # Latest wins: the table changes its mind.
        table.send_json(msg | {"id": new_id(), "amounts": {"housing": 50, "transit": 50}})
        assert recv_until(table, "ack", "error")["amounts"] == {"housing": 50, "transit": 50}
        table.send_json(msg | {"id": new_id(), "amounts": {"housing": 150}})
        refused = recv_until(table, "ack", "error")
        assert refused["code"] == "invalid" and "over the budget" in refused["message"]

        housing: dict[str, Any] = {}
        for _ in range(50):  # tallies are coalesced: wait for the one after the last write
            tally = recv_until(prod, "tally")
            if tally["poll"]["id"] == poll["id"]:
                budget = tally["budget"]
                housing = next(o for o in budget["tables"]["options"] if o["key"] == "housing")
                if housing["table_mean"] == 50.0:
                    break
        assert budget["ballots"] == 1 and budget["tables"]["tables"] == 1
        assert housing == {
            "key": "housing",
            "label": "Affordable housing",
            "table_mean": 50.0,
            "ballot_mean": 60.0,
        }
    # A reconnecting phone gets its amounts back.
    with client.websocket_connect(f"/ws/phone?token={participant}") as phone:
        assert phone.receive_json()["ballot"]["amounts"] == {"housing": 60, "parks": 40}


def test_projects_ballot_over_budget_is_refused_and_results_show_both_rules(
    client: TestClient, tokens: IssuedTokens
) -> None:
    participant = join(client, "RIVER26")
    with (
        client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod,
        client.websocket_connect(f"/ws/phone?token={participant}") as phone,
        client.websocket_connect(f"/ws/table?token={tokens.tables[1]}") as table,
    ):
        poll = open_poll(prod, "capital-projects")
        assert poll["costs"]["youth-centre"] == 500000
        phone.receive_json()
        vote = {"type": "vote", "poll_id": poll["id"], "seq": 1}
        phone.send_json(vote | {"id": new_id(), "choice": ["youth-centre", "bike-lanes", "roof"]})
        assert recv_until(phone, "error")["message"] == "Unknown option 'roof'"
        full = ["youth-centre", "bike-lanes", "library-roof"]  # exactly $1.2m
        phone.send_json(vote | {"id": new_id(), "choice": [*full, "playground"]})
        err = recv_until(phone, "error")
        assert err["code"] == "invalid" and err["message"].startswith(
            "Those projects cost $1,450,000, over the budget of $1,200,000"
        )
        phone.send_json(vote | {"id": new_id(), "choice": ["bike-lanes"], "amounts": {"x": 1}})
        assert recv_until(phone, "error")["message"] == "Amounts only apply to allocation polls"
        phone.send_json(vote | {"id": new_id(), "choice": full})
        assert recv_until(phone, "ack", "error")["type"] == "ack"
        # A table cannot send an allocation for a projects poll.
        table.receive_json()
        table.send_json(
            {"type": "table_allocation", "id": new_id(), "poll_id": poll["id"], "amounts": {}}
        )
        assert recv_until(table, "error")["code"] == "invalid"
        for _ in range(50):
            tally = recv_until(prod, "tally")
            if tally["poll"]["id"] == poll["id"] and tally["budget"]["ballots"] == 1:
                break
        result = tally["budget"]
        # One approval each: greedy breaks the tie by cost, cheapest first.
        assert result["greedy"]["funded"] == ["library-roof", "bike-lanes", "youth-centre"]
        # One voter holds the whole $1.2m: each rho is the full cost, so the same order.
        assert result["equal_shares"]["funded"] == ["library-roof", "bike-lanes", "youth-centre"]


def test_export_writes_budget_results_with_groups(
    client: TestClient, tokens: IssuedTokens, settings: Settings, tmp_path: Any
) -> None:
    import asyncio
    import json as jsonlib

    from server.report.export import export_event
    from server.storage.db import Database

    participant = join(client, "RIVER26")
    with (
        client.websocket_connect(f"/ws/producer?token={tokens.producer}") as prod,
        client.websocket_connect(f"/ws/phone?token={participant}") as phone,
    ):
        poll = open_poll(prod, "close-the-gap")
        phone.receive_json()
        vote = {"type": "vote", "id": new_id(), "poll_id": poll["id"], "seq": 1}
        phone.send_json(vote | {"choice": ["council-tax", "merge-offices", "parking"]})
        assert recv_until(phone, "ack", "error")["type"] == "ack"

    async def go() -> list[Any]:
        db = Database(settings.db_url)
        try:
            return await export_event(db, tokens.event_id, tmp_path, small_cell=10)
        finally:
            await db.dispose()

    paths = asyncio.run(go())
    budget_file = next(p for p in paths if p.name == "budget_results.json")
    rows = {r["poll_key"]: r for r in jsonlib.loads(budget_file.read_text())}
    gap = rows["close-the-gap"]["result"]
    # 900k + 600k + 500k = 2.0m: exactly closes the $2m gap.
    assert gap["balanced"] == 1 and gap["top_package"]["balance"] == 0
    age = rows["close-the-gap"]["by_group"][0]
    assert age["total"] is None or all(r["result"] is None for r in age["rows"] if r["suppressed"])
    assert rows["spread-100"]["result"]["ballots"] == 0
