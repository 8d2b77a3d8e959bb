"""Live themes as the theme team sees them, against the same comments themed offline.

    python bench/theming_live.py [--groups N] [--rate 4] [--tables 20] [--polis] [--order K]

Starts the real server from a cold start (its own SQLite file, theming on, the
real model), pinned to core 0 while this generator runs on core 1. Loads an
event with one question per (topic, stance) group of argkp-train.csv, then
streams each group's comments in random order through 20 table websockets at
a meeting's pace (``--rate`` comments a second), one question after another,
reading the theme team's websocket all along. Printed side by side, each with
its ratio to the target (issue 17):

- mean AMI (unassigned = singletons) offline (``themes suggest``) and live at
  25 %, 50 %, 100 % of each stream and after settling;
- themes found / true, unassigned share;
- label quality: cosine between each theme's label (themes of >= 3 comments)
  and the human key point of its majority gold theme, beside the same for the
  theme's most central comment; duplicate labels within a question;
- time from a comment's ack to its placement on the workbench (p50 / p95).

``--polis`` adds the three Polis files as three more questions (no gold:
theme count and placement time only).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from theming_common import (  # noqa: E402
    POLIS,
    Group,
    arrival_seed,
    cached_minilm,
    labels_from_output,
    load_argkp,
    mean_score,
    question_text,
    score,
)
from websockets.asyncio.client import connect  # noqa: E402

from server.cli.loadtest import percentile  # noqa: E402
from tests.support.example import load_example  # noqa: E402
from tests.support.server import free_port  # noqa: E402
from theming.cluster import centroid  # noqa: E402
from theming.model import Comment  # noqa: E402
from theming.suggest import suggest  # noqa: E402

MARKS = (0.25, 0.5, 1.0)


def event_file(questions: list[str], tables: int) -> str:
    rows = "\n".join(
        f'[[rounds.questions]]\nkey = "q{i}"\ntext = {json.dumps(q)}'
        for i, q in enumerate(questions)
    )
    return (
        'title = "Live theming bench"\nslug = "live-bench"\ncode = "LIVE01"\n'
        f'[[sites]]\nkey = "hall"\nname = "Hall"\ntables = {tables}\n'
        '[[rounds]]\nkey = "r1"\ntitle = "All questions"\n' + rows + "\n"
    )


def start_server(db_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TOWNHALL_THEMING": "true",
        "TOWNHALL_EMBEDDER": "minilm",
        "TOWNHALL_LOG_LEVEL": "warning",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--db", db_url, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["taskset", "-c", "0", *cmd], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    return proc, f"127.0.0.1:{port}"


async def wait_healthy(host: str) -> None:
    import urllib.request

    for _ in range(600):
        try:
            await asyncio.to_thread(urllib.request.urlopen, f"http://{host}/healthz", None, 1)
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise SystemExit("server did not start")


class Team:
    """The theme team's socket: latest themes message per question, placement times."""

    def __init__(self) -> None:
        self.latest: dict[int, dict[str, Any]] = {}
        self.placed_at: dict[int, float] = {}
        self.themed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def read(self, ws: Any) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") != "themes":
                continue
            now = time.perf_counter()
            self.latest[msg["question_id"]] = msg
            self.themed[msg["question_id"]].set()
            for cid in [m for t in msg["themes"] for m in t["members"]] + msg["unassigned"]:
                self.placed_at.setdefault(cid, now)


def as_output(msg: dict[str, Any] | None, ids: dict[int, str]) -> dict[str, Any]:
    if msg is None:
        return {"themes": []}
    return {
        "themes": [
            {"id": t["key"], "members": [ids[m] for m in t["members"] if m in ids]}
            for t in msg["themes"]
        ]
    }


async def stream_question(
    tables: list[Any], seqs: list[int], question_id: int, rows: list[tuple[str, str]], rate: float
) -> tuple[dict[int, str], dict[str, float]]:
    """Send comments in random order; returns comment id -> source id, and ack times."""
    order = list(rows)  # already in the order to send
    ids: dict[int, str] = {}
    acked: dict[str, float] = {}
    start = time.perf_counter()

    async def one(i: int, source_id: str, text: str) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        k = i % len(tables)
        seqs[k] += 1
        mid = str(uuid.uuid4())
        msg = {"type": "comment", "id": mid, "seq": seqs[k], "text": text}
        await tables[k].send(json.dumps({**msg, "question_id": question_id}))
        reply = await tables[k].replies.get(mid)
        acked[source_id] = time.perf_counter()
        ids[reply["comment_id"]] = source_id

    await asyncio.gather(*(one(i, sid, text) for i, (sid, text) in enumerate(order)))
    return ids, acked


class Table:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.replies = Replies()

    async def send(self, data: str) -> None:
        await self.ws.send(data)

    async def read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg.get("type") in ("ack", "error") and "id" in msg:
                self.replies.put(msg["id"], msg)


class Replies:
    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def _future(self, key: str) -> asyncio.Future[dict[str, Any]]:
        return self._futures.setdefault(key, asyncio.get_running_loop().create_future())

    def put(self, key: str, msg: dict[str, Any]) -> None:
        fut = self._future(key)
        if not fut.done():
            fut.set_result(msg)

    async def get(self, key: str) -> dict[str, Any]:
        return await asyncio.wait_for(self._future(key), 120)


def label_scores(
    groups: list[Group], outputs: list[dict[str, Any]], embed: Any
) -> tuple[float, float, int]:
    """Mean cosine label -> key point and central comment -> key point; duplicates."""
    label_cos, central_cos, duplicates = [], [], 0
    for g, out in zip(groups, outputs, strict=True):
        gold = dict(zip(g.ids, g.gold, strict=True))
        text = dict(zip(g.ids, g.texts, strict=True))
        labels = [t["label"] for t in out["themes"]]
        duplicates += len(labels) - len({x.casefold() for x in labels})
        for t in out["themes"]:
            members = [m for m in t["members"] if m in gold]
            if len(members) < 3:
                continue
            key_point = g.gold_labels[Counter(gold[m] for m in members).most_common(1)[0][0]]
            vectors = embed.encode([text[m] for m in members])
            central = text[members[int(np.argmax(vectors @ centroid(vectors)))]]
            kp, lab, cen = embed.encode([key_point, t["label"], central])
            label_cos.append(float(kp @ lab))
            central_cos.append(float(kp @ cen))
    return float(np.mean(label_cos)), float(np.mean(central_cos)), duplicates


def offline(groups: list[Group], embed: Any) -> list[dict[str, Any]]:
    return [
        suggest(
            [Comment(i, t) for i, t in zip(g.ids, g.texts, strict=True)],
            embed,
            question=question_text(g),
        )
        for g in groups
    ]


def report(name: str, scores: list[Any], target: str = "") -> None:
    m = mean_score(scores)
    print(
        f"  {name:18s} AMI {m.ami:.3f}  themes/true {m.themes_ratio:.2f}  "
        f"unassigned {1 - m.coverage:.2f}  {target}"
    )


async def run(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {1})
    groups = load_argkp()[: args.groups]
    polis = []
    if args.polis:
        for path in POLIS:
            with path.open(encoding="utf-8") as fh:
                polis.append([(f"{path.stem}:{r['id']}", r["text"]) for r in csv.DictReader(fh)])
    embed = cached_minilm()
    t0 = time.perf_counter()
    off = offline(groups, embed)
    print(f"offline themes suggest on {len(groups)} groups: {time.perf_counter() - t0:.0f} s")

    tmp = Path(tempfile.mkdtemp(prefix="townhall-live-"))
    questions = [question_text(g) for g in groups] + [f"Polis {i}" for i in range(len(polis))]
    questions.append("Warm-up")
    (tmp / "event.toml").write_text(event_file(questions, args.tables))
    db_url = f"sqlite+aiosqlite:///{tmp / 'live.db'}"
    tokens = await asyncio.to_thread(load_example, db_url, tmp / "event.toml")
    proc, host = start_server(db_url, tmp / "server.log")
    try:
        await wait_healthy(host)
        await measure(args, groups, polis, off, tokens, host, embed)
    finally:
        proc.terminate()
        proc.wait(30)


async def measure(
    args: argparse.Namespace,
    groups: list[Group],
    polis: list[list[tuple[str, str]]],
    off: list[dict[str, Any]],
    tokens: Any,
    host: str,
    embed: Any,
) -> None:
    team_ws = await connect(f"ws://{host}/ws/team?token={tokens.team}", max_size=2**26)
    hello = json.loads(await team_ws.recv())
    question_ids = [q["id"] for r in hello["event"]["rounds"] for q in r["questions"]]
    team = Team()
    readers = [asyncio.create_task(team.read(team_ws))]
    table_tokens = sorted(tokens.tables.items())[: args.tables]
    tables = []
    seqs = []
    for _, tok in table_tokens:
        ws = await connect(f"ws://{host}/ws/table?token={tok}")
        seqs.append(json.loads(await ws.recv()).get("last_seq", 0))
        tables.append(Table(ws))
        readers.append(asyncio.create_task(tables[-1].read()))
    # Cold start: the model loads on the first comment; time it, then start the clock.
    started = time.perf_counter()
    await stream_question(tables, seqs, question_ids[-1], [("warm", "Warm-up comment")], 1.0)
    await asyncio.wait_for(team.themed[question_ids[-1]].wait(), 600)
    print(f"cold start: first comment placed after {time.perf_counter() - started:.1f} s")
    at_mark: dict[float, list[Any]] = {m: [] for m in MARKS}
    all_ids: list[dict[int, str]] = []
    acks: dict[int, float] = {}
    for qi, g in enumerate(groups):
        qid = question_ids[qi]
        rows = list(zip(g.ids, g.texts, strict=True))
        ids, acked = await stream_marked(
            tables, seqs, qid, rows, args.rate, team, g, at_mark, args.order
        )
        all_ids.append(ids)
        acks.update({cid: acked[sid] for cid, sid in ids.items()})
        print(f"  question {qi + 1}/{len(groups)} streamed ({len(rows)} comments)", flush=True)
    for pi, rows in enumerate(polis):
        rows = random.Random(pi).sample(rows, len(rows))
        ids, acked = await stream_question(
            tables, seqs, question_ids[len(groups) + pi], rows, args.rate
        )
        acks.update({cid: acked[sid] for cid, sid in ids.items()})
    await asyncio.sleep(args.settle)
    settled = [
        score(g.gold, labels_from_output(g.ids, as_output(team.latest.get(question_ids[i]), ids)))
        for i, (g, ids) in enumerate(zip(groups, all_ids, strict=True))
    ]
    live_out = [
        {
            "themes": [
                {
                    "label": t["label"],
                    "members": [ids[m] for m in t["members"] if m in ids],
                }
                for t in (team.latest.get(question_ids[i]) or {"themes": []})["themes"]
            ]
        }
        for i, ids in enumerate(all_ids)
    ]
    print_results(groups, off, at_mark, settled, live_out, embed, team, acks, polis, question_ids)
    for task in readers:
        task.cancel()


async def stream_marked(
    tables: list[Table],
    seqs: list[int],
    qid: int,
    rows: list[tuple[str, str]],
    rate: float,
    team: Team,
    g: Group,
    at_mark: dict[float, list[Any]],
    order_seed: int = 0,
) -> tuple[dict[int, str], dict[str, float]]:
    """Stream in three parts; at each mark score what the team sees for the comments so far."""
    order = list(rows)
    random.Random(arrival_seed(order_seed, qid)).shuffle(order)
    gold = dict(zip(g.ids, g.gold, strict=True))
    ids: dict[int, str] = {}
    acked: dict[str, float] = {}
    done = 0
    for mark in MARKS:
        upto = max(1, round(mark * len(order)))
        part_ids, part_acked = await stream_question(tables, seqs, qid, order[done:upto], rate)
        ids.update(part_ids)
        acked.update(part_acked)
        done = upto
        sent = [sid for sid, _ in order[:upto]]
        out = as_output(team.latest.get(qid), ids)
        at_mark[mark].append(score([gold[s] for s in sent], labels_from_output(sent, out)))
    return ids, acked


def print_results(
    groups: list[Group],
    off: list[dict[str, Any]],
    at_mark: dict[float, list[Any]],
    settled: list[Any],
    live_out: list[dict[str, Any]],
    embed: Any,
    team: Team,
    acks: dict[int, float],
    polis: list[Any],
    question_ids: list[int],
) -> None:
    off_scores = [
        score(g.gold, labels_from_output(g.ids, o)) for g, o in zip(groups, off, strict=True)
    ]
    o = mean_score(off_scores)
    end, half = mean_score(at_mark[1.0]), mean_score(at_mark[0.5])
    print(f"\n{len(groups)} questions, comments streamed at the rate above through the server")
    report("offline (suggest)", off_scores)
    report("live at 25 %", at_mark[0.25])
    report(
        "live at 50 %",
        at_mark[0.5],
        f"target >= 0.8 x offline: ratio {(0.8 * o.ami) / max(half.ami, 1e-9):.2f} (<= 1 meets)",
    )
    report(
        "live at 100 %",
        at_mark[1.0],
        f"target >= offline - 0.01: ratio {(o.ami - 0.01) / max(end.ami, 1e-9):.2f} (<= 1 meets)",
    )
    report("live settled", settled)
    s = mean_score(settled)
    print(
        f"  theme count at the end {end.themes_ratio:.2f} x true, settled {s.themes_ratio:.2f} "
        "(target 0.7-1.3)"
    )
    lab, cen, dup = label_scores(groups, live_out, embed)
    olab, ocen, odup = label_scores(groups, off, embed)
    print(
        f"  labels (live, settled): cosine to key point {lab:.3f}, most central comment {cen:.3f}, "
        f"difference {lab - cen:+.3f} (target >= +0.03), duplicate labels {dup}"
    )
    print(
        f"  labels (offline): cosine {olab:.3f}, central {ocen:.3f}, "
        f"difference {olab - ocen:+.3f}, duplicates {odup}"
    )
    delays = [team.placed_at[c] - t for c, t in acks.items() if c in team.placed_at]
    p95 = percentile(delays, 95)
    print(
        f"  ack -> placed on the workbench: p50 {percentile(delays, 50):.2f} s, p95 {p95:.2f} s "
        f"(target p95 <= 3 s: ratio {p95 / 3:.2f}); {len(delays)} of {len(acks)} seen"
    )
    for pi in range(len(polis)):
        msg = team.latest.get(question_ids[len(groups) + pi]) or {"themes": [], "unassigned": []}
        print(
            f"  polis {pi}: {len(polis[pi])} comments -> {len(msg['themes'])} themes, "
            f"{len(msg['unassigned'])} unassigned"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--groups", type=int, default=47, help="first N (topic, stance) groups")
    ap.add_argument("--rate", type=float, default=4.0, help="comments a second (meeting: 2-5)")
    ap.add_argument("--tables", type=int, default=20)
    ap.add_argument("--settle", type=float, default=15.0, help="seconds to wait at the end")
    ap.add_argument("--polis", action="store_true", help="add the Polis files (no gold)")
    ap.add_argument(
        "--order",
        type=int,
        default=0,
        help="which random arrival order (0: the one earlier runs used); the end-of-stream "
        "mark depends on where the last re-cluster falls, so compare several",
    )
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
