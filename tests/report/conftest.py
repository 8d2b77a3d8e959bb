"""A generated meeting in a SQLite file, shared by the report tests of one module."""

from __future__ import annotations

import pytest

from tests.support.eventgen import StoredMeeting, build_event


@pytest.fixture(scope="module")
def meeting(tmp_path_factory: pytest.TempPathFactory) -> StoredMeeting:
    path = tmp_path_factory.mktemp("meeting") / "townhall.db"
    url = f"sqlite+aiosqlite:///{path}"
    return StoredMeeting(url, path, build_event(url, participants=300, comments=400))
