"""Phones joining as real ones do, for bench/vote_load.py: POST /api/join,
open the socket, read the hello, answer the demographic questions in one
message and wait for its ack (the phone page's sequence, server/static/phone.js).
The time for all of them is the hall filling up, or every phone reconnecting
after the venue's wifi blinks.

The join is a bare HTTP/1.1 request on a connection of its own, as a phone's
is: httpx's pool cost this one-core generator more CPU than the server spent
on the joins, and its kept-alive connections expired on the same 5 s as
uvicorn's, so a few requests a thousand went out on a socket the server was
closing and failed with ReadError (the 17 of 5,000 phones that "failed to
join" in earlier runs)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

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


async def post_join(host: str, port: int, body: dict[str, str]) -> dict[str, object]:
    """POST /api/join on a fresh connection, closed after the answer."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /api/join HTTP/1.1\r\nhost: {host}:{port}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n"
        "connection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + payload)
        answer = await reader.read()  # to the end: the server closes after answering
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    status = int(status_line.split()[1]) if status_line else 0
    if status == 429:
        raise Busy()
    if status != 200:
        raise RuntimeError(f"join answered {status}: {content[:120]!r}")
    return dict(json.loads(content))


class Busy(Exception):
    """The join desk's per-address limit answered 429 ("Many people are joining at
    once. Try again in a moment."): every bench phone shares one address, as a
    venue's NAT would have them."""


async def join_patiently(
    host: str, port: int, body: dict[str, str], retried: Counter[str], rng: random.Random
) -> dict[str, object]:
    """Join as a person does on the phone page: on "try again in a moment", wait a
    moment (1-3 s) and press Join again."""
    while True:
        try:
            return await post_join(host, port, body)
        except Busy:
            retried["join"] += 1
            await asyncio.sleep(rng.uniform(1.0, 3.0))


async def join_and_answer(
    base: str, code: str, n: int, sites: list[str], concurrency: int = 200
) -> tuple[list[ClientConnection], JoinResult]:
    """Join ``n`` phones as the phone page does: POST /api/join, open the socket,
    read the hello, send every demographic answer in one message, wait for its ack.
    The sockets stay open, as the phones' do (pass them to run_load)."""
    ws = base.replace("http", "ws", 1)
    address = urlsplit(base)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    rng = random.Random(1)
    gate = asyncio.Semaphore(concurrency)
    conns: list[ClientConnection] = []
    failed: Counter[str] = Counter()
    retried: Counter[str] = Counter()

    async def phone(i: int) -> None:
        async with gate:
            step = "join"
            try:
                body = {"code": code, **({"site": sites[i % len(sites)]} if sites else {})}
                joined = join_patiently(host, port, body, retried, rng)
                token = (await asyncio.wait_for(joined, 120))["token"]
                step = "socket"
                c = await connect(
                    f"{ws}/ws/phone?token={token}", ping_interval=None, open_timeout=60
                )
                step = "hello"
                hello = json.loads(await asyncio.wait_for(c.recv(), 60))
                answers = {
                    q["key"]: rng.choice(q["options"])["key"] for q in hello["demographics"]
                }
                mid = str(uuid.uuid4())
                step = "answers"
                await c.send(json.dumps({"type": "demographics", "id": mid, "answers": answers}))
                while json.loads(await asyncio.wait_for(c.recv(), 60)).get("id") != mid:
                    pass
                conns.append(c)
            except Exception as exc:
                failed[f"{step}: {type(exc).__name__}"] += 1
                if sum(failed.values()) <= 3:
                    print(f"  a phone failed to join ({step}): {exc!r}", flush=True)

    t0 = time.perf_counter()
    await asyncio.gather(*(phone(i) for i in range(n)))
    seconds = time.perf_counter() - t0
    if failed:
        print(f"  failures by step: {dict(failed)}", flush=True)
    if retried:
        print(
            f"  joins asked to try again in a moment (per-address limit): {retried['join']}",
            flush=True,
        )
    return conns, JoinResult(n, seconds, sum(failed.values()))
