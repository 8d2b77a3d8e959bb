"""The simulated room of ``townhall serve --demo``, all over the real protocol:
tables typing comments that answer the question being discussed, phones that join
at their site, answer the demographic questions and vote, a theme team that curates
and publishes between polls, and an autopilot producer that runs the agenda until a
person acts in a producer console (then it steps aside for good)."""

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

from server.core.budget import BUDGET_KINDS, demo_ballot
from server.core.evaluation import demo_messages
from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EVENT_FILE = EXAMPLES / "riverton-budget.toml"
SAMPLE = EXAMPLES / "sample-comments.csv"
PHONES = 60
TEAM = ("Ana", "Ben")  # the simulated theme team's names, for the curation log
AUTOPILOT = "autopilot"  # the label of the autopilot's producer link; consoles show it
# The simulated team merges its smallest themes above this many per question and
# takes split offers below it (with one bound the two would undo each other).
MAX_THEMES = 8
Answers = dict[str, asyncio.Future[dict[str, Any]]]  # message id -> its ack or error
OnMessage = Callable[[dict[str, Any]], None]


def sample_comments() -> dict[str, list[str]]:
    """The sample comments by the key of the question they answer."""
    by_question: dict[str, list[str]] = {}
    with SAMPLE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_question.setdefault(row["question"], []).append(row["text"])
    return by_question


class Simulation:
    """``phones`` (phone number -> token) is filled as phones join and given back on
    a restart so the same phones reconnect; ``on_step_aside`` is called once when a
    person takes the controls. ``passes``: times through the agenda."""

    def __init__(
        self,
        base: str,
        tokens: IssuedTokens,
        *,
        pace: float = 1.0,
        sites: list[tuple[str, int]] | None = None,
        passes: int = 1000,
        autopilot: bool = True,
        autopilot_token: str | None = None,
        phones: dict[str, str] | None = None,
        on_step_aside: Callable[[], Awaitable[None]] | None = None,
        on_phone_joined: Callable[[], None] | None = None,
    ) -> None:
        self.pace = pace  # 1.0: a poll every ~55 s; tests run the agenda faster
        self.base = base
        self.ws = base.replace("http", "ws", 1)
        self.tokens = tokens
        self.sites = sites or []  # (key, tables): phones join at a site, as by its screen's QR
        self.passes = passes
        self.autopilot = autopilot
        # With a link of its own (label AUTOPILOT) it can tell a person's actions from its
        # own and step aside; on the producer's link (tests) it just runs the agenda.
        self.pilot_token = autopilot_token or tokens.producer
        self.steps_aside = autopilot_token is not None
        self.phones = phones if phones is not None else {}
        self.on_step_aside = on_step_aside
        self.on_phone_joined = on_phone_joined
        self.comments = sample_comments()
        spec = load_event_file(EVENT_FILE)
        self.question_keys = {q.text: q.key for r in spec.rounds for q in r.questions}
        self.open_polls: set[int] = set()  # as the theme team sees them
        self.agenda_done = asyncio.Event()
        self.curated = asyncio.Event()  # the team's first pass after the agenda's end

    def coroutines(self) -> list[Coroutine[Any, Any, None]]:
        tables = [self.table(n, tok) for n, tok in self.tokens.tables.items()]
        phones = [self.phone(i) for i in range(PHONES)]
        producer = [self.producer()] if self.autopilot else []
        return [*tables, *phones, *producer, self.team()]

    async def table(self, number: int, token: str) -> None:
        rng = random.Random(number)
        # Each table goes through a question's comments in its own order.
        decks: dict[str, list[str]] = {}
        seq = 0
        async for ws in _reconnecting(f"{self.ws}/ws/table?token={token}"):
            hello = json.loads(await ws.recv())
            seq = max(seq, hello["last_seq"])
            now = {"question": hello["question"]}

            def follow(msg: dict[str, Any], now: dict[str, Any] = now) -> None:
                if msg["type"] == "question":  # the producer moved the agenda on
                    now["question"] = msg["question"]

            # Read all the time, not only while waiting for an ack: a question message
            # that arrived while the table "typed" must decide what it types next.
            answers: Answers = {}
            reader = asyncio.create_task(_read_answers(ws, answers, follow))
            try:
                while not reader.done():
                    await asyncio.sleep(rng.uniform(2, 12) * self.pace)
                    question = now["question"] or {}
                    key = self.question_keys.get(question.get("text", ""), "")
                    pool = self.comments.get(key) or [
                        c for cs in self.comments.values() for c in cs
                    ]
                    deck = decks.setdefault(key, [])
                    if not deck:
                        deck.extend(rng.sample(pool, len(pool)))
                    seq += 1
                    # Filed under the question it answers, as the table page and client do:
                    # a comment on its way as the producer moves on stays with its question.
                    comment = {"type": "comment", "seq": seq, "text": deck.pop()}
                    if question.get("id") is not None:
                        comment["question_id"] = question["id"]
                    await _ask_while(reader, ws, answers, comment)
            finally:
                reader.cancel()

    async def phone(self, i: int) -> None:
        rng = random.Random(i)
        token = self.phones.get(str(i))  # a restarted demo: the same phones reconnect
        if token is None:
            await asyncio.sleep(rng.uniform(0, 10) * self.pace)
            token = self.phones[str(i)] = await asyncio.to_thread(self._join, rng)
            if self.on_phone_joined:
                self.on_phone_joined()
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

    def _join(self, rng: random.Random) -> str:
        site = ""
        if self.sites:
            keys, weights = zip(*self.sites, strict=True)
            site = rng.choices(keys, weights=weights)[0]
        body = json.dumps({"code": self.tokens.code, "site": site}).encode()
        req = urllib.request.Request(
            f"{self.base}/api/join", body, {"content-type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return str(json.loads(r.read())["token"])

    async def producer(self) -> None:
        """Runs the agenda with its own producer link until a notice says someone else
        acted in a console (then it stops and says so, once) or the passes are done."""
        async for ws in _reconnecting(f"{self.ws}/ws/producer?token={self.pilot_token}"):
            hello = json.loads(await ws.recv())
            answers: Answers = {}
            person: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            watch = _watch_for_a_person(person) if self.steps_aside else None
            reader = asyncio.create_task(_read_answers(ws, answers, watch))
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
            if agenda.done() and not agenda.cancelled() and agenda.exception() is None:
                return  # every pass done; else the link dropped: carry on after reconnecting

    async def _run_agenda(self, ws: Any, hello: dict[str, Any], answers: Answers) -> None:
        async def write(msg: dict[str, Any]) -> None:
            await _ask(ws, answers, msg)

        polls = hello["event"]["polls"]
        questions = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
        current = (hello["event"]["current_question"] or {}).get("id")
        # Carry on where the meeting is: the open poll, else the first not yet opened.
        start = next((i for i, p in enumerate(polls) if p["status"] != "closed"), 0)
        for step in range(start, self.passes * len(polls)):
            poll = polls[step % len(polls)]
            # The questions follow the agenda: each is discussed through a share of the polls.
            question = questions[(step % len(polls)) * len(questions) // len(polls)]
            if question != current:
                await write({"type": "set_question", "question_id": question})
                current = question
            if step != start or poll["status"] != "open":
                await asyncio.sleep(5 * self.pace)
                timer = max(5, round(40 * self.pace))
                await write({"type": "open_poll", "poll_id": poll["id"], "seconds": timer})
            await asyncio.sleep(40 * self.pace)  # the screens follow: the poll, then its result
            await write({"type": "close_poll", "poll_id": poll["id"]})
            if poll.get("phase") == "after":  # the close of the meeting: how was it?
                await write({"type": "open_evaluation"})
            await asyncio.sleep(8 * self.pace)
            await write({"type": "screen", "mode": "demographics"})
            await asyncio.sleep(4 * self.pace)
        self.agenda_done.set()

    async def team(self) -> None:
        """A theme team of two at the workbench: every half minute, for each question,
        fold the smallest of many themes into the one it shares most keywords with,
        pin a quote on the largest, and publish the themes that hold enough comments
        (between polls, as publishing brings the themes wall up on the screens)."""
        url = f"{self.ws}/ws/team?token={self.tokens.team}"
        await _staff_session(url, self._curate, self._track_polls)

    def _track_polls(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "hello":
            self.open_polls = {p["id"] for p in msg["event"]["polls"] if p["status"] == "open"}
        elif msg["type"] == "poll":
            (self.open_polls.add if msg["poll"]["status"] == "open" else self.open_polls.discard)(
                msg["poll"]["id"]
            )

    async def _curate(self, ws: Any, hello: dict[str, Any], answers: Answers) -> None:
        self._track_polls(hello)
        questions = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
        rng = random.Random(2)
        published: dict[int, set[str]] = {}
        pinned: set[str] = set()

        async def op(msg: dict[str, Any]) -> dict[str, Any]:
            return await _ask(ws, answers, msg | {"name": rng.choice(TEAM)})

        while True:
            await asyncio.sleep(30 * self.pace)
            for qid in questions:
                await _curate_question(op, qid, published, pinned, not self.open_polls)
            if self.agenda_done.is_set():
                self.curated.set()


def _watch_for_a_person(person: asyncio.Future[None]) -> OnMessage:
    """Settles ``person`` at the first notice another producer link caused."""

    def watch(msg: dict[str, Any]) -> None:
        if msg.get("by") not in (None, AUTOPILOT) and not person.done():
            person.set_result(None)

    return watch


async def _curate_question(
    op: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    qid: int,
    published: dict[int, set[str]],
    pinned: set[str],
    may_publish: bool,
) -> None:
    async def listed() -> list[dict[str, Any]]:  # smallest first; none if refused
        synced = await op({"type": "sync", "question_id": qid})
        return sorted(synced.get("themes", {}).get("themes", []), key=lambda t: t["size"])

    themes = await listed()
    if len(themes) > MAX_THEMES:
        # Into the one sharing most keywords, as a person reading the list would.
        small, words = themes[0], set(themes[0].get("keywords") or ())
        shared = [(len(words & set(t.get("keywords") or ())), -t["size"]) for t in themes[1:]]
        into = themes[1 + shared.index(max(shared))]
        versions = {t["key"]: t["version"] for t in (small, into)}
        merge = {"type": "merge", "question_id": qid, "themes": [small["key"]]}
        await op(merge | {"into": into["key"], "versions": versions})
        themes = await listed()
    if not themes:
        return
    top = themes[-1]
    if top["quotes"] and top["key"] not in pinned:
        pinned.add(top["key"])
        pin = {"type": "pin_quote", "question_id": qid, "theme": top["key"]}
        await op(pin | {"comment": top["quotes"][-1]["id"], "version": top["version"]})
        themes = await listed()
    # A published theme's label stays until the team changes it; the team takes one
    # its comments now suggest (else screens name it by the comments it began with).
    offers = [t for t in themes if t.get("suggested_label")]
    for t in offers:
        rename = {"type": "rename", "question_id": qid, "theme": t["key"]}
        await op(rename | {"label": t["suggested_label"], "version": t["version"]})
    if offers:
        themes = await listed()
    # A theme grown into a catch-all is offered a split: one per round (each
    # changes the others' offers), while there is room (see MAX_THEMES).
    split = next((t for t in themes if t.get("split_offer")), None)
    if split is not None and len(themes) < MAX_THEMES:
        cut = {"type": "split", "question_id": qid, "theme": split["key"]}
        await op(cut | {"comments": split["split_offer"]["comments"], "version": split["version"]})
        themes = await listed()
    total = sum(t["size"] for t in themes)
    chosen = {t["key"]: t["version"] for t in themes if t["size"] >= 0.05 * total}
    if may_publish and chosen and set(chosen) != published.get(qid):
        reply = await op({"type": "publish", "question_id": qid, "themes": chosen})
        if reply["type"] == "ack":
            published[qid] = set(chosen)


async def _staff_session(
    url: str,
    run: Callable[[Any, dict[str, Any], Answers], Awaitable[None]],
    on_message: OnMessage | None = None,
) -> None:
    """A staff console's connection (made again after a drop): its hello, then ``run``
    while a reader settles each answer. It keeps reading while the console "waits"
    between steps, as a real one does: a client that stops reading is dropped."""
    async for ws in _reconnecting(url):
        hello = json.loads(await ws.recv())
        answers: Answers = {}
        reader = asyncio.create_task(_read_answers(ws, answers, on_message))
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


async def _ask_while(
    reader: asyncio.Task[None], ws: Any, answers: Answers, msg: dict[str, Any]
) -> None:
    """``_ask``, given up at once when ``reader`` stops (the link dropped), so the
    caller reconnects rather than waiting for an answer that cannot come."""
    asking = asyncio.ensure_future(_ask(ws, answers, msg))
    await asyncio.wait({asking, reader}, return_when=asyncio.FIRST_COMPLETED)
    if not asking.done():
        asking.cancel()
        raise ConnectionError("the link dropped before the answer came")
    asking.result()


async def _read_answers(ws: Any, answers: Answers, on_message: OnMessage | None = None) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        if on_message is not None:
            on_message(msg)
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
