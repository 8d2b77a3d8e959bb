"""Did the deliberation change minds? Paired before/after statistics.

A poll asked twice (``twice = true`` in the event file) has a "before" and an
"after" instance. Only people who answered both are compared: the change is
then measured on the same people, so it is not confounded by who arrived late
or left early. Pure functions on plain data, like ``server.core.tally``.

Per option, each person is 1 if their ballot counts for the option (chosen;
for a ranking: ranked first) and 0 otherwise. With ``n`` people answering
both, ``b`` = chose it before but not after, ``c`` = after but not before:

    change = (c - b) / n
    var(change) = (b + c - (b - c)**2 / n) / n**2      (paired proportions, McNemar)

and the 95% interval is change ± 1.96·sqrt(var). For a scale poll the mean
paired difference (after − before) gets a t-interval with n − 1 degrees of
freedom. Both are the usual large-sample intervals: with few people (or no
one switching) they are too narrow, which is why small groups are suppressed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.core.privacy import NOT_GIVEN, NOT_GIVEN_LABEL, PREFER_NOT, answer_group, hidden_groups
from server.core.tally import Ballot, PollSpec, latest_valid_ballots

Z95 = statistics.NormalDist().inv_cdf(0.975)  # 1.959963…


def t_critical(df: int, level: float = 0.95) -> float:
    """Two-sided critical value of Student's t (scipy is a dependency already)."""
    from scipy.stats import t  # here: scipy.stats adds ~0.3 s to start-up

    return float(t.ppf(0.5 + level / 2, df))


def paired_proportion_change(b: int, c: int, n: int) -> tuple[float, float, float]:
    """(change, low, high) of p_after − p_before among n people; b, c discordant counts."""
    if n <= 0 or b < 0 or c < 0 or b + c > n:
        raise ValueError("need 0 <= b, c and b + c <= n, with n > 0")
    change = (c - b) / n
    var = (b + c - (b - c) ** 2 / n) / n**2
    half = Z95 * math.sqrt(max(var, 0.0))  # max: rounding can make an exact 0 slightly negative
    return change, change - half, change + half


def paired_mean_change(diffs: Sequence[float]) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of paired differences; no interval from fewer than two people."""
    if not diffs:
        raise ValueError("no paired differences")
    mean = statistics.fmean(diffs)
    if len(diffs) < 2:
        return mean, None, None
    half = t_critical(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class OptionShift:
    key: str
    label: str
    before: float  # share (0..1) among people who answered both
    after: float
    change: float  # after − before, in share points (0..1)
    low: float
    high: float
    moved_out: int  # b: counted before, not after
    moved_in: int  # c: counted after, not before

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "low": self.low,
            "high": self.high,
            "moved_out": self.moved_out,
            "moved_in": self.moved_in,
        }


@dataclass(frozen=True)
class MeanShift:
    before: float
    after: float
    change: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Shift:
    kind: str
    paired: int  # people who answered both
    before_turnout: int
    after_turnout: int
    options: tuple[OptionShift, ...]
    mean: MeanShift | None  # scale polls only

    def to_dict(self) -> dict[str, Any]:
        m = self.mean
        return {
            "kind": self.kind,
            "paired": self.paired,
            "before_turnout": self.before_turnout,
            "after_turnout": self.after_turnout,
            "options": [o.to_dict() for o in self.options],
            "mean": None
            if m is None
            else {"before": m.before, "after": m.after, "change": m.change, "low": m.low,
                  "high": m.high},
        }


def counted(kind: str, choice: Sequence[str]) -> set[str]:
    """The options a normalised ballot counts for: a ranking's first preference only,
    so each option's share is a proportion of people, as for the other kinds."""
    if kind == "ranking":
        return {choice[0]} if choice else set()
    return set(choice)


def paired_choices(
    spec: PollSpec, before: Iterable[Ballot], after: Iterable[Ballot]
) -> tuple[list[tuple[Ballot, Ballot]], int, int]:
    """(before, after) ballot pairs of people who answered both, and each turnout."""
    b_latest, _ = latest_valid_ballots(spec, before)
    a_latest, _ = latest_valid_ballots(spec, after)
    pairs = [(b_latest[pid], a) for pid, a in a_latest.items() if pid in b_latest]
    return pairs, len(b_latest), len(a_latest)


def shift_of_pairs(
    spec: PollSpec, pairs: Sequence[tuple[Ballot, Ballot]], before_n: int, after_n: int
) -> Shift:
    n = len(pairs)
    options = []
    for key, label in spec.options:
        was = [key in counted(spec.kind, b.choice) for b, _ in pairs]
        now = [key in counted(spec.kind, a.choice) for _, a in pairs]
        out = sum(1 for w, x in zip(was, now, strict=True) if w and not x)
        into = sum(1 for w, x in zip(was, now, strict=True) if x and not w)
        if n:
            change, low, high = paired_proportion_change(out, into, n)
            options.append(
                OptionShift(key, label, sum(was) / n, sum(now) / n, change, low, high, out, into)
            )
        else:
            options.append(OptionShift(key, label, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0))
    mean = None
    if spec.kind == "scale" and n:
        olds = [float(b.choice[0]) for b, _ in pairs]
        news = [float(a.choice[0]) for _, a in pairs]
        change_m, low_m, high_m = paired_mean_change(
            [x - w for w, x in zip(olds, news, strict=True)]
        )
        mean = MeanShift(statistics.fmean(olds), statistics.fmean(news), change_m, low_m, high_m)
    return Shift(spec.kind, n, before_n, after_n, tuple(options), mean)


def shift(spec: PollSpec, before: Iterable[Ballot], after: Iterable[Ballot]) -> Shift:
    """The paired shift of one poll asked twice."""
    pairs, before_n, after_n = paired_choices(spec, before, after)
    return shift_of_pairs(spec, pairs, before_n, after_n)


@dataclass(frozen=True)
class GroupShift:
    key: str
    label: str
    paired: int | None  # None when suppressed
    suppressed: bool
    shift: Shift | None


@dataclass(frozen=True)
class ShiftByGroup:
    question_key: str
    threshold: int
    rows: tuple[GroupShift, ...]
    total_withheld: bool  # the only non-empty group is small: the overall shift would reveal it

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_key": self.question_key,
            "threshold": self.threshold,
            "total_withheld": self.total_withheld,
            "rows": [
                {
                    "key": r.key,
                    "label": r.label,
                    "paired": r.paired,
                    "suppressed": r.suppressed,
                    "shift": r.shift.to_dict() if r.shift else None,
                }
                for r in self.rows
            ],
        }


def shift_by_group(
    spec: PollSpec,
    before: Iterable[Ballot],
    after: Iterable[Ballot],
    question_key: str,
    answer_labels: Mapping[str, str],
    threshold: int = 10,
) -> ShiftByGroup:
    """The paired shift within each answer to one demographic question.

    Group sizes are people who answered both instances; the small-cell rule is
    the cross-tabs' one (``privacy.hidden_groups``): groups of 1..threshold-1
    are hidden, and a lone hidden group takes the next-smallest with it. The
    group is read from the "after" ballot (demographics belong to the person).
    """
    labels = {k: v for k, v in answer_labels.items() if k not in (PREFER_NOT, NOT_GIVEN)}
    labels[NOT_GIVEN] = NOT_GIVEN_LABEL
    pairs, _, _ = paired_choices(spec, before, after)
    members: dict[str, list[tuple[Ballot, Ballot]]] = {k: [] for k in labels}
    for b, a in pairs:
        members[answer_group(a.demographics, question_key, labels)].append((b, a))
    sizes = {k: len(v) for k, v in members.items()}
    hidden, total_ok = hidden_groups(sizes, threshold)
    rows = tuple(
        GroupShift(k, labels[k], None, True, None)
        if k in hidden
        else GroupShift(
            k, labels[k], sizes[k], False,
            shift_of_pairs(spec, members[k], sizes[k], sizes[k]) if sizes[k] else None,
        )
        for k in labels
    )
    return ShiftByGroup(question_key, threshold, rows, not total_ok)


PHASES = ("before", "after")


def instance_key(pair_key: str, phase: str) -> str:
    """The stored key of one instance of a poll asked twice (``trust`` → ``trust-after``)."""
    return f"{pair_key}-{phase}"
TWICE_KINDS = ("single", "multi", "ranking", "scale")  # budgeting ballots have no paired shares
