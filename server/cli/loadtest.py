"""``townhall loadtest``: many phones voting against a running server, with
latencies measured from each vote's *scheduled* send time (so a stalled
client cannot hide queueing) to its ack and to the first tally on every
display that includes it."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


@dataclass
class LoadResult:
    phones: int
    sent: int
    acked: int
    duplicates: int
    errors: int
    ack_ms: list[float] = field(default_factory=list)
    display_ms: list[float] = field(default_factory=list)
    connect_seconds: float = 0.0
    poll_open_ms: list[float] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.sent - self.acked

    def summary(self) -> list[str]:
        a, d, o = self.ack_ms, self.display_ms, self.poll_open_ms
        return [
            f"phones connected {self.phones} in {self.connect_seconds:.1f} s",
            f"votes sent {self.sent}, acked {self.acked}, duplicate acks {self.duplicates}, "
            f"lost {self.lost}, errors {self.errors}",
            f"vote->ack ms: p50 {percentile(a, 50):.1f}  p99 {percentile(a, 99):.1f}  "
            f"max {max(a, default=0):.1f}  (targets p50<=25: ratio {percentile(a, 50) / 25:.2f}; "
            f"p99<=250: ratio {percentile(a, 99) / 250:.2f})",
            f"vote->every display ms: p50 {percentile(d, 50):.0f}  p99 {percentile(d, 99):.0f}  "
            f"(target p99<=1000: ratio {percentile(d, 99) / 1000:.2f})",
            f"poll opening -> every phone ms: p50 {percentile(o, 50):.0f}  all "
            f"{max(o, default=float('nan')):.0f}  (target all<=1000: ratio "
            f"{max(o, default=float('nan')) / 1000:.2f})",
        ]


def join_many(base: str, code: str, n: int) -> list[str]:
    def one() -> str:
        req = urllib.request.Request(
            f"{base}/api/join",
            json.dumps({"code": code}).encode(),
            {"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return str(json.loads(r.read())["token"])

    return [one() for _ in range(n)]


async def run_load(
    base: str,
    *,
    producer_token: str,
    display_token: str,
    phone_tokens: list[str],
    votes: int,
    window: float,
    displays: int = 10,
    poll_key: str | None = None,
    progress: Callable[[str], None] = print,
    phones: list[ClientConnection] | None = None,
) -> LoadResult:
    """``phones``: sockets already open (join_and_answer); else ``phone_tokens`` connect."""
    ws = base.replace("http", "ws", 1)
    t0 = time.perf_counter()
    conns = phones if phones is not None else await _connect_phones(ws, phone_tokens, progress)
    connect_seconds = time.perf_counter() - t0
    screens = [
        await connect(f"{ws}/ws/display?token={display_token}", max_size=2**24)
        for _ in range(displays)
    ]
    for d in screens:
        await d.recv()
    async with connect(f"{ws}/ws/producer?token={producer_token}", max_size=2**24) as producer:
        event = json.loads(await producer.recv())["event"]
        poll = next(
            p
            for p in event["polls"]
            if (p["key"] == poll_key if poll_key else p["kind"] == "single")
        )
        # The generator's own full collections (5,000 sockets: most of a second)
        # would pause its reading and show up as the server's latency.
        gc.collect()
        gc.freeze()
        opened = time.perf_counter()
        await producer.send(
            json.dumps({"type": "open_poll", "id": str(uuid.uuid4()), "poll_id": poll["id"]})
        )
        reached = await asyncio.gather(*(_poll_opened(c, poll["id"]) for c in conns))
        progress(f"voting: {min(votes, len(conns))} votes over {window:g} s")
        result = await _vote(conns, screens, poll, votes, window)
        progress("votes done")
    result.connect_seconds = connect_seconds
    result.poll_open_ms = [(t - opened) * 1000 for t in reached]
    for c in [*conns, *screens]:
        await c.close()
    return result


async def _connect_phones(
    ws: str, phone_tokens: list[str], progress: Callable[[str], None]
) -> list[ClientConnection]:
    """Open the phones' sockets 200 at a time and read each one's hello."""
    conns: list[ClientConnection] = []
    for i in range(0, len(phone_tokens), 200):
        conns += await asyncio.gather(
            *(
                # ping_interval=None: a phone's browser never pings (it only answers the
                # server's pings), and 5,000 pinging clients would load the server unlike phones.
                connect(
                    f"{ws}/ws/phone?token={t}", max_size=2**20, open_timeout=60,
                    ping_interval=None,
                )
                for t in phone_tokens[i : i + 200]
            )
        )
        progress(f"connected {len(conns)}/{len(phone_tokens)} phones")
    await asyncio.gather(*(c.recv() for c in conns))
    return conns


async def _poll_opened(conn: ClientConnection, poll_id: int) -> float:
    """When this phone heard that the poll is open."""
    async with asyncio.timeout(60):
        while True:
            msg = json.loads(await conn.recv())
            if msg.get("type") == "poll" and msg["poll"]["id"] == poll_id:
                if msg["poll"]["status"] == "open":
                    return time.perf_counter()


async def _vote(
    conns: list[ClientConnection],
    screens: list[ClientConnection],
    poll: dict[str, Any],
    votes: int,
    window: float,
) -> LoadResult:
    keys = [o["key"] for o in poll["options"]]
    n = min(votes, len(conns))
    start = time.perf_counter() + 1.0
    scheduled = [start + window * i / n for i in range(n)]
    ids = [str(uuid.uuid4()) for _ in range(n)]
    acks: dict[str, float] = {}
    duplicates = 0

    async def phone(i: int) -> None:
        nonlocal duplicates
        await asyncio.sleep(max(0.0, scheduled[i] - time.perf_counter()))
        choice = [keys[i % len(keys)]] if poll["kind"] != "scale" else [str(1 + i % 5)]
        await conns[i].send(
            json.dumps(
                {"type": "vote", "id": ids[i], "poll_id": poll["id"], "seq": 1, "choice": choice}
            )
        )
        async with asyncio.timeout(60):
            while True:
                msg = json.loads(await conns[i].recv())
                if msg.get("id") == ids[i]:
                    if msg["type"] != "ack":
                        raise RuntimeError(msg.get("message"))
                    duplicates += ids[i] in acks
                    acks[ids[i]] = time.perf_counter()
                    return

    seen: list[list[tuple[int, float]]] = [[] for _ in screens]
    watchers = [
        asyncio.create_task(_watch(screen, poll["id"], n, seen[k]))
        for k, screen in enumerate(screens)
    ]
    outcomes = await asyncio.gather(*(phone(i) for i in range(n)), return_exceptions=True)
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*watchers)
    except TimeoutError:
        for w in watchers:
            w.cancel()
    sent_at = dict(zip(ids, scheduled, strict=True))
    return LoadResult(
        phones=len(conns),
        sent=n,
        acked=len(acks),
        duplicates=duplicates,
        errors=sum(isinstance(o, BaseException) for o in outcomes),
        ack_ms=[(acks[v] - sent_at[v]) * 1000 for v in acks],
        display_ms=display_latencies(seen, acks, sent_at),
    )


async def _watch(
    screen: ClientConnection, poll_id: int, votes: int, seen: list[tuple[int, float]]
) -> None:
    """Note (turnout, arrival time) of each tally a screen gets, until all votes are in."""
    while True:
        msg = json.loads(await screen.recv())
        if msg["type"] == "tally" and msg["poll"]["id"] == poll_id:
            seen.append((msg["result"]["turnout"], time.perf_counter()))
            if msg["result"]["turnout"] >= votes:
                return


def display_latencies(
    seen: list[list[tuple[int, float]]], acks: dict[str, float], sent_at: dict[str, float]
) -> list[float]:
    """Milliseconds from each vote's scheduled send to the first tally on each screen
    that includes it. ``seen`` is per screen: (turnout, arrival time) of its tallies."""
    by_commit = sorted(acks, key=acks.__getitem__)
    out = []
    for series in seen:
        j = 0
        # Vote number r is visible once a tally's turnout exceeds r (acks in commit order).
        for rank, vid in enumerate(by_commit):
            while j < len(series) and series[j][0] <= rank:
                j += 1
            if j < len(series):
                out.append((series[j][1] - sent_at[vid]) * 1000)
    return out
