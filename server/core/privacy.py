"""The small-groups privacy rule: no figure shown anywhere lets one work out the
size or the answers of a group of fewer than ``threshold`` people."""

from __future__ import annotations

from collections.abc import Mapping


def hidden_groups(sizes: Mapping[str, int], threshold: int) -> tuple[set[str], bool]:
    """Groups to suppress, and whether a total may still be shown.

    A group of 1..threshold-1 is hidden; if only one is, the next-smallest
    non-empty group is hidden too (else total minus the others gives it away);
    with no such partner the total is withheld.
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
