"""No message to a big screen ever carries the size of a demographic group
smaller than the small-cell threshold (TOWNHALL_SMALL_CELL, 10)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import join, recv_json, reply_to
from tests.support.server import LiveServer

THRESHOLD = 10
# How each by-group table names a group's size.
GROUP_SIZE_KEYS = ("participants", "paired")


def group_counts(msg: Any) -> list[int]:
    """Every group size in a display message: demographic option counts and
    crosstab row sizes, wherever they appear (hello, pushes)."""
    found: list[int] = []
    if isinstance(msg, dict):
        if "rows" in msg and "threshold" in msg:  # a by-group table (crosstab, shift, …)
            for row in msg["rows"]:
                sizes = [row.get(k) for k in GROUP_SIZE_KEYS]
                found += [n for n in sizes if isinstance(n, int)]
        if "census" in msg and "count" in msg:  # a demographic option
            if msg["count"] is not None:
                found.append(msg["count"])
        for value in msg.values():
            found += group_counts(value)
    elif isinstance(msg, list):
        for value in msg:
            found += group_counts(value)
    return found


async def phone(s: LiveServer, poll_id: int, age: str, tenure: str, choice: str) -> None:
    token = await asyncio.to_thread(join, s)
    async with connect(s.ws_url("phone", token)) as ws:
        await recv_json(ws)
        mid = new_id()
        answers = {"age": age, "tenure": tenure}
        await ws.send(json.dumps({"type": "demographics", "id": mid, "answers": answers}))
        assert (await reply_to(ws, mid))["type"] == "ack"
        mid = new_id()
        vote = {"type": "vote", "id": mid, "poll_id": poll_id, "seq": 1, "choice": [choice]}
        await ws.send(json.dumps(vote))
        assert (await reply_to(ws, mid))["type"] == "ack"


@pytest.mark.parametrize("live_server", [{"TOWNHALL_BREAKDOWN_INTERVAL": "0.2"}], indirect=True)
async def test_no_display_message_carries_a_group_smaller_than_the_threshold(
    live_server: LiveServer,
) -> None:
    s = live_server
    seen: list[dict[str, Any]] = []
    async with (
        connect(s.ws_url("display", s.tokens.display), max_size=2**24) as display,
        connect(s.ws_url("producer", s.tokens.producer), max_size=2**24) as producer,
    ):
        event = (await recv_json(producer))["event"]
        seen.append(await recv_json(display))
        poll = next(p for p in event["polls"] if p["key"] == "warmup")
        mid = new_id()
        await producer.send(json.dumps({"type": "open_poll", "id": mid, "poll_id": poll["id"]}))
        await reply_to(producer, mid)
        # 12 people aged 30-44 (shown), 3 aged 65+ and 1 aged 16-29 (hidden);
        # tenure 13 rent / 2 own / 1 other.
        crowd = [("30-44", "rent", "bike")] * 12 + [("65-plus", "own", "walk")] * 2
        crowd += [("65-plus", "rent", "car"), ("16-29", "other", "car")]
        for who in crowd:
            await phone(s, poll["id"], *who)
        # Read until a breakdown has counted everyone, then a little longer.
        async with asyncio.timeout(15):
            while True:
                msg = await recv_json(display)
                seen.append(msg)
                if msg["type"] == "breakdown" and any(
                    r["participants"] == 12 for c in msg["crosstabs"] for r in c["rows"]
                ):
                    break
        async with connect(s.ws_url("display", s.tokens.display), max_size=2**24) as late:
            seen.append(await recv_json(late))  # a hello after the votes
    counts = group_counts(seen)
    assert 12 in counts, "the test saw real group sizes"
    assert [c for c in counts if 0 < c < THRESHOLD] == []
    kinds = {m["type"] for m in seen}
    assert {"hello", "breakdown", "demographics"} <= kinds
