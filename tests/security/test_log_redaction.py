"""Logs never contain tokens: the real server, asked with tokens every way a
client can use one, writes none of them to its log."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from websockets.asyncio.client import connect

from server.web.logging_setup import REDACTED, install_redaction
from tests.support.example import new_id
from tests.support.live import close_code, http, join, recv_json, reply_to
from tests.support.server import LiveServer


@pytest.mark.parametrize("server_process", [{"TOWNHALL_LOG_LEVEL": "debug"}], indirect=True)
async def test_server_log_never_contains_a_token(server_process: LiveServer) -> None:
    s = server_process
    t = s.tokens
    used = [t.producer, t.team, t.display, *t.tables.values()]
    for url in (
        f"/producer?token={t.producer}",
        f"/team?token={t.team}",
        f"/screen?token={t.display}",
        f"/t/{t.tables[1]}",
        f"/producer/links?token={t.producer}",
        f"/producer?token={t.tables[2]}",  # refused: wrong role
        "/t/not-a-real-token-but-long-enough",
    ):
        await asyncio.to_thread(http, s.base + url)
    phone = await asyncio.to_thread(join, s)
    used.append(phone)
    for role, token in [("phone", phone), ("display", t.display), ("team", t.team)]:
        async with connect(s.ws_url(role, token)) as ws:
            await recv_json(ws)
    async with connect(s.ws_url("producer", t.tables[3])) as ws:  # wrong endpoint
        assert await close_code(ws) == 1008
    async with connect(s.ws_url("producer", t.producer)) as producer:
        await recv_json(producer)
        mid = new_id()
        await producer.send(
            json.dumps({"type": "reissue_token", "id": mid, "role": "table", "table": 4})
        )
        used.append((await reply_to(producer, mid))["token"])
    _, page, _ = await asyncio.to_thread(
        http, f"{s.base}/producer/links", {"token": t.producer, "tables": "5"}
    )
    used += re.findall(r"/t/([A-Za-z0-9_-]{20,})</code>", page)
    log = s.log_text()
    assert "WebSocket /ws/" in log, "uvicorn logged the websocket paths (redacted)"
    assert f"token={REDACTED}" in log
    leaked = [tok for tok in used if tok in log]
    assert leaked == [], f"{len(leaked)} token(s) found in the server log"


def test_redaction_covers_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction()
    secret = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg"
    log = logging.getLogger("townhall.test")
    with caplog.at_level(logging.INFO, logger="townhall.test"):
        log.info("GET /screen?token=%s", secret)
        log.info("table link /t/%s", secret)
        try:
            raise ValueError(f"bad url /producer?token={secret}")
        except ValueError:
            log.exception("failed")
    assert secret not in caplog.text
    assert caplog.text.count(REDACTED) >= 3
