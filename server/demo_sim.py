"""The simulated room of ``townhall serve --demo``, all over the real protocol:
tables typing comments that answer the question being discussed, phones that join,
answer the demographic questions and vote, and an autopilot producer that runs the
agenda until a person acts in a producer console (then it steps aside for good)."""

from __future__ import annotations

import asyncio
import csv
import json
import random
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from server.budget import BUDGET_KINDS, demo_ballot
from server.evaluation import demo_messages

EXAMPLES = Path(__file__).parent / "examples"
SAMPLE = EXAMPLES / "sample-comments.csv"
PHONES = 60
AUTOPILOT = "autopilot"  # the label of the autopilot's producer link; consoles show it


def sample_comments() -> dict[str, list[str]]:
    """The sample comments by the key of the question they answer."""
    by_question: dict[str, list[str]] = {}
    with SAMPLE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_question.setdefault(row["question"], []).append(row["text"])
    return by_question


class Simulation:
    """``tokens`` holds the demo's links (server/demo.py, DemoState); ``question_keys``
    maps a question's text to its key in the sample; ``on_step_aside`` is called once
    when a person takes the controls."""

    def __init__(
        self,
        base: str,
        tokens: dict[str, Any],
        question_keys: dict[str, str],
        pace: float = 1.0,
        autopilot: bool = True,
        on_step_aside: Callable[[], Awaitable[None]] | None = None,
        on_phone_joined: Callable[[str], None] | None = None,
    ) -> None:
        self.pace = pace  # 1.0: a poll every ~55 s; tests run the agenda faster
        self.base = base
        self.ws = base.replace("http", "ws", 1)
        self.tokens = tokens
        self.question_keys = question_keys
        self.rng = random.Random(1)
        self.comments = sample_comments()
        self.autopilot = autopilot
        self.on_step_aside = on_step_aside
        self.on_phone_joined = on_phone_joined

    def coroutines(self) -> list[Coroutine[Any, Any, None]]:
        tables = [self.table(int(n), tok) for n, tok in self.tokens["tables"].items()]
        phones = [self.phone(i) for i in range(PHONES)]
        return [*tables, *phones, *([self.producer()] if self.autopilot else [])]

    async def table(self, number: int, token: str) -> None:
        rng = random.Random(number)
        decks: dict[
            str, list[str]
        ] = {}  # each table goes through a question's comments in its own order
        seq = 0
        async for ws in _reconnecting(f"{self.ws}/ws/table?token={token}"):
            hello = json.loads(await ws.recv())
            seq = max(seq, hello["last_seq"])
            question = hello["question"]
            while True:
                await asyncio.sleep(rng.uniform(2, 12) * self.pace)
                key = self.question_keys.get((question or {}).get("text", ""), "")
                pool = self.comments.get(key) or [c for cs in self.comments.values() for c in cs]
                deck = decks.setdefault(key, [])
                if not deck:
                    deck.extend(rng.sample(pool, len(pool)))
                seq += 1
                msg = {"type": "comment", "id": str(uuid.uuid4()), "seq": seq, "text": deck.pop()}
                await ws.send(json.dumps(msg))
                while (reply := json.loads(await ws.recv()))["type"] != "ack":
                    if reply["type"] == "question":  # the producer moved the agenda on
                        question = reply["question"]

    async def phone(self, i: int) -> None:
        rng = random.Random(i)
        phones: dict[str, str] = self.tokens.setdefault("phones", {})
        token = phones.get(str(i))  # a restarted demo: the same phones reconnect
        if token is None:
            await asyncio.sleep(rng.uniform(0, 10) * self.pace)
            token = phones[str(i)] = await asyncio.to_thread(self._join)
            if self.on_phone_joined:
                self.on_phone_joined(token)
        seq = 0
        async for ws in _reconnecting(f"{self.ws}/ws/phone?token={token}"):
            hello = json.loads(await ws.recv())
            if not hello["answers"]:
                answers = {q["key"]: rng.choice(q["options"])["key"] for q in hello["demographics"]}
                about = {"type": "demographics", "id": str(uuid.uuid4()), "answers": answers}
                await ws.send(json.dumps(about))
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

    def _join(self) -> str:
        body = json.dumps({"code": self.tokens["code"]}).encode()
        req = urllib.request.Request(
            f"{self.base}/api/join", body, {"content-type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return str(json.loads(r.read())["token"])

    async def producer(self) -> None:
        """Runs the agenda with its own producer link until a notice says someone else
        acted in a console; then it stops and says so (once)."""
        url = f"{self.ws}/ws/producer?token={self.tokens['autopilot']}"
        async for ws in _reconnecting(url):
            hello = json.loads(await ws.recv())
            answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
            person = asyncio.get_running_loop().create_future()
            # Keep reading while the producer "waits" between steps, as a real console
            # does: a client that stops reading is dropped by the server.
            reader = asyncio.create_task(_read(ws, answers, person))
            agenda = asyncio.create_task(self._run_agenda(ws, hello, answers))
            try:
                await asyncio.wait({person, agenda}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                reader.cancel()
                agenda.cancel()
            if person.done():
                if self.on_step_aside:
                    await self.on_step_aside()
                return

    async def _run_agenda(
        self, ws: Any, hello: dict[str, Any], answers: dict[str, asyncio.Future[dict[str, Any]]]
    ) -> None:
        async def write(msg: dict[str, Any]) -> None:
            msg["id"] = str(uuid.uuid4())
            answers[msg["id"]] = asyncio.get_running_loop().create_future()
            await ws.send(json.dumps(msg))
            await asyncio.wait_for(answers[msg["id"]], 30)

        polls = hello["event"]["polls"]
        questions = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
        # Carry on where the meeting is: the open poll, else the first not yet opened.
        start = next((i for i, p in enumerate(polls) if p["status"] != "closed"), 0)
        step = start
        while True:
            i = step % len(polls)
            poll = polls[i]
            # The questions follow the agenda: each is discussed through a share of the polls.
            question = questions[i * len(questions) // len(polls)]
            current = hello["event"]["current_question"]
            if step != start or not current or current["id"] != question:
                await write({"type": "set_question", "question_id": question})
            if step != start or poll["status"] != "open":
                await asyncio.sleep(5 * self.pace)
                timer = max(5, round(40 * self.pace))
                await write({"type": "open_poll", "poll_id": poll["id"], "seconds": timer})
            await asyncio.sleep(40 * self.pace)
            await write({"type": "close_poll", "poll_id": poll["id"]})
            if poll.get("phase") == "after":  # the close of the meeting: how was it?
                await write({"type": "open_evaluation"})
            await asyncio.sleep(8 * self.pace)
            await write({"type": "screen", "mode": "demographics"})
            await asyncio.sleep(4 * self.pace)
            hello["event"]["current_question"] = {"id": question}
            step += 1


async def _read(
    ws: Any, answers: dict[str, asyncio.Future[dict[str, Any]]], person: asyncio.Future[None]
) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        if msg.get("by") not in (None, AUTOPILOT) and not person.done():
            person.set_result(None)  # someone acted in a producer console
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
