"""Phones joining as real ones do, for bench/vote_load.py: POST /api/join,
open the socket, read the hello, answer the demographic questions in one
message and wait for its ack (the phone page's sequence, server/static/phone.js).
The time for all of them is the hall filling up, or every phone reconnecting
after the venue's wifi blinks."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass

import httpx
from websockets.asyncio.client import ClientConnection, connect


@dataclass
class JoinResult:
    """A hall filling: phones join over HTTP, connect, answer demographics."""

    phones: int
    seconds: float
    failures: int

    def summary(self) -> list[str]:
        return [
            f"join + demographics of {self.phones} phones: {self.seconds:.1f} s, "
            f"{self.failures} failed (target <= 30 s: ratio {self.seconds / 30:.2f})"
        ]


async def join_and_answer(
    base: str, code: str, n: int, sites: list[str], concurrency: int = 200
) -> tuple[list[ClientConnection], JoinResult]:
    """Join ``n`` phones as the phone page does: POST /api/join, open the socket,
    read the hello, send every demographic answer in one message, wait for its ack.
    The sockets stay open, as the phones' do (pass them to run_load)."""
    ws = base.replace("http", "ws", 1)
    rng = random.Random(1)
    gate = asyncio.Semaphore(concurrency)
    conns: list[ClientConnection] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency)

    async def phone(i: int, client: httpx.AsyncClient) -> None:
        nonlocal failures
        async with gate:
            try:
                body = {"code": code, **({"site": sites[i % len(sites)]} if sites else {})}
                r = await client.post(f"{base}/api/join", json=body)
                r.raise_for_status()
                token = r.json()["token"]
                c = await connect(
                    f"{ws}/ws/phone?token={token}", ping_interval=None, open_timeout=60
                )
                hello = json.loads(await c.recv())
                answers = {
                    q["key"]: rng.choice(q["options"])["key"] for q in hello["demographics"]
                }
                mid = str(uuid.uuid4())
                await c.send(json.dumps({"type": "demographics", "id": mid, "answers": answers}))
                while json.loads(await c.recv()).get("id") != mid:
                    pass
                conns.append(c)
            except Exception as exc:
                failures += 1
                if failures <= 3:
                    print(f"  a phone failed to join: {exc!r}", flush=True)

    t0 = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(*(phone(i, client) for i in range(n)))
    return conns, JoinResult(n, time.perf_counter() - t0, failures)
