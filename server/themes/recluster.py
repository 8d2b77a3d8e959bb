"""Live re-clustering of a question as its comments arrive (policy in ``theming.live``).

A re-cluster may retire themes the team has already seen. Each one is logged
as the machine's own step, filed under the retired theme: where most of its
comments went ("merged into …") or that they went back to unassigned. Themes
the team published are held: they keep their label and every comment they had
when a person last acted on them, and may gain comments; a comment the machine
added since is placed afresh by each re-cluster, and a held theme that gives
some back gets a log row too (``released``: how many, and where most went).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from server.storage.models import CurationLog
from theming.engine import ThemeEngine
from theming.live import LiveClock, LivePolicy
from theming.model import DISCARDED, UNASSIGNED

MACHINE = "townhall (automatic re-cluster)"


def live_step(
    engine: ThemeEngine,
    clock: LiveClock,
    policy: LivePolicy,
    held: set[str],
    *,
    arrived: bool,
    recluster: bool = True,
    relabel: bool = True,
) -> list[dict[str, Any]]:
    """Re-cluster ``engine`` if its question is due (and ``recluster`` allows it),
    then relabel what changed (unless ``relabel`` is false: a theme whose members
    changed stays stale, and the next relabel picks it up; a retired theme's row
    then names the label its heir had at the re-cluster). Once the question has
    gone quiet, every machine-named theme gets its best label (settled).

    Runs in the theming thread. Returns the retired themes, each with its
    last label and size and the theme that took most of its comments."""
    now = time.monotonic()
    if arrived:
        clock.arrived(now)
    hold(engine, held)
    retired: list[dict[str, Any]] = []
    if recluster and clock.due(policy, len(engine.comments), now):
        before = {tid: (t.label, len(engine.members(tid))) for tid, t in engine.themes.items()}
        result = engine.retheme()
        clock.reclustered(len(engine.comments), now, time.monotonic())
        retired = [
            {"theme": tid, "label": before[tid][0], "size": before[tid][1], "into": into}
            for tid, into in result["retired_into"].items()
        ]
        retired += [
            {"theme": tid, "label": before[tid][0], "size": before[tid][1], "released": len(gone)}
            | {"into": _most(engine.where(c) for c in gone)}
            for tid, gone in result["released"].items()
        ]
    if relabel:
        relabel_themes(engine, clock, held, settled=clock.quiet(policy, now))
    for row in retired:
        row["into_label"] = engine.themes[row["into"]].label if row["into"] else None
    return retired


def hold(engine: ThemeEngine, held: set[str]) -> None:
    """Lock the published themes ``held``: before comments are placed, so those
    that join one count as the machine's, and before a re-cluster."""
    for tid in held & set(engine.themes):
        engine.themes[tid].locked = True


def _most(places: Iterable[str]) -> str | None:
    """The theme most of ``places`` name (None: most are in no theme)."""
    counts = Counter(places)
    best = max(counts, key=lambda p: (counts[p], p), default=None)
    return best if best not in (None, UNASSIGNED, DISCARDED) else None


def relabel_themes(
    engine: ThemeEngine, clock: LiveClock, held: set[str], *, settled: bool
) -> list[str]:
    """``engine.refresh_labels`` (``settled``: every machine-named theme, the
    question being quiet, noted on ``clock``); the ids whose label changed."""
    changed = engine.refresh_labels(frozen=held, settled=settled)
    if settled:
        clock.labels_settled = len(engine.comments)
    return changed


def machine_rows(
    event_id: int, question_id: int, retired: list[dict[str, Any]]
) -> list[CurationLog]:
    """One curation-log row per retired theme, filed under that theme (and one
    per held theme that gave back comments the machine had added: ``released``)."""
    return [
        CurationLog(
            event_id=event_id,
            question_id=question_id,
            actor=MACHINE,
            action="recluster",
            theme_key=r["theme"],
            before=json.dumps({"label": r["label"], "size": r["size"]}),
            after=json.dumps(
                {"into": r["into"], "into_label": r["into_label"]}
                | ({"released": r["released"]} if "released" in r else {})
            ),
        )
        for r in retired
    ]
