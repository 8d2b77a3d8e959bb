"""``townhall serve --demo``: the example event with simulated tables typing
real comments and simulated phones voting, all over the real protocol."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import random
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from websockets.asyncio.client import connect

from server.cli.links import print_links, write_links_file
from server.core.budget import BUDGET_KINDS, demo_ballot
from server.core.evaluation import demo_messages
from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens, load_event
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.web.app import create_app
from server.web.asgi import uvicorn_options

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EVENT_FILE = EXAMPLES / "riverton-budget.toml"
SAMPLE = EXAMPLES / "sample-comments.csv"
PHONES = 60
TEAM = ("Ana", "Ben")  # the simulated theme team's names, for the curation log
Answers = dict[str, asyncio.Future[dict[str, Any]]]  # message id -> its ack or error


def sample_comments() -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def run_demo(settings: Settings, db_url: str | None = None) -> None:
    data = Path("demo-data")
    data.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (data / f"demo.db{suffix}").unlink(missing_ok=True)
    settings = settings.model_copy(
        update={"db_url": db_url or f"sqlite+aiosqlite:///{data / 'demo.db'}"}
    )
    asyncio.run(_main(settings, data))


async def _main(settings: Settings, data: Path) -> None:
    console = Console()
    await asyncio.to_thread(upgrade, settings.db_url)
    db = Database(settings.db_url)
    tokens = await load_event(db, load_event_file(EVENT_FILE))
    await db.dispose()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **uvicorn_options(settings)))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            return
        await asyncio.sleep(0.05)
    base = settings.base_url
    print_links(console, base, tokens)
    write_links_file(data / "links.txt", base, tokens)
    console.print(
        f"[bold green]Demo running[/]: {len(tokens.tables)} simulated tables and {PHONES} phones. "
        f"All links in {data / 'links.txt'}. Ctrl+C stops."
    )
    spec = load_event_file(EVENT_FILE)
    sites = [(site.key, site.tables) for site in spec.sites]
    sim = Simulation(base, tokens, pace=settings.demo_pace, sites=sites)
    tasks = [asyncio.create_task(c) for c in sim.coroutines()]
    try:
        await serving
    finally:
        for t in tasks:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)


class Simulation:
    def __init__(
        self,
        base: str,
        tokens: IssuedTokens,
        seed: int = 1,
        pace: float = 1.0,
        sites: list[tuple[str, int]] | None = None,
        passes: int = 1000,
    ) -> None:
        self.pace = pace  # 1.0: a poll every ~55 s; tests run the agenda faster
        self.base = base
        self.ws = base.replace("http", "ws", 1)
        self.tokens = tokens
        self.rng = random.Random(seed)
        self.comments = sample_comments()
        self.sites = sites or []  # (key, tables): phones join at a site, as by its screen's QR
        self.passes = passes  # times through the agenda
        self.agenda_done = asyncio.Event()
        self.curated = asyncio.Event()  # the team's first pass after the agenda's end

    def coroutines(self) -> list[Any]:
        tables = [self.table(n, tok) for n, tok in self.tokens.tables.items()]
        phones = [self.phone(i) for i in range(PHONES)]
        return [*tables, *phones, self.producer(), self.team()]

    async def table(self, number: int, token: str) -> None:
        seq = 0
        async for ws in _reconnecting(f"{self.ws}/ws/table?token={token}"):
            hello = json.loads(await ws.recv())
            seq = max(seq, hello["last_seq"])
            while True:
                await asyncio.sleep(self.rng.uniform(2, 12) * self.pace)
                seq += 1
                text = self.rng.choice(self.comments)
                await ws.send(
                    json.dumps(
                        {"type": "comment", "id": str(uuid.uuid4()), "seq": seq, "text": text}
                    )
                )
                await _until(ws, "ack")

    async def phone(self, i: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, 10) * self.pace)
        rng = random.Random(i)
        site = (
            rng.choices([k for k, _ in self.sites], weights=[n for _, n in self.sites])[0]
            if self.sites
            else ""
        )
        body = json.dumps({"code": self.tokens.code, "site": site}).encode()
        req = urllib.request.Request(
            f"{self.base}/api/join", body, {"content-type": "application/json"}
        )
        token = json.loads(
            await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).read())
        )["token"]
        seq = 0
        async for ws in _reconnecting(f"{self.ws}/ws/phone?token={token}"):
            hello = json.loads(await ws.recv())
            if not hello["answers"]:
                answers = {q["key"]: rng.choice(q["options"])["key"] for q in hello["demographics"]}
                await ws.send(
                    json.dumps(
                        {"type": "demographics", "id": str(uuid.uuid4()), "answers": answers}
                    )
                )
            poll = hello["poll"]
            while True:
                if poll and poll["status"] == "open":
                    await asyncio.sleep(rng.uniform(1, 15) * self.pace)
                    seq += 1
                    await ws.send(json.dumps(_ballot(rng, poll, seq)))
                msg = await _until(ws, "poll", "evaluation")
                if msg["type"] == "evaluation":  # the end-of-meeting survey opened
                    survey = msg["evaluation"]
                    for m in demo_messages(rng, survey, i) if survey else []:
                        await ws.send(json.dumps(m))
                    poll = None
                    continue
                poll = msg["poll"]

    async def producer(self) -> None:
        await _staff_session(
            f"{self.ws}/ws/producer?token={self.tokens.producer}", self._run_agenda
        )

    async def _run_agenda(self, ws: Any, hello: dict[str, Any], answers: Answers) -> None:
        async def write(msg: dict[str, Any]) -> None:
            await _ask(ws, answers, msg)

        questions = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
        for i, poll in enumerate(hello["event"]["polls"] * self.passes):
            await asyncio.sleep(5 * self.pace)
            await write({"type": "set_question", "question_id": questions[i % len(questions)]})
            await write({"type": "screen", "mode": "poll"})
            timer = max(5, round(40 * self.pace))
            await write({"type": "open_poll", "poll_id": poll["id"], "seconds": timer})
            await asyncio.sleep(40 * self.pace)
            await write({"type": "close_poll", "poll_id": poll["id"]})
            if poll.get("phase") == "after":  # the close of the meeting: how was it?
                await write({"type": "open_evaluation"})
            await write({"type": "screen", "mode": "demographics"})
            await asyncio.sleep(8 * self.pace)
        self.agenda_done.set()


    async def team(self) -> None:
        """A theme team of two at the workbench: every half minute of the meeting, for
        each question, fold the two smallest of many themes together, pin a quote on
        the largest, and publish the themes that hold enough comments."""
        await _staff_session(f"{self.ws}/ws/team?token={self.tokens.team}", self._curate)

    async def _curate(self, ws: Any, hello: dict[str, Any], answers: Answers) -> None:
        questions = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
        rng = random.Random(2)
        published: dict[int, set[str]] = {}
        pinned: set[str] = set()

        async def op(msg: dict[str, Any]) -> dict[str, Any]:
            return await _ask(ws, answers, msg | {"name": rng.choice(TEAM)})

        while True:
            await asyncio.sleep(30 * self.pace)
            for qid in questions:
                synced = await op({"type": "sync", "question_id": qid})
                if synced["type"] != "ack":
                    continue
                themes = sorted(synced["themes"]["themes"], key=lambda t: t["size"])
                if len(themes) > 6:
                    small, into = themes[0], themes[1]
                    versions = {t["key"]: t["version"] for t in (small, into)}
                    await op({"type": "merge", "question_id": qid, "themes": [small["key"]],
                              "into": into["key"], "versions": versions})
                    themes = sorted(
                        (await op({"type": "sync", "question_id": qid}))["themes"]["themes"],
                        key=lambda t: t["size"],
                    )
                if not themes:
                    continue
                top = themes[-1]
                if top["quotes"] and top["key"] not in pinned:
                    pinned.add(top["key"])
                    await op({"type": "pin_quote", "question_id": qid, "theme": top["key"],
                              "comment": top["quotes"][-1]["id"], "version": top["version"]})
                    themes = (await op({"type": "sync", "question_id": qid}))["themes"]["themes"]
                total = sum(t["size"] for t in themes)
                chosen = {t["key"]: t["version"] for t in themes if t["size"] >= 0.05 * total}
                if chosen and set(chosen) != published.get(qid):
                    reply = await op({"type": "publish", "question_id": qid, "themes": chosen})
                    if reply["type"] == "ack":
                        published[qid] = set(chosen)
            if self.agenda_done.is_set():
                self.curated.set()


async def _staff_session(
    url: str, run: Callable[[Any, dict[str, Any], Answers], Awaitable[None]]
) -> None:
    """A staff console's connection (made again after a drop): its hello, then ``run``
    while a reader settles each answer. It keeps reading while the console "waits"
    between steps, as a real one does: a client that stops reading is dropped."""
    async for ws in _reconnecting(url):
        hello = json.loads(await ws.recv())
        answers: Answers = {}
        reader = asyncio.create_task(_read_answers(ws, answers))
        try:
            await run(ws, hello, answers)
        finally:
            reader.cancel()


async def _ask(ws: Any, answers: Answers, msg: dict[str, Any]) -> dict[str, Any]:
    """Send ``msg`` under a new id; its ack or error (30 s at most)."""
    msg["id"] = str(uuid.uuid4())
    answers[msg["id"]] = asyncio.get_running_loop().create_future()
    await ws.send(json.dumps(msg))
    return await asyncio.wait_for(answers[msg["id"]], 30)


async def _read_answers(ws: Any, answers: Answers) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        fut = answers.pop(str(msg.get("id")), None) if msg["type"] in ("ack", "error") else None
        if fut is not None and not fut.done():
            fut.set_result(msg)


def _ballot(rng: random.Random, poll: dict[str, Any], seq: int) -> dict[str, Any]:
    keys = [o["key"] for o in poll["options"]]
    weights = [len(keys) - i + rng.random() * 3 for i in range(len(keys))]
    ordered = sorted(keys, key=lambda k: -weights[keys.index(k)] * rng.random())
    n = {"multi": rng.randint(1, poll["max_choices"] or 1), "ranking": len(keys)}.get(
        poll["kind"], 1
    )
    vote = {"type": "vote", "id": str(uuid.uuid4()), "poll_id": poll["id"], "seq": seq}
    if poll["kind"] in BUDGET_KINDS:
        return vote | demo_ballot(rng, poll, ordered)
    return vote | {"choice": ordered[:n]}


async def _until(ws: Any, *kinds: str) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(await ws.recv())
        if msg["type"] in kinds:
            return msg


async def _reconnecting(url: str) -> Any:
    delay = 0.5
    while True:
        try:
            async with connect(url, max_size=2**20) as ws:
                delay = 0.5
                yield ws
        except (OSError, Exception):
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 10)
