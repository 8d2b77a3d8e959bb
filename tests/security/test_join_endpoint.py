"""``POST /api/join`` against the real server: a small body limit, nothing of the
request echoed, and a client that leaves mid-body is a quiet 400, not a traceback
in the log (issue 23, item 5)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request

from tests.support.live import TIMEOUT
from tests.support.server import LiveServer

BIG = 20 * 1024 * 1024


async def _post(s: LiveServer, body: bytes, headers: str) -> tuple[int, bytes]:
    port = int(s.base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /api/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}\r\n"
    writer.write(head.encode())
    with contextlib.suppress(ConnectionError):
        writer.write(body)
        await writer.drain()
    async with asyncio.timeout(TIMEOUT):
        status_line = await reader.readline()
        answer = await reader.read(1 << 20)
    writer.close()
    return int(status_line.split()[1]), answer


def _chunked(body: bytes, size: int = 65536) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def _health_open(base: str) -> int:
    with urllib.request.urlopen(f"{base}/healthz", timeout=TIMEOUT) as r:
        return int(json.loads(r.read())["connections"]["open"])


def _until_only_one_open(base: str) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:  # each turn is a request: no sleeping
        if _health_open(base) == 1:
            return True
    return False


def _join(base: str, body: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(
        f"{base}/api/join", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_join_has_a_body_limit_and_echoes_nothing(server_process: LiveServer) -> None:
    s = server_process
    huge = json.dumps({"code": "X" * BIG}).encode()
    status, answer = await _post(s, huge, f"Content-Length: {len(huge)}\r\n")
    assert status == 413 and len(answer) < 1024
    status, answer = await _post(s, _chunked(huge), "Transfer-Encoding: chunked\r\n")
    assert status == 413 and len(answer) < 1024, "a body without a length is cut too"
    for hostile in ("<script>alert(1)</script>", "NOPE99", "A" * 500):
        status, text = await asyncio.to_thread(_join, s.base, {"code": hostile, "site": hostile})
        assert status in (400, 404) and hostile not in text and hostile.lower() not in text
    status, text = await asyncio.to_thread(_join, s.base, {"code": s.tokens.code})
    assert status == 200 and "token" in json.loads(text)


async def test_a_client_leaving_mid_body_is_a_quiet_400(server_process: LiveServer) -> None:
    s = server_process
    port = int(s.base.rsplit(":", 1)[1])
    for _ in range(5):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"code": "AB'
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    # Until the server has seen every one of them go (only the asking request is open).
    assert await asyncio.to_thread(_until_only_one_open, s.base)
    status, _ = await asyncio.to_thread(_join, s.base, {"code": s.tokens.code})
    assert status == 200
    log = s.log_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-2000:]
