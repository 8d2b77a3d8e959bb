"""Page 1 of the demo meeting's report, as printed, for the README.

Runs one pass of the demo meeting against a real server (tests/support/demo_meeting.py),
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
    from tests.support.demo_meeting import print_demo_report

    out = Path(__file__).parent / "report-page1"
    with tempfile.TemporaryDirectory() as tmp:
        _db, _html, pdf = await print_demo_report(Path(tmp))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(out)],
            check=True,
        )
    print(f"wrote {out}.png")


if __name__ == "__main__":
    asyncio.run(main())
