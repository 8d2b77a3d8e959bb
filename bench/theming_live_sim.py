"""The live re-cluster policy replayed without the server, to tune ``theming.live``.

    python bench/theming_live_sim.py [--groups N] [--rate 5] [--growth 0.15]
        [--interval 8] [--settle 3] [--first-at 6] [--seeds 2] [--as-server]

Each (topic, stance) group of argkp-train.csv is one question; its comments
arrive one by one in random order at ``--rate`` a second on a simulated clock.
Every arrival goes through ``ThemeEngine.add`` and the policy is asked, as the
worker does after each arrival and on its one-second tick, whether to
re-cluster (``ThemeEngine.retheme``, its real duration charged to the clock).
Prints mean AMI over the comments sent so far (as ``bench/theming_live.py``
scores them) at 25 %, 50 %, 100 % of each stream and after it settles,
beside offline ``themes suggest`` on the same comments, with the issue's
targets and ratios. ``--labels``: once each question settles, its labels are
chosen as the server chooses them then (``refresh_labels(settled=True)``) and
scored as ``bench/theming_labels.py`` does (cosine to the key point of each
theme's majority gold theme, against its most central comment), over every
order: the live labels' figure with less noise than one server run. Much
faster than the real-server bench, so candidate policies can be compared on
the whole train file; confirm the chosen one through the server with
``bench/theming_live.py``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from theming_common import (  # noqa: E402
    Group,
    Score,
    arrival_seed,
    cached_minilm,
    labels_from_output,
    load_argkp,
    mean_score,
    question_text,
    score,
)

from theming.cluster import centroid  # noqa: E402
from theming.engine import ThemeEngine  # noqa: E402
from theming.live import LiveClock, LivePolicy  # noqa: E402
from theming.model import Comment  # noqa: E402
from theming.suggest import suggest  # noqa: E402

MARKS = (0.25, 0.5, 1.0)
TICK = 1.0  # the worker's tick (server/themes/worker.py)


View = tuple[dict[str, Any], list[str]]  # the team's themes, the comment ids sent so far


# --as-server: the share of arrivals the worker takes in one batch with the
# next (it came while the last was being placed; 26 of 947 in a logged
# 12-group run through the server at 5 a second).
PAIRED = 0.03


def stream(
    g: Group,
    embed: Any,
    policy: LivePolicy,
    rate: float,
    rng: random.Random,
    as_server: bool = False,
    order_seed: Any = None,
    labels: list[tuple[float, float]] | None = None,
    publish_at: float | None = None,
) -> tuple[dict[str, View], Counter[str]]:
    """One question streamed; the team's view (as a suggest-like output) at each
    mark, and counts: re-clusters, themes they retired (each a logged machine
    step) and themes whose members they changed.

    ``as_server``: as ``bench/theming_live.py`` sees it: arrivals exactly
    1/``rate`` apart, a few taken two at a time, and each mark read before its
    last comment is placed (that bench scores at the comment's ack).
    ``labels``: appended (label, central comment) cosines to the key point,
    per theme of >= 3 comments once settled. ``publish_at``: at that share of
    the stream every theme is published (locked: no re-cluster reshapes it,
    as the server treats the themes on the screens); counts ``largest`` adds
    the settled question's largest theme share, in thousandths."""
    order = list(range(len(g.ids)))
    (rng if order_seed is None else random.Random(order_seed)).shuffle(order)
    vectors = embed.encode(g.texts)
    engine = ThemeEngine(embed)
    engine.question = question_text(g)
    clock = LiveClock()
    now, next_tick = 0.0, TICK
    marks = {max(1, round(m * len(order))): m for m in MARKS}
    views: dict[str, View] = {}
    counts: Counter[str] = Counter()

    def maybe_recluster() -> None:
        if clock.due(policy, len(engine.comments), now):
            started = time.perf_counter()
            result = engine.retheme()
            clock.reclustered(len(engine.comments), now, now + time.perf_counter() - started)
            counts.update(
                reclusters=1, retired=len(result["retired"]), changed=len(result["changed"])
            )

    def view() -> dict[str, Any]:
        snap = engine.snapshot(quotes=0, keywords=0)
        return {"themes": [{"id": t["id"], "members": t["members"]} for t in snap["themes"]]}

    held: list[int] = []
    publish_n = round(publish_at * len(order)) if publish_at else 0
    for n, i in enumerate(order, start=1):
        if n == publish_n:
            for theme in engine.themes.values():
                theme.locked = True
        now += 1 / rate if as_server else rng.expovariate(rate)
        while next_tick < now:  # the tick between arrivals
            saved, now = now, next_tick
            maybe_recluster()
            now, next_tick = saved, next_tick + TICK
        if as_server and n in marks:
            views[f"{marks[n]:.0%}"] = (view(), [g.ids[j] for j in order[:n]])
        held.append(i)
        if as_server and n not in marks and rng.random() < PAIRED:
            continue  # placed with the next one
        engine.add([Comment(g.ids[j], g.texts[j]) for j in held], vectors[held])
        held.clear()
        clock.arrived(now)
        maybe_recluster()
        if n in marks and not as_server:
            views[f"{marks[n]:.0%}"] = (view(), [g.ids[j] for j in order[:n]])
    for _ in range(30):  # settle: ticks until nothing is due
        now += TICK
        maybe_recluster()
    views["settled"] = (view(), g.ids)
    sizes = [len(engine.members(tid)) for tid in engine.themes]
    counts["largest"] += round(1000 * max(sizes, default=0) / len(order))
    if labels is not None:
        labels.extend(settled_labels(g, engine, vectors))
    return views, counts


def settled_labels(g: Group, engine: ThemeEngine, vectors: Any) -> list[tuple[float, float]]:
    """(label, most central comment) cosine to the majority gold key point, per
    theme of >= 3 comments, after the settled relabel the server makes."""
    engine.refresh_labels(settled=True)
    row = {cid: k for k, cid in enumerate(g.ids)}
    out = []
    for tid, theme in engine.themes.items():
        members = engine.members(tid)
        if len(members) < 3:
            continue
        majority = Counter(g.gold[row[m]] for m in members).most_common(1)[0][0]
        m = vectors[[row[c] for c in members]]
        central = g.texts[row[members[int(np.argmax(m @ centroid(m)))]]]
        kp, label, comment = engine.embedder.encode([g.gold_labels[majority], theme.label, central])
        out.append((float(kp @ label), float(kp @ comment)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--groups", type=int, default=0, help="first N groups (default: all)")
    ap.add_argument("--rate", type=float, default=5.0, help="comments a second")
    ap.add_argument("--first-at", type=int, default=LivePolicy.first_at)
    ap.add_argument("--growth", type=float, default=LivePolicy.growth)
    ap.add_argument("--interval", type=float, default=LivePolicy.interval)
    ap.add_argument("--settle", type=float, default=LivePolicy.settle)
    ap.add_argument("--cost-factor", type=float, default=LivePolicy.cost_factor)
    ap.add_argument("--seeds", type=int, default=1, help="random arrival orders per group")
    ap.add_argument(
        "--bench-order",
        type=int,
        default=None,
        help="the arrival orders of bench/theming_live.py --order K (one order per group)",
    )
    ap.add_argument(
        "--as-server",
        action="store_true",
        help="arrivals and marks as bench/theming_live.py has them (steady pace, a few\n"
        "arrivals placed in pairs, each mark read before its last comment is placed)",
    )
    ap.add_argument("--labels", action="store_true", help="score the settled labels too")
    ap.add_argument(
        "--publish-at",
        type=float,
        default=None,
        help="publish (lock) every theme at this share of each stream, e.g. 0.25",
    )
    args = ap.parse_args()
    policy = LivePolicy(args.first_at, args.growth, args.interval, args.settle, args.cost_factor)
    groups = load_argkp()
    groups = groups[: args.groups] if args.groups else groups
    embed = cached_minilm()
    print(f"{len(groups)} groups, {sum(len(g.ids) for g in groups)} comments, {policy}")
    offline = []
    for g in groups:
        out = suggest(
            [Comment(i, t) for i, t in zip(g.ids, g.texts, strict=True)],
            embed,
            question=question_text(g),
        )
        offline.append(score(g.gold, labels_from_output(g.ids, out)))
    off = mean_score(offline).ami
    scores: dict[str, list[Score]] = {k: [] for k in ("25%", "50%", "100%", "settled")}
    counts: Counter[str] = Counter()
    labels: list[tuple[float, float]] | None = [] if args.labels else None
    for seed in range(args.seeds):
        rng = random.Random(seed)
        for gi, g in enumerate(groups):
            # In bench/theming_live.py's event, group gi is question id gi + 1.
            bench = args.bench_order
            seed_of_order = None if bench is None else arrival_seed(bench, gi + 1)
            views, n = stream(
                g,
                embed,
                policy,
                args.rate,
                rng,
                args.as_server,
                seed_of_order,
                labels,
                args.publish_at,
            )
            counts += n
            gold = dict(zip(g.ids, g.gold, strict=True))
            for k in scores:
                out, sent = views[k]
                scores[k].append(score([gold[i] for i in sent], labels_from_output(sent, out)))
        if args.seeds > 1:  # one order per group is one run of the real-server bench
            this = {k: mean_score(v[-len(groups) :]).ami for k, v in scores.items()}
            print(f"  order {seed}: at 50 % {this['50%']:.3f}, at 100 % {this['100%']:.3f}")
    targets = {"50%": 0.8 * off, "100%": off - 0.01}
    print(f"  offline            AMI {off:.3f}")
    for k, vals in scores.items():
        m = mean_score(vals)
        line = f"  live {k:8s}      AMI {m.ami:.3f}  themes/true {m.themes_ratio:.2f}"
        if k in targets:
            line += f"  target >= {targets[k]:.3f}: ratio {targets[k] / m.ami:.2f} (<= 1 meets)"
        print(line)
    if labels:
        lab, cen = np.array(labels).T
        diff = lab.mean() - cen.mean()
        print(
            f"  labels settled: cosine to key point {lab.mean():.3f}, most central comment "
            f"{cen.mean():.3f}, difference {diff:+.3f} (target >= +0.03: ratio {diff / 0.03:.2f}); "
            f"{len(labels)} themes over {args.seeds} orders"
        )
    runs = len(groups) * args.seeds
    print(
        f"  re-clusters per question: {counts['reclusters'] / runs:.1f}; themes retired per "
        f"question {counts['retired'] / runs:.1f} (each a logged step), changed "
        f"{counts['changed'] / runs:.1f}; largest theme {counts['largest'] / runs / 10:.1f} % "
        "of its question once settled"
    )


if __name__ == "__main__":
    main()
