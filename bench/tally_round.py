"""One round of live tallies at N ballots, as a web process computes it for the
screens (``LiveTallies.views``: the whole event and each site), on PostgreSQL.

Where several processes write (a Redis hub), a process does not see the others'
ballots, so every round re-reads the poll's ballots from the database
(``exact=False``); one process keeps them in memory (``exact=True``). The CPU a
round costs the web process, and PostgreSQL's backend, grow with the ballots of
the whole event, not with the process's own phones: this is what limits how
often four processes can refresh the screens of 20,000 phones.

    python bench/tally_round.py --ballots 5000 10000 20000

Runs on CPU 0 (the benches' server core; ``--cpu``); PostgreSQL on its own cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meters import PostgresMeter  # noqa: E402
from pinning import load_average  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from server.live.tallies import LiveTallies  # noqa: E402
from server.storage.db import Database  # noqa: E402
from server.storage.models import Participant, Poll, Site, Vote  # noqa: E402
from server.storage.poll_store import poll_options  # noqa: E402
from tests.support.database import postgres_database  # noqa: E402
from tests.support.example import load_example  # noqa: E402


async def add_ballots(db: Database, event_id: int, poll: Poll, sites: list[int], n: int) -> None:
    """``n`` more participants, spread over the sites, each with a valid ballot."""
    async with db.session() as s:
        assert poll.id is not None
        options = [o.key for o in await poll_options(s, poll.id)]
        rows = [{"event_id": event_id, "site_id": sites[i % len(sites)]} for i in range(n)]
        conn = await s.connection()  # core inserts, many rows in one statement
        added = await conn.execute(insert(Participant).returning(col(Participant.id)), rows)
        ids = [pid for pid in added.scalars().all() if pid is not None]
        votes = [
            {
                "poll_id": poll.id,
                "participant_id": pid,
                "choice": json.dumps([options[pid % len(options)]]),
                "seq": 1,
                "client_id": f"bench-{pid}",
            }
            for pid in ids
        ]
        await conn.execute(insert(Vote), votes)
        await s.commit()


async def rounds(db: Database, tallies: LiveTallies, poll: Poll, sites: list[int], n: int) -> float:
    """CPU seconds of this process per round, over ``n`` rounds."""
    cpu = time.process_time()
    for version in range(n):
        async with db.session() as s:
            assert poll.id is not None
            await tallies.views(s, poll.id, sites, 10, version)
    return (time.process_time() - cpu) / n


async def main_async(args: argparse.Namespace, url: str) -> None:
    tokens = await asyncio.to_thread(load_example, url)
    db = Database(url)
    pg = PostgresMeter(url)
    async with db.session() as s:
        single = select(Poll).where(
            col(Poll.event_id) == tokens.event_id, col(Poll.kind) == "single"
        )
        poll = (await s.exec(single.order_by(col(Poll.position)))).first()
        sites = [i for i in (await s.exec(select(col(Site.id)))).all() if i]
    assert poll is not None
    have = 0
    for target in args.ballots:
        await add_ballots(db, tokens.event_id, poll, sites, target - have)
        have = target
        await rounds(db, LiveTallies(exact=False), poll, sites, 2)  # warm the caches
        before = pg.cpu()["backends"]
        wall = time.perf_counter()
        reread = await rounds(db, LiveTallies(exact=False), poll, sites, args.rounds)
        wall = (time.perf_counter() - wall) / args.rounds
        backend = (pg.cpu()["backends"] - before) / args.rounds
        held = LiveTallies(exact=True)
        await rounds(db, held, poll, sites, 1)  # the first round reads them once
        exact = await rounds(db, held, poll, sites, args.rounds)
        print(
            f"{target} ballots, {len(sites)} sites: re-read from PostgreSQL (several "
            f"processes): {reread * 1000:.0f} ms CPU per round in the web process "
            f"({wall * 1000:.0f} ms wall), {backend * 1000:.0f} ms in PostgreSQL's backend; "
            f"held in memory (one process): {exact * 1000:.0f} ms CPU per round",
            flush=True,
        )
    await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ballots", type=int, nargs="+", default=[5000, 10000, 20000])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--cpu", default="0", help="CPU list for this process ('' for none)")
    args = ap.parse_args()
    if args.cpu:
        os.sched_setaffinity(0, {int(c) for c in args.cpu.split(",")})
    print(f"this process on CPU {args.cpu or 'any'}; {load_average()}", flush=True)
    with postgres_database() as url:
        asyncio.run(main_async(args, url))
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
