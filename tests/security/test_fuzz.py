"""Fuzzing the protocol against the real server: arbitrary and near-valid frames
from every role are each answered (ack or error) and never hurt anyone else."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from tests.support.live import TIMEOUT, join, recv_json
from tests.support.server import LiveServer

ROLES = ["phone", "table", "team", "producer", "display"]  # endpoints
TOKEN_ROLES = ["participant", "table", "team", "producer", "display"]
# One valid example per message type: the seeds mutations start from.
SEEDS: dict[str, dict[str, Any]] = {
    "ping": {},
    "comment": {"seq": 1, "text": "buses", "question_id": 1, "star": False},
    "star": {"comment": str(uuid.UUID(int=1)), "star": True},
    "demographics": {"answers": {"age": "16-29"}},
    "vote": {"poll_id": 1, "seq": 1, "choice": ["bike"]},
    "set_question": {"question_id": 1},
    "open_poll": {"poll_id": 1, "seconds": 60},
    "close_poll": {"poll_id": 1},
    "screen": {"mode": "join"},
    "rename": {"question_id": 1, "theme": "t", "version": 1, "label": "x"},
    "merge": {"question_id": 1, "themes": ["a"], "into": "b", "versions": {"a": 1}},
    "publish": {"question_id": 1, "themes": {"a": 1}},
    "poll_from_themes": {"question_id": 1, "kind": "multi"},
    "reissue_token": {"role": "display"},
}
# Frames that could lock the fuzzer out of its own connections (token administration).
SELF_HARM = frozenset({"reissue_token", "revoke_token"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=10), kids, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(SEEDS)))
    msg: dict[str, Any] = {"type": kind, **SEEDS[kind]}
    if kind != "ping":
        msg["id"] = draw(st.sampled_from([str(uuid.uuid4()), "not-a-uuid", 7, None, ""]))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["drop", "retype", "extra", "kind"]))
        if action == "drop" and msg:
            msg.pop(draw(st.sampled_from(sorted(msg))))
        elif action == "retype" and msg:
            msg[draw(st.sampled_from(sorted(msg)))] = draw(json_values)
        elif action == "extra":
            msg[draw(st.text(max_size=8))] = draw(json_values)
        else:
            msg["type"] = draw(st.sampled_from([*sorted(SEEDS), "", "ACK", "hello"]))
    return msg


frames = st.one_of(
    near_valid().map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),  # mostly not JSON at all
    st.sampled_from(["[" * 5000 + "]" * 5000, '{"type": "comment"' * 100, "", "null", "\x00"]),
    st.binary(max_size=64),
)


async def answer(ws: ClientConnection) -> dict[str, Any]:
    """The next ack/error/pong: each frame is answered in order; pushes are skipped."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            msg = await recv_json(ws)
            if msg["type"] in ("ack", "error", "pong"):
                return msg


def healthz(base: str) -> int:
    with urllib.request.urlopen(f"{base}/healthz", timeout=TIMEOUT) as r:
        return int(r.status)


@pytest.mark.parametrize(
    "server_process",
    [{"TOWNHALL_RATE_LIMITS": json.dumps({r: [1000, 1000] for r in TOKEN_ROLES})}],
    indirect=True,
)
async def test_arbitrary_frames_are_answered_and_never_hurt_another_client(
    server_process: LiveServer,
) -> None:
    s = server_process
    t = s.tokens
    phone = await asyncio.to_thread(join, s)
    tokens = {
        "phone": phone,
        "table": t.tables[1],
        "team": t.team,
        "producer": t.producer,
        "display": t.display,
    }
    conns = {role: await connect(s.ws_url(role, tok)) for role, tok in tokens.items()}
    bystander = await connect(s.ws_url("table", t.tables[2]))
    for ws in [*conns.values(), bystander]:
        await recv_json(ws)
    seen: dict[str, int] = {}
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(role=st.sampled_from(ROLES), frame=frames)
    def check(role: str, frame: str | bytes) -> None:
        if isinstance(frame, str) and any(f'"{k}"' in frame for k in SELF_HARM):
            frame = frame.replace("reissue_token", "x").replace("revoke_token", "x")

        async def one() -> None:
            ws = conns[role]
            await ws.send(frame)
            reply = await answer(ws)
            key = reply.get("code") or reply["type"]
            seen[key] = seen.get(key, 0) + 1
            await bystander.send(json.dumps({"type": "ping"}))
            assert (await answer(bystander))["type"] == "pong"

        asyncio.run_coroutine_threadsafe(one(), loop).result(TIMEOUT * 2)

    try:
        await asyncio.to_thread(check)
        assert await asyncio.to_thread(healthz, s.base) == 200
    finally:
        for ws in [*conns.values(), bystander]:
            await ws.close()
    print(f"\nfuzz answers by code: {dict(sorted(seen.items()))}")
    assert "server_error" not in seen
    assert "Traceback" not in s.log_text()
