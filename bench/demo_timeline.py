"""The demo's themes over time: ``townhall serve --demo`` as ``make demo`` runs it
(its own process, default pace, the real embedding model, a fresh folder), read
from its database every few seconds: per question, the comments so far (and how
many distinct texts), the themes the team sees and how many are published. At
the end, what each theme holds by the concern each sample comment was written
for (the ``concern`` column of server/examples/sample-comments.csv), so one can
tell a theme whose label can name it from a mixed one.

    .venv/bin/python bench/demo_timeline.py --seconds 430 --every 10

The demo is one process (server, theming worker and the simulated room), so
there is no load generator to pin apart from it: ``--demo-cpus`` pins it, the
sampling here is a few SQLite reads. Target (issue 17, item 4): 120 s in, each
discussed question has at least 5 themes; the team page's own figures come from
tests/browser/test_demo_themes.py. Every line carries the load average.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pinning import load_average
from server.cli.simulation import SAMPLE
from tests.support.demo_process import running_demo

TARGET = 5
LIVE_THEMES = (  # themes on the workbench: a retired published row keeps no members
    "SELECT t.question_id, count(DISTINCT t.id), count(DISTINCT CASE WHEN t.published"
    " THEN t.id END) FROM theme t JOIN thememembership m ON m.theme_id = t.id"
    " GROUP BY t.question_id"
)
COMMENTS = (
    "SELECT question_id, count(*), count(DISTINCT text) FROM comment"
    " WHERE question_id IS NOT NULL GROUP BY question_id"
)
MEMBERS = (
    "SELECT t.question_id, t.label, t.published, c.text FROM theme t"
    " JOIN thememembership m ON m.theme_id = t.id JOIN comment c ON c.id = m.comment_id"
)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return list(conn.execute(sql))
    except sqlite3.OperationalError:  # not created yet, or busy
        return []


def sample_line(db: Path, at: float) -> str:
    themes = {q: (n, pub) for q, n, pub in rows(db, LIVE_THEMES)}
    parts = []
    for q, n, distinct in rows(db, COMMENTS):
        shown, published = themes.get(q, (0, 0))
        parts.append(
            f"q{q}: {n} comments ({distinct} distinct), {shown} themes "
            f"(ratio {shown / TARGET:.2f}), {published} published"
        )
    return f"{at:5.0f} s  " + ("; ".join(parts) or "no comments yet") + f"  [{load_average()}]"


def concern_mix(db: Path) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as f:
        concern = {r["text"]: r["concern"] for r in csv.DictReader(f)}
    mix: dict[tuple[Any, str, bool], Counter[str]] = defaultdict(Counter)
    for q, label, published, text in rows(db, MEMBERS):
        mix[(q, label, published)][concern.get(str(text), "?")] += 1
    out = []
    for (q, label, published), kinds in sorted(
        mix.items(), key=lambda x: (str(x[0][0]), -x[1].total())
    ):
        top = kinds.most_common(1)[0][1]
        held = ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        mark = "published" if published else "not published"
        out.append(
            f"q{q} {label!r} ({mark}): {kinds.total()} comments, "
            f"{top / kinds.total():.0%} one concern ({held})"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=150.0, help="how long to run the demo")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--demo-cpus", default="", help="taskset CPU list for the demo ('' none)")
    ap.add_argument("--keep", type=Path, help="folder to run in and keep (default: temporary)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="demo-timeline-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"demo in {folder}; {load_average()}", flush=True)
    with running_demo(
        folder, embedder="minilm", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"
    ) as demo:
        if args.demo_cpus:
            cpus = {int(c) for c in args.demo_cpus.split(",")}
            os.sched_setaffinity(demo.proc.pid, cpus)
        while (at := time.monotonic() - demo.started) < args.seconds:
            time.sleep(max(0.0, args.every - at % args.every))
            print(sample_line(demo.db, time.monotonic() - demo.started), flush=True)
        print("\n".join(concern_mix(demo.db)), flush=True)


if __name__ == "__main__":
    main()
