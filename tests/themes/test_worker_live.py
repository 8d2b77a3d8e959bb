"""Comments typed at tables become themes on the theme team's screen (real server)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from server.themes.batches import PLACE_EVERY
from tests.support.example import new_id
from tests.support.live import recv_until, sample_texts, send_comments
from tests.support.server import LiveServer


async def wait_for_all_themed(team: object, ids: list[int]) -> dict[str, object]:
    # The first themes wait for the model to load: seconds when the machine is
    # quiet, much longer when it is shared, so this wait is generous.
    while True:
        msg = await recv_until(team, "themes", within=120)  # type: ignore[arg-type]
        placed = {m for t in msg["themes"] for m in t["members"]} | set(msg["unassigned"])
        if placed >= set(ids) and msg["themes"]:
            return msg


@pytest.mark.parametrize("server_process", [{"TOWNHALL_THEMING": "true"}], indirect=True)
async def test_comments_become_themes_on_the_workbench_and_every_comment_is_accounted_for(
    server_process: LiveServer,
) -> None:
    s = server_process
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
    "server_process", [{"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "minilm"}], indirect=True
)
async def test_real_model_themes_survive_a_server_restart_with_stable_ids(
    server_process: LiveServer,
) -> None:
    from tests.support.server import start_server

    s = server_process
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


async def first_comment_placed(s: LiveServer, team: object) -> None:
    """One comment from a table the burst does not use, until the team sees it. The
    theming process starts beside the server and may not listen yet (a CI run under
    load: it joined after the burst began); comments committed before it listens
    are picked up from the database all at once, not in steps."""
    _, token = sorted(s.tokens.tables.items())[-1]
    async with connect(s.ws_url("table", token)) as table:
        await recv_until(table, "hello")
        text = "A first comment, before the burst"
        await table.send(json.dumps({"type": "comment", "id": new_id(), "seq": 1, "text": text}))
        cid = (await recv_until(table, "ack"))["comment_id"]
    while True:
        msg = await recv_until(team, "themes", within=120)  # type: ignore[arg-type]
        if cid in {m for t in msg["themes"] for m in t["members"]} | set(msg["unassigned"]):
            return


@pytest.mark.parametrize("server_process", [{"TOWNHALL_THEMING": "true"}], indirect=True)
async def test_a_burst_reaches_the_workbench_oldest_first_in_steps(
    server_process: LiveServer,
) -> None:
    """A burst bigger than one step is placed and published a step at a time,
    oldest first: the team sees its start while the rest is embedded."""
    s = server_process
    n = 2 * PLACE_EVERY + 40
    texts = [f"{t} (note {i})" for i, t in enumerate(sample_texts(150) * 3)][:n]
    partial: list[int] = []
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        await first_comment_placed(s, team)
        ids = await send_comments(s, texts)
        burst = set(ids)
        while True:
            msg = await recv_until(team, "themes", within=60)
            members = {m for t in msg["themes"] for m in t["members"]} & burst
            shown = (members | set(msg["unassigned"])) & burst
            # What is on the workbench is always the first comments sent.
            assert shown == set(ids[: len(shown)])
            if len(shown) == n:
                break
            if shown:
                partial.append(len(shown))
    assert partial, "the burst reached the workbench all at once"
