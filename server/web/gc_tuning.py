"""The garbage collector of a server process holding thousands of sockets.

Measured with 1,500 phones joining (bench/vote_load.py --joins-only), Python's
default collector spent ~1.8 s of the server's ~7 s of CPU: each young
collection (every 700 allocations) promoted the objects of the requests then in
flight, and every few seconds the promoted ones set off a full collection that
walked all ~380,000 live objects (200 ms each; more with 5,000 phones). With the
start-up's objects (modules, mappers, schemas: never garbage) frozen out of every
collection and young collections every 20,000 allocations, most request objects
are gone before a collection sees them, and no full collection ran: 0.2 s.

Only server processes tune it (``Settings.tune_gc``, set by ``townhall serve``):
a test process running many apps in turn keeps the defaults.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def tune() -> None:
    """Call once the server has started: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
