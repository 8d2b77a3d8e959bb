"""The small-groups privacy rule, the one every output applies: no figure shown on a
screen, in the report or in an export lets one work out the size or the answers of
a group of fewer than ``threshold`` people.

A group is the people who gave one answer to a demographic question (or joined at
one site). ``hidden_groups`` decides which groups of a partition are suppressed:

- a group of 1..threshold-1 people is hidden (an empty group has nothing to hide);
- if that leaves exactly one group hidden, the next-smallest non-empty group is
  hidden with it, since the total minus the shown groups would give it away;
- if there is no such partner, the total itself is withheld.

``shown_distribution`` applies the rule to a question's counts *and* shares, which
each need it: a share shown beside a count gives its denominator away.
``coarsened`` hides the suppressed answers from figures that mix groups (census
weights), so those figures cannot tell the suppressed groups apart either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PREFER_NOT = "prefer_not"  # the answer a phone sends for "I'd rather not say"
NOT_GIVEN = "not_given"  # the group of missing, "prefer_not" and unknown answers
NOT_GIVEN_LABEL = "Not given"


def answer_group(demographics: Mapping[str, str], question_key: str, known: Iterable[str]) -> str:
    """The group a participant falls in; missing, "prefer_not" and unknown answers are NOT_GIVEN."""
    answer = demographics.get(question_key, NOT_GIVEN)
    return answer if answer in known and answer != PREFER_NOT else NOT_GIVEN


def hidden_groups(sizes: Mapping[str, int], threshold: int) -> tuple[set[str], bool]:
    """Groups to suppress, and whether a total may still be shown (the module's rule).

    ``sizes`` is the whole partition (every group, empty ones too), in a stable
    order: between partners of the same size, the first is hidden.
    """
    hidden = {k for k, n in sizes.items() if 0 < n < threshold}
    total_ok = True
    if len(hidden) == 1:
        partners = sorted(
            (n, i, k) for i, (k, n) in enumerate(sizes.items()) if k not in hidden and n > 0
        )
        if partners:
            hidden.add(partners[0][2])
        else:
            total_ok = False
    return hidden, total_ok


def group_sizes(
    people: Iterable[Mapping[str, str]], question_key: str, known: Sequence[str]
) -> dict[str, int]:
    """People per answer to one question (the known answers in order, then NOT_GIVEN)."""
    counts = Counter(answer_group(d, question_key, known) for d in people)
    return {k: counts.get(k, 0) for k in [*known, NOT_GIVEN]}


def hidden_answers(
    people: Iterable[Mapping[str, str]], question_key: str, known: Sequence[str], threshold: int
) -> set[str]:
    """The suppressed groups of one question among these people."""
    return hidden_groups(group_sizes(people, question_key, known), threshold)[0]


def coarsened(demographics: Mapping[str, str], hidden: Mapping[str, set[str]]) -> dict[str, str]:
    """A participant's answers with those in a suppressed group replaced by NOT_GIVEN:
    what a figure mixing the groups (census weights) may use."""
    return {q: NOT_GIVEN if a in hidden.get(q, ()) else a for q, a in demographics.items()}


@dataclass(frozen=True)
class ShownDistribution:
    """Which of one question's figures may be shown: a count per answer (PREFER_NOT
    included), a share per option among people who picked an option, and the total."""

    hidden: frozenset[str]  # answers whose count and share are suppressed
    total_ok: bool  # whether the number of people who answered may be shown

    def shows(self, answer: str) -> bool:
        return answer not in self.hidden


def shown_distribution(
    counts: Mapping[str, int], options: Sequence[str], threshold: int
) -> ShownDistribution:
    """The rule for one question's counts, option shares and total together.

    A shown option's count beside its share gives away the number of people who
    picked an option, so the options are a partition with their own partner rule
    (and when a small option has no partner, no option is shown). "Prefer not to
    say" is hidden when small; the total then is withheld, as it minus the people
    who picked an option would be exactly that count. Without any shown option to
    derive that number from, the total is withheld when it would leave one hidden
    count alone.
    """
    sizes = {k: counts.get(k, 0) for k in [*options, PREFER_NOT]}
    hidden, shares_ok = hidden_groups({k: sizes[k] for k in options}, threshold)
    if not shares_ok:
        hidden |= set(options)
    if 0 < sizes[PREFER_NOT] < threshold:
        hidden.add(PREFER_NOT)
    if any(sizes[k] > 0 for k in options if k not in hidden):
        total_ok = PREFER_NOT not in hidden
    else:
        total_ok = len([k for k in hidden if sizes[k] > 0]) != 1
    return ShownDistribution(frozenset(hidden), total_ok)
