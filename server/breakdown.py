"""A poll's results beyond the raw count: re-weighted to the census
(post-stratification, with the effective sample size) and broken down by each
demographic question with small groups suppressed.

Heavier than a tally (a cross-tab per question), so the server sends it at
most every few seconds, not with every tally.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import tally as tallying
from server.budget import BUDGET_KINDS
from server.budget_views import budget_breakdown
from server.models import DemographicAnswer, DemographicOption, DemographicQuestion, Poll, Vote
from server.views import poll_options, poll_spec
from server.weighting import poststratify_weights, weighted_tally


async def ballots_with_demographics(s: AsyncSession, poll_id: int) -> list[tallying.Ballot]:
    votes = (
        await s.exec(select(Vote.participant_id, Vote.choice).where(Vote.poll_id == poll_id))
    ).all()
    answers = (
        await s.exec(
            select(
                DemographicAnswer.participant_id,
                DemographicQuestion.key,
                DemographicAnswer.option_key,
            )
            .join(DemographicQuestion, col(DemographicQuestion.id) == DemographicAnswer.question_id)
            .join(Vote, col(Vote.participant_id) == DemographicAnswer.participant_id)
            .where(Vote.poll_id == poll_id)
        )
    ).all()
    demo: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, key, answer in answers:
        demo[pid][key] = answer
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
    questions = (
        await s.exec(
            select(DemographicQuestion)
            .where(DemographicQuestion.event_id == poll.event_id)
            .order_by(col(DemographicQuestion.position))
        )
    ).all()
    census: dict[str, dict[str, float]] = {}
    crosstabs = []
    for q in questions:
        options = (
            await s.exec(
                select(DemographicOption)
                .where(DemographicOption.question_id == q.id)
                .order_by(col(DemographicOption.position))
            )
        ).all()
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
