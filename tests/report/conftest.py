"""A generated meeting in a SQLite file, shared by the report tests of one module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import browser  # noqa: F401  (the Chromium fixture, for this folder)
from tests.report.eventgen import Generated, build_event


@dataclass
class Meeting:
    url: str
    path: Path
    gen: Generated


@pytest.fixture(scope="module")
def meeting(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    path = tmp_path_factory.mktemp("meeting") / "townhall.db"
    url = f"sqlite+aiosqlite:///{path}"
    return Meeting(url, path, build_event(url, participants=300, comments=400))
