"""The demo's simulated table, against a scripted table endpoint: when the producer
moves on while a comment is on its way, that comment keeps the question it answers
and the next one answers the new question. (Through the real server the moment is
a race; here it is made to happen every time.)"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from server.cli.simulation import (
    EVENT_FILE,
    MAX_THEMES,
    Simulation,
    _curate_question,
    sample_comments,
)
from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens


async def test_a_comment_on_its_way_keeps_its_question_and_the_next_answers_the_new_one() -> None:
    spec = load_event_file(EVENT_FILE)
    first, second = [q for r in spec.rounds for q in r.questions][:2]
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def table_endpoint(ws: ServerConnection) -> None:
        question = {"id": 1, "text": first.text}
        await ws.send(json.dumps({"type": "hello", "last_seq": 0, "question": question}))
        comment = json.loads(await ws.recv())
        sent.append(comment)
        # The producer moves on before the comment is acknowledged.
        moved = {"id": 2, "text": second.text}
        await ws.send(json.dumps({"type": "question", "question": moved}))
        await asyncio.sleep(0.05)
        await ws.send(json.dumps({"type": "ack", "id": comment["id"]}))
        sent.append(json.loads(await ws.recv()))
        done.set()
        await ws.wait_closed()

    async with serve(table_endpoint, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        tokens = IssuedTokens(event_id=1, code="X", producer="p", team="t", display="d")
        sim = Simulation(f"http://127.0.0.1:{port}", tokens, pace=0.001)
        table = asyncio.create_task(sim.table(1, "token"))
        try:
            await asyncio.wait_for(done.wait(), 10)
        finally:
            table.cancel()
            await asyncio.gather(table, return_exceptions=True)

    comments = sample_comments()
    before, after = sent
    assert before["question_id"] == 1 and before["text"] in comments[first.key]
    assert after["question_id"] == 2 and after["text"] in comments[second.key]
    assert after["seq"] == before["seq"] + 1


async def test_the_simulated_team_takes_a_label_the_comments_now_suggest() -> None:
    """A published theme keeps its label until the team changes it; the demo's team
    takes the label its comments now suggest, then publishes what it has seen."""
    themes = {
        "a": {"key": "a", "size": 30, "version": 4, "quotes": [], "label": "Algae in summer"},
        "b": {"key": "b", "size": 20, "version": 2, "quotes": [], "label": "Old houses"},
    }
    themes["a"]["suggested_label"] = "Keep the river clean"
    sent: list[dict[str, Any]] = []

    async def op(msg: dict[str, Any]) -> dict[str, Any]:
        sent.append(msg)
        if msg["type"] == "rename":
            theme = themes[msg["theme"]]
            assert msg["version"] == theme["version"]
            theme.update(label=msg["label"], version=theme["version"] + 1, suggested_label=None)
        listed = [dict(t) for t in themes.values()]
        return {"type": "ack", "themes": {"themes": listed}}

    published: dict[int, set[str]] = {}
    await _curate_question(op, 7, published, pinned={"a", "b"}, may_publish=True)
    renames = [m for m in sent if m["type"] == "rename"]
    assert renames == [
        {
            "type": "rename",
            "question_id": 7,
            "theme": "a",
            "label": "Keep the river clean",
            "version": 4,
        }
    ]
    publish = next(m for m in sent if m["type"] == "publish")
    assert publish["themes"] == {"a": 5, "b": 2}  # the versions after the rename
    assert published == {7: {"a", "b"}}


async def test_the_simulated_team_merges_a_small_theme_into_the_one_about_the_same_thing() -> None:
    """Above MAX_THEMES the smallest goes into the theme sharing most keywords
    with it, not merely the next smallest (the demo glued unrelated themes)."""
    themes = {
        k: {"key": k, "size": size, "version": 1, "quotes": [], "label": k, "keywords": words}
        for k, size, words in [
            ("bus", 3, ["bus", "routes", "night"]),
            ("parks", 4, ["parks", "trees"]),
            ("transit", 40, ["bus", "routes", "fares"]),
            *[(f"other{i}", 10 + i, [f"w{i}"]) for i in range(MAX_THEMES - 1)],
        ]
    }
    sent: list[dict[str, Any]] = []

    async def op(msg: dict[str, Any]) -> dict[str, Any]:
        sent.append(msg)
        if msg["type"] == "merge":
            for k in msg["themes"]:
                themes[msg["into"]]["size"] += themes.pop(k)["size"]
        return {"type": "ack", "themes": {"themes": [dict(t) for t in themes.values()]}}

    await _curate_question(op, 7, {}, pinned=set(), may_publish=False)
    merges = [(m["themes"], m["into"]) for m in sent if m["type"] == "merge"]
    assert merges == [(["bus"], "transit")]
