"""Connection hygiene on the real server: sockets that never finish a request are
closed, connections are capped per address and in total, and the open-files limit
is raised at start-up (issue 23, item 1). Attackers connect from other loopback
addresses (127.0.0.2, 127.0.0.3) so the calm phone on 127.0.0.1 has its own cap."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.support.example import load_example, new_id
from tests.support.live import TIMEOUT, join, recv_until, reply_to
from tests.support.server import LiveServer, start_server

HEADER_TIMEOUT = 1.0
PER_ADDRESS = 120
SILENT = 150  # 30 over the per-address cap
SLOWLORIS = 20
VOTES = 20
P99_BOUND_MS = 500  # a vote's ack target is 250 ms; the test's own clients share the cores

HYGIENE = {
    "TOWNHALL_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
    "TOWNHALL_HANDSHAKE_TIMEOUT": str(HEADER_TIMEOUT),
    "TOWNHALL_MAX_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
}


async def _open(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def _closed_after(reader: asyncio.StreamReader) -> tuple[float, bytes]:
    """Seconds until the server closes this socket, and what it said first."""
    start = time.monotonic()
    said = b""
    async with asyncio.timeout(TIMEOUT):
        while chunk := await reader.read(4096):
            said += chunk
    return time.monotonic() - start, said


async def _slowloris(port: int, done: asyncio.Event) -> float:
    reader, writer = await _open(port, "127.0.0.3")
    start = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    with contextlib.suppress(ConnectionError):
        for i in range(int(10 * TIMEOUT)):
            await asyncio.sleep(0.3)
            if reader.at_eof():
                break
            writer.write(f"X-Slow-{i}: 1\r\n".encode())
            await writer.drain()
    with contextlib.suppress(ConnectionError, TimeoutError):
        await _closed_after(reader)
    writer.close()
    return time.monotonic() - start


async def _calm_phone_votes(s: LiveServer) -> list[float]:
    token = await asyncio.to_thread(join, s)
    async with (
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("phone", token)) as phone,
    ):
        event = (await recv_until(producer, "hello"))["event"]
        await recv_until(phone, "hello")
        poll = next(p for p in event["polls"] if p["kind"] == "single")
        mid = new_id()
        await producer.send(json.dumps({"type": "open_poll", "id": mid, "poll_id": poll["id"]}))
        assert (await reply_to(producer, mid))["type"] == "ack"
        latencies = []
        for seq in range(1, VOTES + 1):
            mid = new_id()
            start = time.perf_counter()
            choice = ["bike" if seq % 2 else "bus"]
            vote = {"type": "vote", "id": mid, "poll_id": poll["id"], "seq": seq, "choice": choice}
            await phone.send(json.dumps(vote))
            reply = await reply_to(phone, mid)
            latencies.append((time.perf_counter() - start) * 1000)
            assert reply["type"] == "ack", reply
            await asyncio.sleep(0.25)  # a phone may send 5 frames a second
    return sorted(latencies)


def _health(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/healthz", timeout=TIMEOUT) as r:
        health: dict[str, Any] = json.loads(r.read())
    return health


@pytest.mark.parametrize("server_process", [HYGIENE], indirect=True)
async def test_silent_and_slowloris_sockets_are_closed_and_a_calm_phone_keeps_voting(
    server_process: LiveServer,
) -> None:
    s = server_process
    port = int(s.base.rsplit(":", 1)[1])
    silent = [await _open(port, "127.0.0.2") for _ in range(SILENT)]
    stop = asyncio.Event()
    slow = [asyncio.create_task(_slowloris(port, stop)) for _ in range(SLOWLORIS)]
    latencies = await _calm_phone_votes(s)
    closed = await asyncio.gather(*(_closed_after(r) for r, _ in silent))
    slow_lived = await asyncio.gather(*slow)
    for _, w in silent:
        w.close()
    refused = [said for _, said in closed if said.startswith(b"HTTP/1.1 503")]
    dropped = [t for t, said in closed if not said]
    p50, p99 = latencies[len(latencies) // 2], latencies[-1]
    print(
        f"\n{len(refused)} of {SILENT} silent sockets refused (503) above the cap, "
        f"{len(dropped)} closed after the header deadline; slowloris lived "
        f"max {max(slow_lived):.1f} s; calm phone vote acks ms p50 {p50:.0f} p99 {p99:.0f}"
    )
    assert len(refused) == SILENT - PER_ADDRESS, "the cap per address refuses the rest at once"
    assert len(dropped) == PER_ADDRESS, "every admitted silent socket is closed"
    # Each was closed within the deadline of its connect (plus scheduling slack).
    assert max(slow_lived) < HEADER_TIMEOUT + 2, "slowloris sockets are cut at the deadline"
    assert p99 <= P99_BOUND_MS, f"calm phone p99 {p99:.0f} ms"
    assert "refused" in s.log_text() and "too many open from one address" in s.log_text()
    health = await asyncio.to_thread(_health, s.base)
    assert health["connections"]["max_per_address"] == PER_ADDRESS
    assert health["connections"]["refused"] >= SILENT - PER_ADDRESS


def test_open_files_limit_is_raised_to_the_hard_limit_and_reported(
    tmp_path: Path, db_url: str
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 512:
        pytest.skip(f"the hard open-files limit here is only {hard}")
    load_example(db_url)
    log = tmp_path / "server.log"
    # The server inherits a low soft limit, as under a default `ulimit -n 1024`.
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    try:
        proc, base = start_server(db_url, log)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        health = _health(base)
    finally:
        proc.terminate()
        proc.wait(10)
    expected = hard if hard != resource.RLIM_INFINITY else health["open_files"]
    assert health["open_files"] == expected > 512
    assert health["connections"]["max"] > 512 - 64
    assert f"open files limit {expected} (was 512)" in log.read_text()
