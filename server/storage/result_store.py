"""The results the screens and the producer are sent, from the stored ballots:
a poll's live tally (for the event or one site), the room's demographics against
the census, and the breakdown — re-weighted to the census (post-stratification,
with the effective sample size) and broken down by each demographic question
with small groups suppressed.

A breakdown is heavier than a tally (a cross-tab per question), so the server
sends it at most every few seconds, not with every tally.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import tally as tallying
from server.core.ballots import poll_spec
from server.core.budget import BUDGET_KINDS
from server.core.weighting import poststratify_weights, representativeness, weighted_tally
from server.storage.budget_store import budget_breakdown, budget_result
from server.storage.models import DemographicAnswer, Participant, Poll
from server.storage.poll_store import (
    ballots,
    ballots_with_demographics,
    demographic_questions_with_options,
    poll_options,
    poll_view,
)


async def tally_view(s: AsyncSession, poll_id: int, site_id: int | None = None) -> dict[str, Any]:
    """A poll's live result for the whole event, or for one site's participants."""
    p = await s.get(Poll, poll_id)
    assert p is not None
    options = await poll_options(s, poll_id)
    result = tallying.tally(poll_spec(p, options), await ballots(s, poll_id, site_id))
    q = select(func.count()).select_from(Participant).where(Participant.event_id == p.event_id)
    if site_id is not None:
        q = q.where(Participant.site_id == site_id)
    participants = int((await s.exec(q)).one())  # a count, not 5,000 ids per tally
    out = {
        "poll": await poll_view(s, p),
        "result": result.to_dict(),
        "participants": participants,
        "site_id": site_id,
    }
    budget = await budget_result(s, p, site_id)
    if budget is not None:
        out["budget"] = budget
    return out


async def demographics_view(s: AsyncSession, event_id: int, threshold: int) -> list[dict[str, Any]]:
    out = []
    for q, options in await demographic_questions_with_options(s, event_id):
        answers = (
            await s.exec(
                select(DemographicAnswer.option_key).where(DemographicAnswer.question_id == q.id)
            )
        ).all()
        counts: dict[str, int] = defaultdict(int)
        for a in answers:
            counts[a] += 1
        census = {o.key: o.census_share for o in options if o.census_share is not None}
        rep = representativeness(dict(counts), census) if census else None
        out.append(
            {
                "key": q.key,
                "prompt": q.prompt,
                "options": [
                    {
                        "key": o.key,
                        "label": o.label,
                        "census": o.census_share,
                        # Small groups are not shown as counts anywhere public.
                        "count": counts.get(o.key, 0)
                        if counts.get(o.key, 0) >= threshold
                        else None,
                    }
                    for o in options
                ],
                "representativeness": rep["representativeness"] if rep else None,
                "room_shares": rep["room_shares"] if rep else None,
                "answered": sum(counts.values()),
            }
        )
    return out


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
        # Means, funded sets and balances per group: see server/core/budget_groups.py.
        out["budget"] = await budget_breakdown(s, poll, threshold)
    return out
