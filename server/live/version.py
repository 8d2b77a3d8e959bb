"""The version stamped on pushed state (tallies, breakdowns, demographics) and on
vote acks: the server clock in milliseconds, strictly increasing in a process.

A state's version is taken *before* its transaction reads the database (one for
all the results of a broadcast round, one per ``hello``) and an ack's
*after* its commit, so a client holding an ack with version ``v`` knows that any
tally with a version above ``v`` counts its ballot; a screen keeps the highest
version it has seen and drops an older one that arrives late (several server
processes publish through one hub). On one machine all processes share a clock.
"""

from __future__ import annotations

import time


class VersionClock:
    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(time.time_ns() // 1_000_000, self._last + 1)
        return self._last
