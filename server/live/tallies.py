"""Live tallies kept in memory: each poll's ballots, updated from every committed
vote, so a result broadcast during a burst does not re-read and re-decode every
ballot (three times, with two sites) several times a second.

Exact in one process: every ballot is committed here, and recorded once its
commit is done. Where several processes write (a Redis hub), another process's
ballots never pass through this one, so the ballots are re-read from the
database for each broadcast instead (one query for the event and all its sites).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import tally as tallying
from server.core.ballots import poll_spec
from server.core.privacy import NOT_GIVEN, hidden_groups
from server.storage.budget_store import budget_result
from server.storage.models import (
    Participant,
    Poll,
    Site,
    Vote,
)
from server.storage.poll_store import answers_of, poll_options, poll_view

# participant id -> stored choice
Ballots = dict[int, Sequence[str]]


class _PollBallots:
    """One poll's standing ballots, with their validation against the poll as it
    was when they were last checked (validation is redone if the poll changes)."""

    def __init__(self, ballots: Ballots) -> None:
        self.ballots = ballots
        self.spec: tallying.PollSpec | None = None
        self.valid: dict[int, tuple[str, ...] | None] = {}

    def put(self, participant_id: int, choice: Sequence[str]) -> None:
        self.ballots[participant_id] = choice
        if self.spec is not None:
            self.valid[participant_id] = _normalised(self.spec, choice)

    def checked(self, spec: tallying.PollSpec) -> dict[int, tuple[str, ...] | None]:
        if spec != self.spec:
            self.spec = spec
            self.valid = {pid: _normalised(spec, c) for pid, c in self.ballots.items()}
        return self.valid


def _normalised(spec: tallying.PollSpec, choice: Sequence[str]) -> tuple[str, ...] | None:
    try:
        return tuple(tallying.validate_choice(spec, choice))
    except tallying.BallotError:
        return None  # counted as rejected, exactly as a recount from the database would


class LiveTallies:
    def __init__(self, exact: bool) -> None:
        # exact: this process commits every ballot (one process, no shared hub).
        self.exact = exact
        self._polls: dict[int, _PollBallots] = {}
        # Reads in flight, per poll (a broadcast and a screen's hello may read at once):
        # each collects the ballots committed while it runs.
        self._loading: dict[int, list[list[tuple[int, Sequence[str]]]]] = {}
        self._site_of: dict[int, int | None] = {}  # participants' sites never change
        # Voters' demographic answers (participant id -> question key -> answer), read
        # once per voter; a participant's answers are dropped when they change, and
        # reads in flight at that moment do not keep what they read for them.
        self._answers: dict[int, dict[str, str]] = {}
        self._answers_reading: list[set[int]] = []

    def record(self, poll_id: int, participant_id: int, choice: Sequence[str]) -> None:
        """A ballot that is committed: it replaces the participant's earlier one."""
        for late in self._loading.get(poll_id, ()):  # a read in flight may predate it
            late.append((participant_id, choice))
        poll = self._polls.get(poll_id)
        if poll is not None:
            poll.put(participant_id, choice)

    def demographics_changed(self, participant_id: int | None) -> None:
        """A participant's committed demographic answers changed."""
        if participant_id is None:
            return
        self._answers.pop(participant_id, None)
        for changed in self._answers_reading:
            changed.add(participant_id)

    async def breakdown_ballots(
        self, s: AsyncSession, poll_id: int
    ) -> list[tallying.Ballot] | None:
        """The poll's ballots with their voters' demographic answers, for a breakdown,
        from memory; None where this process does not hold every ballot (the caller
        reads the database). Before, each breakdown re-read and re-decoded every
        ballot and every voter's answers: at 5,000 ballots, most of a push's time."""
        if not self.exact:
            return None
        poll = await self._ballots(s, poll_id)
        ballots = dict(poll.ballots)  # a copy: ballots recorded during the awaits wait
        answers = await self._voter_answers(s, ballots)
        return [
            tallying.Ballot(str(pid), choice, answers.get(pid, {}))
            for pid, choice in sorted(ballots.items())
        ]

    async def _voter_answers(
        self, s: AsyncSession, voters: Iterable[int]
    ) -> dict[int, dict[str, str]]:
        missing = [pid for pid in voters if pid not in self._answers]
        if not missing:
            return self._answers
        changed: set[int] = set()
        self._answers_reading.append(changed)
        try:
            read = await answers_of(s, missing)
        finally:
            self._answers_reading.remove(changed)
        answers = dict(self._answers)
        for pid, given in read.items():
            answers[pid] = given
            if pid not in changed:
                self._answers[pid] = given
        return answers

    async def _ballots(self, s: AsyncSession, poll_id: int) -> _PollBallots:
        cached = self._polls.get(poll_id) if self.exact else None
        if cached is not None:
            return cached
        committed_meanwhile: list[tuple[int, Sequence[str]]] = []
        self._loading.setdefault(poll_id, []).append(committed_meanwhile)
        try:
            rows = (
                await s.exec(
                    select(Vote.participant_id, Participant.site_id, Vote.choice)
                    .join(Participant, col(Participant.id) == Vote.participant_id)
                    .where(Vote.poll_id == poll_id)
                )
            ).all()
            ballots: Ballots = {}
            for pid, site, choice in rows:
                ballots[pid] = json.loads(choice)
                self._site_of[pid] = site
            for pid, late in committed_meanwhile:  # committed during the read: newer
                ballots[pid] = late
        finally:
            others = [r for r in self._loading[poll_id] if r is not committed_meanwhile]
            if others:
                self._loading[poll_id] = others
            else:
                del self._loading[poll_id]
        loaded = _PollBallots(ballots)
        if self.exact:
            self._polls[poll_id] = loaded
        return loaded

    async def _sites(
        self, s: AsyncSession, participant_ids: Iterable[int]
    ) -> dict[int, int | None]:
        """Each voter's site; those not seen yet (joined after the poll was read) in one query."""
        missing = [pid for pid in participant_ids if pid not in self._site_of]
        if missing:
            rows = await s.exec(
                select(Participant.id, Participant.site_id).where(col(Participant.id).in_(missing))
            )
            for pid, site in rows.all():
                if pid is not None:
                    self._site_of[pid] = site
        return self._site_of

    async def views(
        self,
        s: AsyncSession,
        poll_id: int,
        site_ids: Sequence[int],
        threshold: int,
        version: int,
    ) -> list[dict[str, Any]]:
        """The poll's live result for the whole event, then for each of ``site_ids``
        (the same fields as ``result_store.tally_view``, with the same small-groups
        rule: a site the rule hides among the poll's voters gets no result).
        ``version`` is the clock read before the ballots are (server/live/version.py)."""
        p = await s.get(Poll, poll_id)
        assert p is not None
        spec = poll_spec(p, await poll_options(s, poll_id))
        poll = await self._ballots(s, poll_id)
        valid = dict(poll.checked(spec))  # a copy: ballots recorded during the awaits wait
        sites = await self._sites(s, valid) if site_ids else {}
        hidden = await _hidden_sites(s, p.event_id, valid, sites, threshold) if site_ids else set()
        counts = await participant_counts(s, p.event_id)
        shown = await poll_view(s, p)
        out = []
        for site in [None, *site_ids]:
            view: dict[str, Any] = {
                "poll": shown,
                "result": None,
                "participants": sum(counts.values()) if site is None else counts.get(site, 0),
                "site_id": site,
                "version": version,
                "turnout": None,
            }
            if site is not None and site in hidden:
                out.append(view | {"suppressed": True})
                continue
            mine = [c for pid, c in valid.items() if site is None or sites.get(pid) == site]
            choices = [c for c in mine if c is not None]
            result = tallying.tally_choices(spec, choices, len(mine) - len(choices))
            view["result"] = result.to_dict()
            view["turnout"] = result.turnout
            budget = await budget_result(s, p, site)
            if budget is not None:
                view["budget"] = budget
            out.append(view)
        return out


async def _hidden_sites(
    s: AsyncSession,
    event_id: int,
    voters: Iterable[int],
    site_of: dict[int, int | None],
    threshold: int,
) -> set[int]:
    """``result_store.hidden_sites`` from the ballots held here: the sites whose share
    of the poll's voters the small-groups rule (``core.privacy``) hides."""
    sites = (
        await s.exec(select(Site.id).where(Site.event_id == event_id).order_by(col(Site.id)))
    ).all()
    per_site = Counter(site_of.get(pid) for pid in voters)
    sizes = {str(site): per_site.get(site, 0) for site in sites}
    sizes[NOT_GIVEN] = per_site.get(None, 0)
    hidden, _ = hidden_groups(sizes, threshold)
    return {int(k) for k in hidden if k != NOT_GIVEN}


async def participant_counts(s: AsyncSession, event_id: int) -> Counter[int | None]:
    """Participants of the event by site, in one query."""
    rows = await s.exec(
        select(Participant.site_id, func.count())
        .where(Participant.event_id == event_id)
        .group_by(col(Participant.site_id))
    )
    return Counter({site: int(n) for site, n in rows.all()})
