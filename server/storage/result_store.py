"""The results the screens and the producer are sent, from the stored ballots:
a poll's live tally (for the event or one site), the room's demographics against
the census, and the breakdown — re-weighted to the census (post-stratification,
with the effective sample size) and broken down by each demographic question
with small groups suppressed.

A breakdown is heavier than a tally (a cross-tab per question), so the server
sends it at most every few seconds, not with every tally.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import tally as tallying
from server.core.ballots import poll_spec
from server.core.budget import BUDGET_KINDS
from server.core.privacy import NOT_GIVEN, hidden_groups
from server.core.weighting import private_weights, room_figures, weighted_tally
from server.storage.budget_store import budget_breakdown, budget_result
from server.storage.models import DemographicAnswer, Participant, Poll, Site, Vote
from server.storage.poll_store import (
    ballots,
    ballots_with_demographics,
    demographic_questions_with_options,
    poll_options,
    poll_view,
)


async def tally_view(
    s: AsyncSession, poll_id: int, site_id: int | None, threshold: int, version: int
) -> dict[str, Any]:
    """A poll's live result for the whole event, or for one site's participants;
    ``version`` is the clock read before the transaction read (server/live/version.py).

    A site's result is suppressed (``result`` null, ``suppressed`` true) while the
    small-groups rule hides that site among the poll's voters: a site's screen would
    otherwise show the choices of its few voters, or, beside the event's result and
    the other sites', those of another small site.
    """
    p = await s.get(Poll, poll_id)
    assert p is not None
    q = select(func.count()).select_from(Participant).where(Participant.event_id == p.event_id)
    if site_id is not None:
        q = q.where(Participant.site_id == site_id)
    participants = int((await s.exec(q)).one())  # a count, not 5,000 ids per tally
    out: dict[str, Any] = {
        "poll": await poll_view(s, p),
        "result": None,
        "participants": participants,
        "site_id": site_id,
        "version": version,
        "turnout": None,
    }
    if site_id is not None and site_id in await hidden_sites(s, p, threshold):
        return out | {"suppressed": True}
    options = await poll_options(s, poll_id)
    result = tallying.tally(poll_spec(p, options), await ballots(s, poll_id, site_id))
    out["result"] = result.to_dict()
    out["turnout"] = result.turnout
    budget = await budget_result(s, p, site_id)
    if budget is not None:
        out["budget"] = budget
    return out


async def hidden_sites(s: AsyncSession, poll: Poll, threshold: int) -> set[int]:
    """The sites whose share of a poll's voters the small-groups rule hides (voters
    without a site are a group of their own)."""
    sites = (
        await s.exec(select(Site.id).where(Site.event_id == poll.event_id).order_by(col(Site.id)))
    ).all()
    voters = Counter(
        (
            await s.exec(
                select(Participant.site_id)
                .join(Vote, col(Vote.participant_id) == Participant.id)
                .where(Vote.poll_id == poll.id)
            )
        ).all()
    )
    sizes = {str(site): voters.get(site, 0) for site in sites} | {NOT_GIVEN: voters.get(None, 0)}
    hidden, _ = hidden_groups(sizes, threshold)
    return {int(k) for k in hidden if k != NOT_GIVEN}


async def demographics_view(s: AsyncSession, event_id: int, threshold: int) -> list[dict[str, Any]]:
    """The room against the census, per question, small groups suppressed
    (``weighting.room_figures``): a suppressed count is null and its share absent."""
    questions = await demographic_questions_with_options(s, event_id)
    # Counted by the database, every question in one query: recomputed for the
    # screens while a hall fills up, so reading 15,000 answers each time cost the
    # join storm tens of milliseconds a round.
    counted = (
        await s.exec(
            select(DemographicAnswer.question_id, DemographicAnswer.option_key, func.count())
            .where(col(DemographicAnswer.question_id).in_([q.id for q, _ in questions]))
            .group_by(col(DemographicAnswer.question_id), col(DemographicAnswer.option_key))
        )
    ).all()
    counts: dict[int, Counter[str]] = {}
    for question_id, option_key, n in counted:
        counts.setdefault(question_id, Counter())[option_key] = n
    out = []
    for q, options in questions:
        census = {o.key: o.census_share for o in options if o.census_share is not None}
        room = room_figures(
            counts.get(q.id or 0, Counter()), [o.key for o in options], census, threshold
        )
        out.append(
            {
                "key": q.key,
                "prompt": q.prompt,
                "options": [
                    {
                        "key": o.key,
                        "label": o.label,
                        "census": o.census_share,
                        "count": room.counts[o.key],
                    }
                    for o in options
                ],
                "representativeness": room.representativeness,
                "room_shares": room.shares if census else None,
                "answered": room.answered,
            }
        )
    return out


async def breakdown_view(
    s: AsyncSession,
    poll_id: int,
    threshold: int,
    version: int,
    ballots: list[tallying.Ballot] | None = None,
) -> dict[str, Any]:
    """``ballots``: the poll's ballots with their voters' answers where the caller
    holds them (``live.tallies``); else they are read here."""
    poll = await s.get(Poll, poll_id)
    assert poll is not None and poll.id is not None
    spec = poll_spec(poll, await poll_options(s, poll.id))
    if ballots is None:
        ballots = await ballots_with_demographics(s, poll.id)
    census: dict[str, dict[str, float]] = {}
    hidden: dict[str, set[str]] = {}
    crosstabs = []
    for q, options in await demographic_questions_with_options(s, poll.event_id):
        shares = {o.key: o.census_share for o in options if o.census_share is not None}
        if shares:
            census[q.key] = shares
        table = tallying.crosstab(
            spec, ballots, q.key, {o.key: o.label for o in options}, threshold
        )
        hidden[q.key] = {r.key for r in table.rows if r.suppressed}
        crosstabs.append({"prompt": q.prompt, **table.to_dict()})
    weighted = None
    if census and ballots:
        weights = private_weights(ballots, census, hidden)
        weighted = weighted_tally(spec, ballots, weights).to_dict()
    out = {
        "type": "breakdown",
        "poll_id": poll.id,
        "weighted": weighted,
        "crosstabs": crosstabs,
        "version": version,
        "turnout": len(ballots),
    }
    if poll.kind in BUDGET_KINDS:
        # Means, funded sets and balances per group: see server/core/budget_groups.py.
        out["budget"] = await budget_breakdown(s, poll, threshold)
    return out
