"""A poll's results beyond the raw count: re-weighted to the census
(post-stratification, with the effective sample size) and broken down by each
demographic question with small groups suppressed.

Heavier than a tally (a cross-tab per question), so the server sends it at
most every few seconds, not with every tally.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import tally as tallying
from server.budget import BUDGET_KINDS
from server.budget_views import budget_breakdown
from server.models import Poll, Vote
from server.views import (
    demographic_questions_with_options,
    poll_options,
    poll_spec,
    voter_demographics,
)
from server.weighting import poststratify_weights, weighted_tally


async def ballots_with_demographics(s: AsyncSession, poll_id: int) -> list[tallying.Ballot]:
    votes = (
        await s.exec(select(Vote.participant_id, Vote.choice).where(Vote.poll_id == poll_id))
    ).all()
    demo = await voter_demographics(s, poll_id)
    return [
        tallying.Ballot(
            participant_id=str(pid), choice=json.loads(c), demographics=demo.get(pid, {})
        )
        for pid, c in votes
    ]


async def breakdown_view(s: AsyncSession, poll_id: int, threshold: int) -> dict[str, Any]:
    poll = await s.get(Poll, poll_id)
    assert poll is not None and poll.id is not None
    spec = poll_spec(poll, await poll_options(s, poll.id))
    ballots = await ballots_with_demographics(s, poll.id)
    census: dict[str, dict[str, float]] = {}
    crosstabs = []
    for q, options in await demographic_questions_with_options(s, poll.event_id):
        shares = {o.key: o.census_share for o in options if o.census_share is not None}
        if shares:
            census[q.key] = shares
        table = tallying.crosstab(
            spec, ballots, q.key, {o.key: o.label for o in options}, threshold
        )
        crosstabs.append({"prompt": q.prompt, **table.to_dict()})
    weighted = None
    if census and ballots:
        weights = poststratify_weights(ballots, census)
        weighted = weighted_tally(spec, ballots, weights).to_dict()
    out = {"type": "breakdown", "poll_id": poll.id, "weighted": weighted, "crosstabs": crosstabs}
    if poll.kind in BUDGET_KINDS:
        # Means, funded sets and balances per group: see server/budget_groups.py.
        out["budget"] = await budget_breakdown(s, poll, threshold)
    return out
