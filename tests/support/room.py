"""A room full of figures for the big-screen tests and screenshots: the hard-case
event (twelve options with long labels, two languages), sixty phones that answered
the demographic questions and voted in every poll, and a published theme set,
all through the real server and protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from server.core.budget import BUDGET_KINDS, demo_ballot
from tests.support.example import new_id
from tests.support.live import join, recv_until, reply_to
from tests.support.server import LiveServer

EVENT = Path(__file__).resolve().parent / "big-screen-event.toml"
PHONES = 60
TIMEOUT = 15
LONG_LABELS = [
    "Buses that run late enough for shift workers to get home safely",
    "Keep every branch library open, with longer hours at weekends",
]


async def recv(ws: ClientConnection, *kinds: str, within: float = TIMEOUT) -> dict[str, Any]:
    return await recv_until(ws, *kinds, within=within)


async def write(ws: ClientConnection, **msg: Any) -> dict[str, Any]:
    """One write, answered by its ack (or error) within the timeout."""
    msg.setdefault("id", new_id())
    await ws.send(json.dumps(msg))
    return await reply_to(ws, msg["id"])


def ballot(rng: random.Random, poll: dict[str, Any]) -> dict[str, Any]:
    """A phone's ballot with a clear favourite and a long tail (skewed, not uniform)."""
    keys = [o["key"] for o in poll["options"]]
    ordered = sorted(keys, key=lambda k: rng.random() * (1 + keys.index(k)) ** 0.8)
    if poll["kind"] in BUDGET_KINDS:
        return demo_ballot(rng, poll, ordered)
    n = {"multi": rng.randint(1, poll["max_choices"] or 1), "ranking": len(keys)}
    return {"choice": ordered[: n.get(poll["kind"], 1)]}


async def phone(server: LiveServer, i: int, stack: contextlib.AsyncExitStack) -> Any:
    """A joined phone that answered the demographic questions (near the census but
    not quite: most groups big enough to show, a few not); its open connection."""
    rng = random.Random(i)
    token = await asyncio.to_thread(join, server)
    ws = await stack.enter_async_context(connect(server.ws_url("phone", token)))
    hello = await recv(ws, "hello")
    answers = {}
    for q in hello["demographics"]:
        opts = [o["key"] for o in q["options"]]
        weights = [1.0 / (1 + k) ** 0.7 for k in range(len(opts))]
        answers[q["key"]] = rng.choices(opts, weights)[0]
    assert (await write(ws, type="demographics", answers=answers))["type"] == "ack"
    return ws


async def vote_all(phones: list[Any], poll: dict[str, Any], seq: int) -> None:
    async def one(i: int, ws: Any) -> None:
        rng = random.Random(i * 1000 + seq)
        reply = await write(ws, type="vote", poll_id=poll["id"], seq=seq, **ballot(rng, poll))
        assert reply["type"] == "ack", reply

    await asyncio.gather(*(one(i, ws) for i, ws in enumerate(phones)))


@dataclass
class Room:
    server: LiveServer
    event: dict[str, Any]
    question_id: int

    def poll(self, key: str) -> dict[str, Any]:
        return dict(next(p for p in self.event["polls"] if p["key"] == key))


async def fill_room(server: LiveServer, comments: list[str], long_labels: bool = True) -> Room:
    """Every poll opened, voted in by PHONES phones and closed but the last; the
    first question's comments themed and published (two renamed to long labels)."""
    async with (
        connect(server.ws_url("producer", server.tokens.producer)) as producer,
        connect(server.ws_url("team", server.tokens.team)) as team,
    ):
        event = (await recv(producer, "hello"))["event"]
        await recv(team, "hello")
        await write(producer, type="screen_follow", follow=False)
        async with contextlib.AsyncExitStack() as stack:
            phones = [await phone(server, i, stack) for i in range(PHONES)]
            # One poll open at a time, as in a room: opened, voted in, closed (but the last).
            for seq, p in enumerate(event["polls"], start=1):
                assert (await write(producer, type="open_poll", poll_id=p["id"]))["type"] == "ack"
                await vote_all(phones, {**p, "status": "open"}, seq)
                if seq < len(event["polls"]):
                    await write(producer, type="close_poll", poll_id=p["id"])
        question_id = await publish_themes(server, team, comments, long_labels)
        event = (await recv_hello(server))["event"]
    return Room(server, event, question_id)


async def recv_hello(server: LiveServer) -> dict[str, Any]:
    async with connect(server.ws_url("producer", server.tokens.producer)) as ws:
        return await recv(ws, "hello")


async def publish_themes(
    server: LiveServer, team: ClientConnection, comments: list[str], long_labels: bool = True
) -> int:
    tables = sorted(server.tokens.tables.values())
    for n, text in enumerate(comments):
        async with connect(server.ws_url("table", tables[n % len(tables)])) as table:
            hello = await recv(table, "hello")
            reply = await write(table, type="comment", seq=hello["last_seq"] + 1, text=text)
            assert reply["type"] == "ack", reply
    while True:  # the theming worker's first batch waits for its embedder
        msg = await recv(team, "themes", within=120)
        placed = sum(t["size"] for t in msg["themes"]) + len(msg["unassigned"])
        if placed >= len(comments):
            break
    q = int(msg["question_id"])
    assert (await write(team, type="retheme", question_id=q))["type"] == "ack"
    themes = (await write(team, type="sync", question_id=q))["themes"]["themes"]
    biggest = sorted(themes, key=lambda t: -t["size"])[:9]
    for t, label in zip(biggest, LONG_LABELS if long_labels else [], strict=False):
        reply = await write(
            team, type="rename", question_id=q, theme=t["key"], version=t["version"], label=label
        )
        assert reply["type"] == "ack", reply
    themes = (await write(team, type="sync", question_id=q))["themes"]["themes"]
    chosen = {t["key"]: t["version"] for t in themes if t["key"] in {b["key"] for b in biggest}}
    reply = await write(team, type="publish", question_id=q, themes=chosen)
    assert reply["type"] == "ack", reply
    return q
