"""When a question that is being discussed live is re-clustered.

Comments reach a question a few a second. Each arrival is placed at once
(``ThemeEngine.add``: it joins the nearest theme or waits in unassigned), but
placement never changes the themes themselves, so a question clustered once,
early, would keep its first handful of themes for ever. The question is
therefore re-clustered (``ThemeEngine.retheme``: ids kept, curated themes
kept) as it grows:

- once it first has ``first_at`` comments;
- whenever it has grown by ``growth`` (a share) since the last re-cluster;
- every ``interval`` seconds while comments keep arriving;
- ``settle`` seconds after arrivals pause, so a question that has gone quiet
  ends exactly where ``townhall themes suggest`` would put the same comments.

A re-cluster of a large question costs time, so two re-clusters are always
at least ``cost_factor`` times the last one's duration apart: the theming
thread spends at most about 1/``cost_factor`` of its time re-clustering.
Chosen with ``bench/theming_live_sim.py`` (the policy replayed without the server)
on argkp-train.csv and checked through the server with ``bench/theming_live.py``.
``growth`` 0.08 (was 0.15): with ``--as-server`` over 8 arrival orders the
team's view at the end of a stream scored AMI 0.216 against 0.211, for 27
re-clusters per question instead of 17 and 2.5 themes retired (each a logged
step) instead of 1.4. The end-of-stream mark depends on where the last
re-cluster fell: one order through the server moves it by +-0.005.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["LiveClock", "LivePolicy"]


@dataclass(frozen=True)
class LivePolicy:
    first_at: int = 6
    growth: float = 0.08
    interval: float = 8.0
    settle: float = 3.0
    cost_factor: float = 5.0


@dataclass
class LiveClock:
    """One question's re-cluster bookkeeping (times in seconds, any monotonic clock)."""

    size_at_last: int = 0
    last_recluster: float = -math.inf
    last_duration: float = 0.0
    last_arrival: float = -math.inf
    # Size of the question when its labels were last chosen as settled (-1: never).
    labels_settled: int = -1

    def arrived(self, now: float) -> None:
        self.last_arrival = now

    def due(self, policy: LivePolicy, size: int, now: float) -> bool:
        """Whether the question, now holding ``size`` comments, should be re-clustered."""
        if size < policy.first_at or size == self.size_at_last:
            return False
        since = now - self.last_recluster
        if since < policy.cost_factor * self.last_duration:
            return False
        return (
            size >= self.size_at_last * (1 + policy.growth)
            or since >= policy.interval
            or self.quiet(policy, now)
        )

    def quiet(self, policy: LivePolicy, now: float) -> bool:
        """No arrival for ``policy.settle`` seconds: the stream has paused."""
        return now - self.last_arrival >= policy.settle

    def reclustered(self, size: int, started: float, finished: float) -> None:
        self.size_at_last = size
        self.last_recluster = finished
        self.last_duration = max(0.0, finished - started)
