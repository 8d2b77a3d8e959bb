"""Shared test data for the theming tests (a plain module, not a conftest,
so its name cannot clash with other packages' conftest modules)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from theming.model import Comment

DATA = Path("/work/shared/data")
BOWLING_GREEN = DATA / "polis-bowling-green.csv"
ARGKP = DATA / "argkp-train.csv"
VOCABULARIES = {
    "parks": "parks trees playground green benches picnic gardens trails shade grass".split(),
    "transit": "buses routes schedule transit stops fares drivers shelters tram rail".split(),
    "housing": "rent housing apartments landlords affordable homes tenants zoning units".split(),
}


def synthetic_comments(per_theme: int = 12, seed: int = 0, prefix: str = "c") -> list[Comment]:
    """Comments made of one vocabulary's words each; the theme is the prefix
    of the id, so a test can check grouping without a model."""
    rng = random.Random(seed)
    out: list[Comment] = []
    for theme, words in VOCABULARIES.items():
        for n in range(per_theme):
            text = " ".join(rng.sample(words, 5))
            out.append(Comment(f"{prefix}-{theme}-{n}", text, table=str(rng.randint(1, 6))))
    rng.shuffle(out)
    return out


def read_csv(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return rows[:limit] if limit is not None else rows
