"""Page 1 of the demo meeting's report, as printed, for the README.

Runs one pass of the demo meeting against a real server (tests/report/demo_meeting.py),
prints the report with Chromium and turns page 1 into a PNG with pdftoppm.

    .venv/bin/python docs/screenshots/report_page.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


async def main() -> None:
    from server.db import Database
    from server.report import build_report, report_pdf
    from tests.report.demo_meeting import run_demo_meeting

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
        await run_demo_meeting(url, folder / "server.log")
        db = Database(url)
        try:
            html = await build_report(db, "riverton-budget")
        finally:
            await db.dispose()
        (folder / "report.html").write_text(html, encoding="utf-8")
        await report_pdf(folder / "report.html", folder / "report.pdf")
        out = Path(__file__).parent / "report-page1"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
             str(folder / "report.pdf"), str(out)],
            check=True,
        )
    print(f"wrote {out}.png")


if __name__ == "__main__":
    asyncio.run(main())
