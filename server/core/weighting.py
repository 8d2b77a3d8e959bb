"""How the room compares with the census, and post-stratification weights.

Pure functions. Weights are normalised to mean 1 over the participants
weighted, so a weighted count reads like a head count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from server.core.privacy import NOT_GIVEN, PREFER_NOT, answer_group, coarsened, shown_distribution
from server.core.tally import Ballot, PollSpec, Result, latest_valid_ballots, tally_choices

TRIM_BOUNDS: tuple[float, float] = (0.2, 5.0)
SUPPRESSED_CELL = "\x00suppressed"  # the merged cell of suppressed answers (no answer key)


class Representativeness(TypedDict):
    respondents: int  # participants who gave an answer
    not_given: int  # "prefer_not" / "not_given", excluded from room shares
    room_shares: dict[str, float]
    census_shares: dict[str, float]
    difference: dict[str, float]  # room share − census share
    representativeness: float | None  # 1 − total variation distance; None if no respondents


def _normalised(shares: Mapping[str, float]) -> dict[str, float]:
    # Census tables are rounded (sum 0.999) or given in percent; only proportions matter.
    total = sum(shares.values())
    if total <= 0 or any(v < 0 for v in shares.values()):
        raise ValueError("census shares must be non-negative with a positive sum")
    return {k: v / total for k, v in shares.items()}


def representativeness(
    room_counts: Mapping[str, int], census_shares: Mapping[str, float]
) -> Representativeness:
    """Room shares vs census shares per answer, and 1 − total variation distance.

    "prefer_not" and "not_given" are excluded from the room shares: the census
    has no such category, and counting them would make every room look
    unrepresentative by its refusals. A room answer absent from the census keeps
    its share, against a census share of 0. 1.0 means the room matches exactly.
    """
    census = _normalised(census_shares)
    given = {k: n for k, n in room_counts.items() if k not in (PREFER_NOT, NOT_GIVEN)}
    respondents = sum(given.values())
    answers = list(census) + [k for k in given if k not in census]
    room = {k: given.get(k, 0) / respondents if respondents else 0.0 for k in answers}
    cen = {k: census.get(k, 0.0) for k in answers}
    diff = {k: room[k] - cen[k] for k in answers}
    tvd = 0.5 * sum(abs(d) for d in diff.values())
    return Representativeness(
        respondents=respondents,
        not_given=sum(room_counts.values()) - respondents,
        room_shares=room,
        census_shares=cen,
        difference=diff,
        representativeness=1.0 - tvd if respondents else None,
    )


@dataclass(frozen=True)
class RoomFigures:
    """One demographic question's room-against-census figures as they may be shown
    (``privacy.shown_distribution``): None, or absent, where suppressed."""

    counts: dict[str, int | None]  # per option, and PREFER_NOT
    shares: dict[str, float]  # shown options' share among people who picked an option
    census: dict[str, float]  # census shares, normalised (empty without a census)
    answered: int | None  # everyone who answered, PREFER_NOT included
    representativeness: float | None


def room_figures(
    counts: Mapping[str, int], options: Sequence[str], census: Mapping[str, float], threshold: int
) -> RoomFigures:
    """Counts, shares and representativeness of one question, small groups suppressed.

    Representativeness is 1 − total variation distance with the suppressed options
    merged into one cell: what is shown determines it, so it gives none of them away.
    """
    shown = shown_distribution(counts, options, threshold)
    given = sum(counts.get(k, 0) for k in options)
    rep = None
    if census and any(shown.shows(k) for k in options):
        merged = {k: counts.get(k, 0) for k in options if shown.shows(k)}
        merged_census = {k: census.get(k, 0.0) for k in merged}
        merged[SUPPRESSED_CELL] = given - sum(merged.values())
        merged_census[SUPPRESSED_CELL] = sum(v for k, v in census.items() if k not in merged)
        rep = representativeness(merged, merged_census)["representativeness"]
    return RoomFigures(
        counts={k: counts.get(k, 0) if shown.shows(k) else None for k in [*options, PREFER_NOT]},
        shares={k: counts.get(k, 0) / given for k in options if shown.shows(k) and given},
        census=_normalised(census) if census else {},
        answered=sum(counts.get(k, 0) for k in [*options, PREFER_NOT]) if shown.total_ok else None,
        representativeness=rep,
    )


def _trim(w: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """clip(s·w, lo, hi) with s chosen so the mean is 1.

    Clipping then rescaling pushes weights back past the bounds; solving for the
    scale instead keeps both the bounds and the mean exactly. The sum of
    clip(s·w) is piecewise linear and non-decreasing in s, with a bend where
    some s·w_i reaches lo or hi: it is evaluated at every bend at once (sorted
    weights, prefix sums), and solved exactly on the piece where it crosses n.
    (A bisection of 200 steps per trim made one breakdown of 5,000 ballots take
    more than a second of the server's loop.)
    """
    if lo <= w.min() and w.max() <= hi:
        return w
    n = len(w)
    x = np.sort(w)
    positive = x[x > 0]
    if len(positive) == 0:
        return np.full(n, 1.0)
    below = np.concatenate(([0.0], np.cumsum(x)))  # below[k] = sum of the k smallest

    def pieces(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At scale s: the sum of the clipped values = constant + s · slope."""
        low = np.searchsorted(x, lo / s, side="right")  # s·w <= lo: counted as lo
        high = np.searchsorted(x, hi / s, side="left")  # s·w >= hi: counted as hi
        high = np.maximum(high, low)
        constant = lo * low + hi * (n - high)
        return constant, below[high] - below[low]

    with np.errstate(over="ignore"):  # a vanishing weight's bend is beyond any scale
        bends = np.unique(np.concatenate((lo / positive, hi / positive)))
    bends = bends[np.isfinite(bends)]
    constant, slope = pieces(bends)
    totals = constant + bends * slope
    k = int(np.searchsorted(totals, n, side="left"))  # first bend at or past n
    if k < len(bends) and np.isclose(totals[k], n):
        scale = float(bends[k])
    else:
        # Between bends k-1 and k the clipping is the same as just below bend k.
        probe = bends[k] if k < len(bends) else bends[-1] * 2
        inner = (bends[k - 1] + probe) / 2 if k > 0 else probe / 2
        c, m = pieces(np.array([inner]))
        scale = float((n - c[0]) / m[0]) if m[0] > 0 else float(inner)
    trimmed = np.clip(w * scale, lo, hi)
    return trimmed / trimmed.mean()


def poststratify_weights(
    ballots: Iterable[Ballot],
    census: Mapping[str, Mapping[str, float]],
    *,
    tolerance: float = 1e-6,
    max_iterations: int = 100,
    bounds: tuple[float, float] = TRIM_BOUNDS,
) -> dict[str, float]:
    """Raking (iterative proportional fitting) weights, one per participant, mean 1.

    Each sweep scales, margin by margin, the weights of participants who
    answered that question so their weighted answer shares equal the census,
    keeping their total weight on that margin unchanged. Participants who did
    not answer (missing, "prefer_not", or an answer not in the census) are left
    untouched by that margin: neither up- nor down-weighted for it.

    Census answers nobody in the room gave cannot be matched; they are dropped
    and the margin's other shares renormalised. After every sweep weights are
    trimmed to `bounds` (relative to mean 1) and renormalised; when a trim
    binds, the margins are only approximately met and raking stops after
    `max_iterations`. It stops early once every margin is within `tolerance`
    (absolute difference of shares).
    """
    lo, hi = bounds
    if not 0 < lo <= 1 <= hi:
        raise ValueError("bounds must satisfy 0 < low <= 1 <= high")
    people: dict[str, Ballot] = {}
    for ballot in ballots:
        people.pop(ballot.participant_id, None)
        people[ballot.participant_id] = ballot
    ids = list(people)
    margins: list[tuple[np.ndarray, np.ndarray]] = []  # (answer index or -1, target shares)
    for question, shares in census.items():
        _normalised(shares)  # refuse negative or all-zero census margins up front
        present = {answer_group(people[p].demographics, question, shares) for p in ids}
        kept = {a: s for a, s in shares.items() if a in present}
        if sum(kept.values()) <= 0:
            continue  # nobody gave an answer the census counts: nothing to match
        goal = _normalised(kept)
        index = {a: i for i, a in enumerate(goal)}
        codes = np.array(
            [index.get(answer_group(people[p].demographics, question, goal), -1) for p in ids],
            dtype=np.int64,
        )
        margins.append((codes, np.array(list(goal.values()))))

    w = np.ones(len(ids))
    for _ in range(max_iterations):
        before = w.copy()
        for codes, target in margins:
            sums = _answer_sums(codes, target, w)
            factors = np.divide(target * sums.sum(), sums, out=np.ones_like(sums), where=sums > 0)
            answered = codes >= 0
            w[answered] *= factors[codes[answered]]
        w = _trim(w / w.mean(), lo, hi) if len(w) else w
        if all(_margin_error(codes, target, w) <= tolerance for codes, target in margins):
            break
        if len(w) and float(np.abs(w - before).max()) <= tolerance * 1e-3:
            break  # a trim binds and the sweeps no longer move the weights
    return {p: float(x) for p, x in zip(ids, w, strict=True)}


def private_weights(
    ballots: Iterable[Ballot],
    census: Mapping[str, Mapping[str, float]],
    hidden: Mapping[str, set[str]],
) -> dict[str, float]:
    """Raking weights in which the people of a suppressed group (``hidden``: question
    key -> suppressed answers) are not weighted by that question, as if they had not
    answered it. Otherwise weighted figures beside the raw ones could tell two
    suppressed groups apart (their weights would differ)."""
    people = [
        Ballot(b.participant_id, b.choice, coarsened(b.demographics, hidden)) for b in ballots
    ]
    return poststratify_weights(people, census)


def _answer_sums(codes: np.ndarray, target: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Total weight per census answer, over the participants who gave one (code >= 0)."""
    answered = codes >= 0
    return np.bincount(codes[answered], weights=w[answered], minlength=len(target))


def _margin_error(codes: np.ndarray, target: np.ndarray, w: np.ndarray) -> float:
    sums = _answer_sums(codes, target, w)
    total = sums.sum()
    return float(np.abs(sums / total - target).max()) if total > 0 else 0.0


def effective_sample_size(weights: Mapping[str, float] | Iterable[float]) -> float:
    """Kish's effective sample size, (Σw)² / Σw²: n for equal weights, less otherwise."""
    values = list(weights.values() if isinstance(weights, Mapping) else weights)
    if any(v < 0 for v in values):
        raise ValueError("weights must be non-negative")
    top = max(values, default=0.0)
    if top <= 0:
        return 0.0
    # ESS is scale-free; dividing by the largest weight keeps tiny weights from
    # underflowing to a zero sum of squares.
    scaled = [v / top for v in values]
    return sum(scaled) ** 2 / sum(v * v for v in scaled)


@dataclass(frozen=True)
class WeightedResult:
    raw: Result
    weighted_counts: dict[str, float]
    weighted_percents: dict[str, float]  # percent of weighted voters, beside raw.percent
    effective_sample_size: float
    weighted_mean: float | None = None  # scale polls only

    def to_dict(self) -> dict[str, Any]:
        raw = self.raw.to_dict()
        for opt in raw["options"]:
            opt["weighted_count"] = self.weighted_counts[opt["key"]]
            opt["weighted_percent"] = self.weighted_percents[opt["key"]]
        raw["effective_sample_size"] = self.effective_sample_size
        if self.raw.kind == "scale":
            raw["weighted_mean"] = self.weighted_mean
        return raw


def weighted_tally(
    poll: PollSpec, ballots: Iterable[Ballot], weights: Mapping[str, float]
) -> WeightedResult:
    """Raw tally plus weighted figures; a voter with no weight (joined later) counts as 1."""
    latest, rejected = latest_valid_ballots(poll, ballots)
    raw = tally_choices(poll, (b.choice for b in latest.values()), rejected)
    counts = dict.fromkeys(poll.keys, 0.0)
    voter_weights = []
    for pid, ballot in latest.items():
        wt = weights.get(pid, 1.0)
        voter_weights.append(wt)
        for key in ballot.choice:
            counts[key] += wt
    total = sum(voter_weights)
    percents = {k: 100.0 * c / total if total > 0 else 0.0 for k, c in counts.items()}
    mean = None
    if poll.kind == "scale" and total > 0:
        mean = sum(int(k) * c for k, c in counts.items()) / total
    return WeightedResult(raw, counts, percents, effective_sample_size(voter_weights), mean)
