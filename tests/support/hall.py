"""A full hall for the workbench, over the real protocol: an event of 500
tables at two sites, its tables typing thousands of real civic comments, the
theming worker placing them all, and the theme team curating the result to a
given number of themes. Shared by the workbench's Chromium tests, its
benchmark (bench/workbench_render.py) and the README's screenshots."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import uuid
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.example import ROOT, SHARED_DATA

HALL_EVENT = """title = "Riverton Town Meeting"
slug = "riverton-hall"
code = "HALL26"
[[sites]]
key = "civic-hall"
name = "Civic Hall"
tables = {half}
[[sites]]
key = "north-library"
name = "North Library"
tables = {other}
[[rounds]]
key = "futures"
title = "Riverton in 2040"
[[rounds.questions]]
key = "futures-change"
text = "What should change so that Riverton is a better place to live in 2040?"
"""
SOURCES = (
    "polis-bowling-green.csv",
    "polis-bg2050.csv",
    "polis-sanjuan-landbank.csv",
    "argkp-train.csv",
)
MAX_SIZE = 2**26  # a team hello with 5,000 comments is about 1.5 MB


def hall_event(tmp: Path, tables: int = 500) -> Path:
    path = tmp / "hall.toml"
    path.write_text(HALL_EVENT.format(half=tables // 2, other=tables - tables // 2))
    return path


def hall_texts(n: int, civic: bool = False) -> list[str]:
    """``n`` real comments: the public Polis conversations first, then ArgKP's
    arguments (shipped sample if the shared data is absent); repeated if short.
    ``civic``: the Polis town conversations only (~1,100 comments, each typed by
    several tables), for pictures of a town meeting rather than of debate motions."""
    texts: list[str] = []
    for name in SOURCES[:3] if civic else SOURCES:
        path = SHARED_DATA / name
        if path.exists():
            with path.open(encoding="utf-8") as f:
                texts += [r["text"].strip() for r in csv.DictReader(f) if r["text"].strip()]
    if not texts:
        with (ROOT / "server" / "examples" / "sample-comments.csv").open(encoding="utf-8") as f:
            texts = [r["text"] for r in csv.DictReader(f)]
    unique = list(dict.fromkeys(texts))
    return [unique[i % len(unique)] for i in range(n)]


async def recv_type(ws: ClientConnection, kind: str, within: float) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg["type"] == kind:
                return msg


async def type_comments(
    ws_base: str, tables: dict[int, str], texts: list[str], within: float = 300
) -> list[int]:
    """Every table types its share of ``texts`` (round robin), a hundred tables at a
    time, each waiting for the ack of one comment before the next; returns comment ids."""
    numbers = sorted(tables)
    shares: dict[int, list[tuple[int, str]]] = {n: [] for n in numbers}
    for i, text in enumerate(texts):
        shares[numbers[i % len(numbers)]].append((i, text))
    ids: list[int] = [0] * len(texts)
    # A hundred laptops typing at once; the rest join as they finish (500 hellos
    # at once would measure the server's reconnect storm, not a hall typing).
    at_once = asyncio.Semaphore(100)

    async def table(number: int) -> None:
        if not shares[number]:
            return
        async with at_once, connect(f"{ws_base}/ws/table?token={tables[number]}") as ws:
            seq = (await recv_type(ws, "hello", 120))["last_seq"]
            for i, text in shares[number]:
                seq += 1
                mid = str(uuid.uuid4())
                await ws.send(json.dumps({"type": "comment", "id": mid, "seq": seq, "text": text}))
                while True:
                    reply = await recv_type(ws, "ack", 60)
                    if reply["id"] == mid:
                        ids[i] = reply["comment_id"]
                        break

    async with asyncio.timeout(within):
        await asyncio.gather(*(table(n) for n in numbers))
    return ids


class Watcher:
    """Reads a team socket from the start (so it never backs up while the tables
    type) and keeps the latest ``themes`` message."""

    def __init__(self, team: ClientConnection) -> None:
        self.team = team
        self.latest: dict[str, Any] | None = None
        self.changed = asyncio.Event()

    async def run(self) -> None:
        while True:
            msg = json.loads(await self.team.recv())
            if msg["type"] == "themes":
                self.latest = msg
                self.changed.set()

    async def placing(self, ids: list[int]) -> dict[str, Any]:
        """The first themes message that places every comment in ``ids``."""
        want = set(ids)
        while True:
            msg = self.latest
            if msg is not None and msg["themes"]:
                where = {m for t in msg["themes"] for m in t["members"]} | set(msg["unassigned"])
                if where >= want:
                    return msg
            self.changed.clear()
            await self.changed.wait()


class Refused(RuntimeError):
    """The server answered a team op with an error."""

    def __init__(self, kind: str, reply: dict[str, Any]) -> None:
        super().__init__(f"{kind} refused: {reply}")
        self.code = reply.get("code")


async def team_op(
    team: ClientConnection, kind: str, question_id: int, within: float = 120, **fields: Any
) -> dict[str, Any]:
    op_id = str(uuid.uuid4())
    await team.send(json.dumps({"type": kind, "id": op_id, "question_id": question_id, **fields}))
    async with asyncio.timeout(within):
        while True:
            reply = json.loads(await team.recv())
            if reply["type"] in ("ack", "error") and reply.get("id") == op_id:
                if reply["type"] == "error":
                    raise Refused(kind, reply)
                return dict(reply)


async def current(team: ClientConnection, question_id: int) -> dict[str, Any]:
    return dict((await team_op(team, "sync", question_id))["themes"])


async def shape(team: ClientConnection, question_id: int, count: int) -> dict[str, Any]:
    """The team curates to exactly ``count`` themes, as people would: the two
    smallest themes merged, or the biggest split in two, one step at a time. As
    a person would, it reloads and tries again when a theme changed under it (a
    machine relabel bumps a theme's version, likely the worker's relabel once the
    question went quiet: a split was refused so once in a fresh-clone run)."""
    msg = await current(team, question_id)
    conflicts = 0
    while len(msg["themes"]) != count:
        themes = sorted(msg["themes"], key=lambda t: (t["size"], t["key"]))
        if len(themes) > count:
            small, other = themes[0], themes[1]
            versions = {small["key"]: small["version"], other["key"]: other["version"]}
            kind = "merge"
            step: dict[str, Any] = {
                "themes": [small["key"]],
                "into": other["key"],
                "versions": versions,
            }
        else:
            big = themes[-1]
            kind = "split"
            step = {"theme": big["key"], "version": big["version"], "comments": None}
        try:
            await team_op(team, kind, question_id, name="Setup", **step)
        except Refused as refused:
            conflicts += 1
            if refused.code != "conflict" or conflicts > 5:
                raise
        msg = await current(team, question_id)
    return msg


async def fill_hall(
    ws_base: str, tokens: Any, comments: int, themes: int, within: float = 900, civic: bool = False
) -> dict[str, Any]:
    """Tables type ``comments`` comments (``hall_texts``); once all are placed the team
    re-themes and curates to ``themes`` themes. Returns the question's themes message."""
    async with connect(f"{ws_base}/ws/team?token={tokens.team}", max_size=MAX_SIZE) as team:
        hello = await recv_type(team, "hello", 60)
        question_id = hello["event"]["rounds"][0]["questions"][0]["id"]
        watcher = Watcher(team)
        reading = asyncio.create_task(watcher.run())
        try:
            texts = hall_texts(comments, civic)
            ids = await type_comments(ws_base, tokens.tables, texts, within)
            async with asyncio.timeout(within):
                await watcher.placing(ids)
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        await team_op(team, "retheme", question_id, within=within, name="Setup")
        return await shape(team, question_id, themes)
