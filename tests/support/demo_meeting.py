"""The demo meeting, for real: ``townhall serve --demo``'s simulation (16 tables typing,
60 phones joining at their sites and voting, a producer running the agenda once, a
theme team curating and publishing) against a real server with the real theming
worker and embedding model, at a fast pace. What it leaves in the database is what
an organiser would have after ``make demo``.

    .venv/bin/python -m tests.support.demo_meeting OUT.db   # keep one to look at
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from server.cli.demo import EVENT_FILE, Simulation
from server.event.eventfile import load_event_file
from server.report.build import build_report, report_pdf
from server.storage.db import Database
from tests.support.example import load_example
from tests.support.server import start_server

PACE = 0.05  # the demo's agenda ~20x faster: about half a minute
TIMEOUT_S = 150.0


async def run_demo_meeting(db_url: str, log: Path, pace: float = PACE) -> None:
    """Run one pass of the demo's agenda into ``db_url`` (a new database), then stop."""
    tokens = await asyncio.to_thread(load_example, db_url)
    proc, base = await asyncio.to_thread(
        start_server,
        db_url,
        log,
        # Theming in the web process, as ``serve --demo`` runs it: a separate theming
        # process loads the model on its own, and in a full CI run it was not
        # listening before this meeting's 150 s were up.
        {
            "TOWNHALL_THEMING": "true",
            "TOWNHALL_EMBEDDER": "minilm",
            "TOWNHALL_THEMING_PROCESS": "false",
        },
    )
    spec = load_event_file(EVENT_FILE)
    sim = Simulation(
        base, tokens, pace=pace, sites=[(s.key, s.tables) for s in spec.sites], passes=1
    )
    tasks = [asyncio.create_task(c) for c in sim.coroutines()]
    try:
        await asyncio.wait_for(sim.curated.wait(), TIMEOUT_S)
    finally:
        for t in tasks:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)


async def print_demo_report(folder: Path) -> tuple[Path, Path, Path]:
    """Run the demo meeting into ``folder``/demo.db and print its report there:
    (database, report.html, report.pdf)."""
    db = folder / "demo.db"
    url = f"sqlite+aiosqlite:///{db}"
    await run_demo_meeting(url, folder / "server.log")
    database = Database(url)
    try:
        html = await build_report(database, "riverton-budget")
    finally:
        await database.dispose()
    page = folder / "report.html"
    await asyncio.to_thread(page.write_text, html, encoding="utf-8")
    await report_pdf(page, folder / "report.pdf", timeout_s=120)
    return db, page, folder / "report.pdf"


if __name__ == "__main__":
    out = Path(sys.argv[1]).resolve()
    out.unlink(missing_ok=True)
    asyncio.run(run_demo_meeting(f"sqlite+aiosqlite:///{out}", out.with_suffix(".log")))
    print(f"demo meeting in {out}")
