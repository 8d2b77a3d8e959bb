"""Reconnect delays: exponential with full jitter.

Full jitter (a uniform draw between 0 and the exponential cap) spreads the
reconnects of hundreds of tables after a venue wifi blip, instead of having
them all hit the server at the same instants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 10.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 30)  # keep 2**attempt finite
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0
