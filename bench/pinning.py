"""CPU pinning for the load benches: the server on one core, the load generator
on another, so the two do not take turns on the same core and the figures say
what the server does. Every bench prints the load average beside its figures:
the machine is shared and a busy neighbour moves every number."""

from __future__ import annotations

import argparse
import os


def add_pinning(ap: argparse.ArgumentParser) -> None:
    two = (os.cpu_count() or 1) >= 2
    ap.add_argument(
        "--server-cpus",
        default="0" if two else "",
        help="taskset CPU list for the server processes ('' for no pinning)",
    )
    ap.add_argument(
        "--load-cpus",
        default="1" if two else "",
        help="CPU list for this load generator ('' for no pinning)",
    )


def pin(args: argparse.Namespace) -> None:
    if args.load_cpus:
        cpus = {int(c) for c in args.load_cpus.split(",")}
        os.sched_setaffinity(0, cpus)
    print(
        f"pinning: server on CPU {args.server_cpus or 'any'}, load generator on CPU "
        f"{args.load_cpus or 'any'}; {load_average()}",
        flush=True,
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"
