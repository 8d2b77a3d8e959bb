"""Comments typed at tables become themes on the theme team's screen (real server)."""

from __future__ import annotations

import csv
import json

import pytest
from websockets.asyncio.client import connect

from server.cli.demo import SAMPLE
from tests.conftest import LiveServer, new_id
from tests.server.test_live_server import recv_until


def sample_texts(n: int) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)][:n]


async def send_comments(server: LiveServer, texts: list[str]) -> list[int]:
    ids: list[int] = []
    tables = sorted(server.tokens.tables.items())[:4]
    conns = [await connect(server.ws_url("table", tok)).__aenter__() for _, tok in tables]
    try:
        for c in conns:
            await recv_until(c, "hello")
        seqs = [0] * len(conns)
        for i, text in enumerate(texts):
            k = i % len(conns)
            seqs[k] += 1
            await conns[k].send(
                json.dumps({"type": "comment", "id": new_id(), "seq": seqs[k], "text": text})
            )
            ids.append((await recv_until(conns[k], "ack"))["comment_id"])
    finally:
        for c in conns:
            await c.close()
    return ids


async def wait_for_all_themed(team: object, ids: list[int]) -> dict[str, object]:
    # The first themes wait for the model to load: seconds when the machine is
    # quiet, much longer when it is shared, so this wait is generous.
    while True:
        msg = await recv_until(team, "themes", within=120)  # type: ignore[arg-type]
        placed = {m for t in msg["themes"] for m in t["members"]} | set(msg["unassigned"])
        if placed >= set(ids) and msg["themes"]:
            return msg


@pytest.mark.parametrize("live_server", [{"TOWNHALL_THEMING": "true"}], indirect=True)
async def test_comments_become_themes_on_the_workbench_and_every_comment_is_accounted_for(
    live_server: LiveServer,
) -> None:
    s = live_server
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        ids = await send_comments(s, sample_texts(40))
        msg = await wait_for_all_themed(team, ids)
    members = [m for t in msg["themes"] for m in t["members"]]
    assert len(members) == len(set(members)), "a comment sits in two themes"
    assert set(members) | set(msg["unassigned"]) == set(ids)
    for theme in msg["themes"]:
        assert theme["label"] and theme["size"] == len(theme["members"])
        assert all(q["id"] in theme["members"] for q in theme["quotes"])


@pytest.mark.model
@pytest.mark.parametrize(
    "live_server", [{"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "minilm"}], indirect=True
)
async def test_real_model_themes_survive_a_server_restart_with_stable_ids(
    live_server: LiveServer,
) -> None:
    from tests.conftest import start_server

    s = live_server
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        ids = await send_comments(s, sample_texts(60))
        before = await wait_for_all_themed(team, ids)
    s.proc.terminate()
    s.proc.wait(20)
    port = int(s.base.rsplit(":", 1)[1])
    s.proc, _ = start_server(s.db_url, s.log, s.env, port=port)
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        hello = await recv_until(team, "hello")
    after = {t["key"]: t for t in hello["themes"]}
    assert {t["key"] for t in before["themes"]} == set(after)
    for t in before["themes"]:
        assert after[t["key"]]["label"] == t["label"]
        assert after[t["key"]]["members"] == t["members"]
