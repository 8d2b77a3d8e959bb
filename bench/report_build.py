"""Time to build the same-day report for a big meeting.

5,000 participants with demographics, 5,000 comments in themes, 4 polls with
about 5,000 ballots each. Target: <= 10 s on 2 cores.

    .venv/bin/python bench/report_build.py [--participants N] [--comments N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 10.0


def main() -> None:
    from server.report.build import build_report
    from server.storage.db import Database
    from tests.support.eventgen import build_event

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=5000)
    ap.add_argument("--comments", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        gen = build_event(url, participants=args.participants, comments=args.comments, seed=1)
        print(f"generated the meeting in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        async def go() -> tuple[float, int]:
            db = Database(url)
            try:
                start = time.perf_counter()
                html = await build_report(db, gen.slug)
                return time.perf_counter() - start, len(html)
            finally:
                await db.dispose()

        seconds, size = asyncio.run(go())
    print(
        f"report build: {seconds:.2f} s for {args.participants} participants, "
        f"{args.comments} comments, 4 polls ({size / 1024:.0f} KiB of HTML)"
    )
    print(f"ratio to the {TARGET_S:.0f} s target: {seconds / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
