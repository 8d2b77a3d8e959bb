"""A started meeting on the test database, without a web server: for tests of
the write side (group commits, live tallies) that call ``Meeting.handle``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.event.loader import IssuedTokens
from server.live.hub import MemoryHub
from server.live.meeting import Meeting
from server.settings import Settings
from server.storage.db import Database


@pytest.fixture
async def live_meeting(settings: Settings, tokens: IssuedTokens) -> AsyncIterator[Meeting]:
    db = Database(settings.db_url)
    meeting = Meeting(settings, db, MemoryHub())
    await meeting.start()
    try:
        yield meeting
    finally:
        await meeting.stop()
        await db.dispose()
