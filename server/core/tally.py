"""Poll results: ballot validation, tallies and demographic cross-tabulations.

Pure functions on plain data. Every count is computed from at most one
normalised ballot per participant, and a normalised ballot never names an
option twice, so no option can be counted twice for one person (the 2010
keypad double-count cannot happen here whatever the caller passes in).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from server.core.errors import N_, Refusal
from server.core.privacy import NOT_GIVEN, NOT_GIVEN_LABEL, PREFER_NOT, answer_group, hidden_groups

Kind = Literal["single", "multi", "ranking", "scale", "allocation", "projects", "tradeoff"]
# The last three are budgeting ballots (server/core/budget.py adds their own checks);
# here they are selections of any number of options.
KINDS: frozenset[str] = frozenset(
    {"single", "multi", "ranking", "scale", "allocation", "projects", "tradeoff"}
)
SCALE_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5")


class BallotError(Refusal, ValueError):
    """A ballot the poll cannot accept; `message` is fit to show the participant."""

    def __init__(self, code: str, message: str, **values: object) -> None:
        self.code = code
        super().__init__(message, **values)


@dataclass(frozen=True)
class PollSpec:
    kind: Kind
    options: Sequence[tuple[str, str]]
    max_choices: int | None = None
    # Derived once: validation runs for every ballot of a 5,000-person re-tally.
    keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _known: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple((k, lb) for k, lb in self.options))
        keys = tuple(k for k, _ in self.options)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "_known", frozenset(keys))
        if self.kind not in KINDS:
            raise ValueError(f"unknown poll kind {self.kind!r}")
        if not keys or len(set(keys)) != len(keys):
            raise ValueError("a poll needs at least one option and unique option keys")
        if self.kind == "scale" and keys != SCALE_KEYS:
            raise ValueError("a scale poll has exactly the options '1'..'5'")
        if self.max_choices is not None and (self.kind != "multi" or self.max_choices < 1):
            raise ValueError("max_choices is a positive number, for multi polls only")

    @property
    def choice_limit(self) -> int:
        """Most keys one valid ballot can hold."""
        if self.kind == "multi":
            return self.max_choices or len(self.options)
        return 1 if self.kind in ("single", "scale") else len(self.options)


@dataclass(frozen=True)
class Ballot:
    participant_id: str
    choice: Sequence[str]
    demographics: Mapping[str, str] = field(default_factory=dict)


def _short(key: str) -> str:
    # Keys come from phones; keep a hostile 10 kB key out of the error message.
    return key if len(key) <= 40 else key[:40] + "…"


def validate_choice(poll: PollSpec, choice: Sequence[str]) -> list[str]:
    """Return the normalised choice or raise BallotError.

    single, multi and scale are selections: a key repeated in them is collapsed
    (a double tap means one choice), and the result follows the poll's option
    order. A ranking keeps its order, so a repeated key there is ambiguous and
    refused.
    """
    if isinstance(choice, str) or not all(isinstance(k, str) for k in choice):
        raise BallotError("bad_format", "A choice must be a list of option keys")
    if not choice:
        raise BallotError(
            "empty",
            N_("Rank at least one option") if poll.kind == "ranking" else N_("Pick an option"),
        )
    for key in choice:
        if key not in poll._known:
            raise BallotError("unknown_option", N_("Unknown option '{key}'"), key=_short(key))
    if poll.kind == "ranking":
        if len(set(choice)) != len(choice):
            raise BallotError("duplicate_rank", N_("Each option can be ranked once"))
        return list(choice)
    picked = set(choice)
    if len(picked) > poll.choice_limit:
        if poll.kind == "multi":
            n = poll.choice_limit
            if n == 1:
                raise BallotError("too_many", N_("Pick at most 1 option"))
            raise BallotError("too_many", N_("Pick at most {n} options"), n=n)
        raise BallotError("too_many", N_("Pick exactly one option"))
    return [k for k in poll.keys if k in picked]


@dataclass(frozen=True)
class OptionResult:
    key: str
    label: str
    count: int  # voters whose ballot names this option (anywhere, for a ranking)
    percent: float  # count as a percentage of turnout
    borda: int | None = None
    first_preferences: int | None = None


@dataclass(frozen=True)
class Result:
    kind: Kind
    turnout: int
    rejected: int
    options: tuple[OptionResult, ...]
    mean: float | None = None
    median: float | None = None

    def option(self, key: str) -> OptionResult:
        return next(o for o in self.options if o.key == key)

    def to_dict(self) -> dict[str, Any]:
        opts: list[dict[str, Any]] = []
        for o in self.options:
            d: dict[str, Any] = {
                "key": o.key,
                "label": o.label,
                "count": o.count,
                "percent": o.percent,
            }
            if self.kind == "ranking":
                d.update(borda=o.borda, first_preferences=o.first_preferences)
            opts.append(d)
        out: dict[str, Any] = {
            "kind": self.kind,
            "turnout": self.turnout,
            "rejected": self.rejected,
            "options": opts,
        }
        if self.kind == "scale":
            out.update(mean=self.mean, median=self.median)
        return out


def latest_valid_ballots(
    poll: PollSpec, ballots: Iterable[Ballot]
) -> tuple[dict[str, Ballot], int]:
    """One normalised ballot per participant (the last valid one), and how many were invalid.

    Invalid ballots are dropped before "last wins": intake refuses them, so a
    stored invalid ballot never replaced the participant's earlier vote.
    """
    latest: dict[str, Ballot] = {}
    rejected = 0
    for ballot in ballots:
        try:
            normalised = validate_choice(poll, ballot.choice)
        except BallotError:
            rejected += 1
            continue
        latest.pop(ballot.participant_id, None)  # re-insert so dict order is vote order
        latest[ballot.participant_id] = Ballot(
            ballot.participant_id, tuple(normalised), ballot.demographics
        )
    return latest, rejected


def tally_choices(poll: PollSpec, choices: Iterable[Sequence[str]], rejected: int = 0) -> Result:
    """Tally choices already normalised by validate_choice, one per participant.

    Borda rule (rankings, full or partial): with n options the option ranked
    k-th (1-based) scores n - k; options a ballot leaves unranked score 0. So a
    truncated ranking gives its listed options the same points a full ranking
    would, and all unranked options tie at the bottom.
    """
    keys = poll.keys
    n_opts = len(keys)
    counts = dict.fromkeys(keys, 0)
    borda = dict.fromkeys(keys, 0)
    firsts = dict.fromkeys(keys, 0)
    turnout = 0
    for choice in choices:
        turnout += 1
        for pos, key in enumerate(choice):
            counts[key] += 1
            borda[key] += n_opts - 1 - pos
        firsts[choice[0]] += 1
    ranking = poll.kind == "ranking"
    options = tuple(
        OptionResult(
            key=k,
            label=label,
            count=counts[k],
            percent=100.0 * counts[k] / turnout if turnout else 0.0,
            borda=borda[k] if ranking else None,
            first_preferences=firsts[k] if ranking else None,
        )
        for k, label in poll.options
    )
    mean = median = None
    if poll.kind == "scale" and turnout:
        values = [int(k) for k in keys for _ in range(counts[k])]
        mean, median = statistics.fmean(values), float(statistics.median(values))
    return Result(poll.kind, turnout, rejected, options, mean, median)


def tally(poll: PollSpec, ballots: Iterable[Ballot]) -> Result:
    """Results of a poll; `turnout` counts participants with a valid ballot."""
    latest, rejected = latest_valid_ballots(poll, ballots)
    return tally_choices(poll, (b.choice for b in latest.values()), rejected)


@dataclass(frozen=True)
class GroupRow:
    key: str
    label: str
    participants: int | None  # None when suppressed
    suppressed: bool
    result: Result | None  # None when suppressed


@dataclass(frozen=True)
class CrossTab:
    question_key: str
    threshold: int
    rows: tuple[GroupRow, ...]
    total: Result | None  # None only when showing it would reveal a suppressed group

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_key": self.question_key,
            "threshold": self.threshold,
            "rows": [
                {
                    "key": r.key,
                    "label": r.label,
                    "participants": r.participants,
                    "suppressed": r.suppressed,
                    "result": r.result.to_dict() if r.result else None,
                }
                for r in self.rows
            ],
            "total": self.total.to_dict() if self.total else None,
        }


def crosstab(
    poll: PollSpec,
    ballots: Iterable[Ballot],
    question_key: str,
    answer_labels: Mapping[str, str],
    threshold: int = 10,
) -> CrossTab:
    """Results per answer to one demographic question, with small groups suppressed.

    Groups are suppressed (size and results hidden) by ``privacy.hidden_groups``:
    1..threshold-1 participants, plus a partner when one alone would be given away
    by the total; an empty group is shown as 0, it has no votes to reveal.
    """
    if threshold < 0:
        raise ValueError("threshold must be >= 0")
    if NOT_GIVEN in answer_labels:
        raise ValueError(f"answer key {NOT_GIVEN!r} is reserved for missing answers")
    labels = {k: v for k, v in answer_labels.items() if k != PREFER_NOT}
    labels[NOT_GIVEN] = NOT_GIVEN_LABEL
    latest, rejected = latest_valid_ballots(poll, ballots)
    members: dict[str, list[Sequence[str]]] = {k: [] for k in labels}
    for ballot in latest.values():
        members[answer_group(ballot.demographics, question_key, labels)].append(ballot.choice)

    hidden, total_ok = hidden_groups({k: len(v) for k, v in members.items()}, threshold)
    total = tally_choices(poll, (b.choice for b in latest.values()), rejected) if total_ok else None
    rows = tuple(
        GroupRow(k, labels[k], None, True, None)
        if k in hidden
        else GroupRow(k, labels[k], len(members[k]), False, tally_choices(poll, members[k]))
        for k in labels
    )
    return CrossTab(question_key, threshold, rows, total)
