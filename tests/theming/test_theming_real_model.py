"""Integration tests with the real all-MiniLM-L6-v2 model on real comments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.theming import ARGKP, BOWLING_GREEN, read_csv
from theming.cache import CachedEmbedder
from theming.embed import MiniLMEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment
from theming.suggest import suggest

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]


def bowling_green(limit: int = 120) -> list[Comment]:
    return [
        Comment(r["id"], r["text"], table=str(int(r["author_id"]) % 12))
        for r in read_csv(BOWLING_GREEN, limit)
    ]


def accounted_once(engine: ThemeEngine) -> None:
    engine.check()
    snap = engine.snapshot()
    listed = [c for t in snap["themes"] for c in t["members"]]
    listed += snap["unassigned"] + [d["id"] for d in snap["discarded"]]
    assert sorted(listed) == sorted(engine.comments)


def test_model_vectors_are_unit_length(minilm: CachedEmbedder) -> None:
    vectors = minilm.encode(["More bike lanes downtown", "Lower the rent"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert float(vectors[0] @ vectors[1]) < 0.5


def test_paraphrase_joins_its_theme_and_copies_collapse(minilm: CachedEmbedder) -> None:
    engine = ThemeEngine(minilm)
    comments = bowling_green()
    engine.add(comments)
    engine.retheme()
    source = next(c for c in comments if engine.where(c.id) in engine.themes)
    engine.add(
        [
            Comment("copy-1", source.text.lower() + "!!", table="99"),
            Comment("copy-2", source.text + " ", table="98"),
        ]
    )
    assert engine.where("copy-1") == engine.where("copy-2") == engine.where(source.id)
    assert set(engine.duplicates_of(source.id)) == {source.id, "copy-1", "copy-2"}
    accounted_once(engine)


def test_off_topic_comment_fits_nowhere(minilm: CachedEmbedder) -> None:
    engine = ThemeEngine(minilm)
    engine.add([*bowling_green(), Comment("off", "My phone battery is almost empty")])
    engine.retheme()
    assert engine.where("off") == "_unassigned"
    engine.add([Comment("off-2", "Is there more coffee in the back of the hall?")])
    assert engine.where("off-2") == "_unassigned"


def test_theme_ids_and_curation_survive_retheme_with_new_comments(
    minilm: CachedEmbedder,
) -> None:
    engine = ThemeEngine(minilm)
    comments = bowling_green(200)
    engine.add(comments[:150])
    engine.retheme()
    before = {tid: set(engine.members(tid)) for tid in engine.themes}
    assert len(before) >= 3

    renamed, other = sorted(before, key=lambda t: -len(before[t]))[:2]
    engine.rename(renamed, "Our renamed theme")
    moved = next(iter(before[other]))
    engine.move(moved, renamed)
    discarded = next(c for c in before[other] if c != moved)
    engine.discard(discarded, "duplicate of a printed handout")
    locked_members = set(engine.members(renamed))

    engine.add(comments[150:])
    summary = engine.retheme()

    assert engine.themes[renamed].label == "Our renamed theme"
    assert locked_members <= set(engine.members(renamed))
    assert engine.where(moved) == renamed
    assert engine.where(discarded) == "_discarded"
    # Most of the uncurated themes carry on under their old ids, with most of
    # their comments: together they keep 60 % (0.75-0.8 measured; ids matched
    # at random would keep ~1/8), and three in four keep a fifth or more each.
    # Not every one: the model's vectors vary a little from run to run (threads;
    # float32 too), and in about one run in eight one theme of 15-16 comments
    # breaks up in the re-cluster (6 / 5 / 4 of its comments in three themes)
    # and its id goes on with 3 of them; seen alike before and after held
    # themes gave back what the machine added (2026-12-01).
    assert len(summary["kept"]) >= 0.6 * len(before)
    kept = [t for t in summary["kept"] if t in before and not engine.themes[t].locked]
    stayed = [len(before[t] & set(engine.members(t))) for t in kept]
    shares = [n / len(before[t]) for t, n in zip(kept, stayed, strict=True)]
    assert sum(s >= 0.2 for s in shares) >= 0.75 * len(kept), dict(zip(kept, shares, strict=True))
    assert sum(stayed) >= 0.6 * sum(len(before[t]) for t in kept)
    accounted_once(engine)


def test_suggest_groups_argkp_better_than_chance(minilm: CachedEmbedder) -> None:
    rows = read_csv(ARGKP)
    topic = rows[0]["topic"], rows[0]["stance"]
    group = [r for r in rows if (r["topic"], r["stance"]) == topic]
    result = suggest([Comment(r["id"], r["text"]) for r in group], minilm)
    from sklearn.metrics import adjusted_mutual_info_score

    place = {m: t["id"] for t in result["themes"] for m in t["members"]}
    predicted = [place.get(r["id"], "single:" + r["id"]) for r in group]
    assert adjusted_mutual_info_score([r["theme_id"] for r in group], predicted) > 0.05


def test_cli_writes_the_contract_json(tmp_path: Path) -> None:
    source = tmp_path / "comments.csv"
    rows = read_csv(BOWLING_GREEN, 120)
    rows.append({"id": "copy", "text": rows[0]["text"]})
    source.write_text(
        "id,text\n"
        + "".join(f'{r["id"]},"{r["text"].replace(chr(34), 2 * chr(34))}"\n' for r in rows)
    )
    out = tmp_path / "themes.json"
    done = subprocess.run(
        [sys.executable, "-m", "theming.suggest", str(source), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result) == {"themes", "unassigned"}
    listed = [m for t in result["themes"] for m in t["members"]] + result["unassigned"]
    assert sorted(listed) == sorted(r["id"] for r in rows)
    assert 3 <= len(result["themes"]) <= 30
    for theme in result["themes"]:
        assert isinstance(theme["id"], str) and theme["label"].strip()
    place = {m: t["id"] for t in result["themes"] for m in t["members"]}
    assert place.get("copy", "u") == place.get(rows[0]["id"], "u")


def test_bfloat16_vectors_match_float32(tmp_path: Path) -> None:
    """The faster arithmetic must not move the vectors the themes are built on:
    each text keeps its float32 vector to within 1e-3 cosine, and its nearest
    neighbour among the others."""
    texts = [c.text for c in bowling_green(60)]
    exact = MiniLMEmbedder(precision="float32", threads=1).encode(texts)
    fast = MiniLMEmbedder(precision="bfloat16", threads=1).encode(texts)
    assert fast.dtype == np.float32
    assert float((exact * fast).sum(axis=1).min()) > 0.999
    near_exact, near_fast = exact @ exact.T, fast @ fast.T
    np.fill_diagonal(near_exact, -1)
    np.fill_diagonal(near_fast, -1)
    agree = (near_exact.argmax(axis=1) == near_fast.argmax(axis=1)).mean()
    assert agree >= 0.95
