"""The traceability page tells each logged curation step as a sentence, seen from
the theme it is listed under; the rows here hold what the real theme engine
returns for each op, filed as server/curation.py files them."""

from __future__ import annotations

import json
from typing import Any

from server.storage.models import CurationLog
from server.themes.embeddings import make_embedder
from server.themes.recluster import machine_rows
from server.themes.workbench import as_one_step
from server.web.trace_steps import fold_runs, sentence, step_view
from tests.support.theming import synthetic_comments
from theming.engine import ThemeEngine


def engine() -> ThemeEngine:
    e = ThemeEngine(make_embedder("hashing"))
    e.add(synthetic_comments(per_theme=8))
    e.retheme()
    return e


def logged(
    result: dict[str, Any], action: str, key: str | None, actor: str = "team · Ana"
) -> CurationLog:
    details = {k: v for k, v in result.items() if k not in ("before", "after")}
    after = {"op_id": "x", "ack": {}, "after": result.get("after"), **details}
    return CurationLog(
        event_id=1,
        question_id=1,
        actor=actor,
        action=action,
        theme_key=key,
        before=json.dumps(result.get("before")),
        after=json.dumps(after),
    )


def two_themes(e: ThemeEngine) -> tuple[str, str]:
    snap = e.snapshot()
    big = sorted(snap["themes"], key=lambda t: -t["size"])
    return big[0]["id"], big[1]["id"]


def test_a_rename_says_from_what_to_what() -> None:
    e = engine()
    a, _ = two_themes(e)
    old = e.themes[a].label
    row = logged(e.rename(a, "Buses at night"), "rename", a)
    assert sentence(row, a) == f"renamed “{old}” to “Buses at night”"


def test_a_merge_reads_differently_from_each_side() -> None:
    e = engine()
    a, b = two_themes(e)
    source = e.themes[b].label
    row = logged(e.merge([b], a), "merge", a)
    assert sentence(row, a) == f"merged “{source}” into this theme"
    assert sentence(row, b) == f"merged this theme into “{e.themes[a].label}”"


def test_a_move_of_several_comments_counts_them_and_names_both_ends() -> None:
    e = engine()
    a, b = two_themes(e)
    members = e.snapshot()["themes"]
    picked = next(t for t in members if t["id"] == a)["members"][:2]
    label_a = e.themes[a].label
    result = as_one_step([e.move(picked[0], b), e.move(picked[1], b)])
    row = logged(result, "move", b)
    n = len(result["comments"])
    assert sentence(row, b) == f"moved {n} comments into this theme from “{label_a}”"
    assert sentence(row, a) == f"moved {n} comments out of this theme into “{e.themes[b].label}”"


def test_a_discard_gives_the_reason_and_the_step_keeps_its_record() -> None:
    e = engine()
    a, _ = two_themes(e)
    cid = e.snapshot()["themes"][0]["members"][0]
    row = logged(e.discard(cid, "a test line"), "discard", a)
    row.id = 7
    view = step_view(row, a, "2026-11-29T10:00:00+00:00")
    assert view["text"].startswith("discarded 1 comment") and "“a test line”" in view["text"]
    assert view["who"] == "Ana"
    assert '"reason": "a test line"' in view["record"] and "op_id" not in view["record"]


def test_an_automatic_re_cluster_reads_from_the_retired_theme_and_from_where_it_went() -> None:
    retired = [
        {"theme": "t7", "label": "Bus shelters", "size": 4, "into": "t2", "into_label": "Buses"}
    ]
    row = machine_rows(1, 1, retired)[0]
    assert sentence(row, "t7") == "retired this theme: most of its comments went to “Buses”"
    assert sentence(row, "t2") == "folded “Bus shelters” into this theme"
    back = machine_rows(1, 1, [{**retired[0], "into": None, "into_label": None}])[0]
    assert sentence(back, "t7").endswith("went back to those not in a theme yet")


def test_a_held_theme_giving_back_what_the_machine_added_reads_from_both_sides() -> None:
    released = {"theme": "t1", "label": "Parking", "size": 14, "released": 8}
    row = machine_rows(1, 1, [released | {"into": "t3", "into_label": "Night shifts"}])[0]
    assert sentence(row, "t1") == (
        "gave back 8 comments the machine had added after the team's last step: "
        "most went to “Night shifts”"
    )
    # Only most of them went there: the other side says so.
    assert sentence(row, "t3") == "took most of 8 comments the machine had added to “Parking”"
    back = machine_rows(1, 1, [released | {"into": None, "into_label": None}])[0]
    assert sentence(back, "t1").endswith("most went back to those not in a theme yet")


def test_one_comment_given_back_reads_as_one_from_both_sides() -> None:
    one = {"theme": "t1", "label": "Parking", "size": 14, "released": 1}
    row = machine_rows(1, 1, [one | {"into": "t3", "into_label": "Night shifts"}])[0]
    assert sentence(row, "t1").endswith("last step: it went to “Night shifts”")
    assert sentence(row, "t3") == "took a comment the machine had added to “Parking”"


def released_steps(key: str, runs: list[tuple[int, str | None]]) -> list[dict[str, Any]]:
    rows = machine_rows(
        1,
        1,
        [
            {"theme": "t1", "label": "Parking", "size": 9, "released": n}
            | {"into": into, "into_label": into and f"label of {into}"}
            for n, into in runs
        ],
    )
    return [step_view(r, key, f"2026-12-01T04:{10 + k:02d}:00") for k, r in enumerate(rows)]


def test_a_run_of_give_backs_is_told_once_with_each_step_kept_inside() -> None:
    team = step_view(logged({"before": {"label": "Parking"}}, "publish", "t1"), "t1", None)
    run = released_steps("t1", [(1, "t3"), (3, None), (2, "t4"), (2, "t4")])
    folded = fold_runs([team, *run, team])
    assert [s["action"] for s in folded] == ["publish", "recluster", "publish"]
    one = folded[1]
    assert one["text"] == (
        "gave back 8 comments the machine had added after the team's last step "
        "(4 re-clusters, 04:10–04:13): most went to “label of t4”"
    )
    assert one["steps"] == run and one["record"] is None
    assert all(s["record"] for s in one["steps"])
    # Two in a row stay two; a team step between breaks a run.
    assert fold_runs(run[:2]) == run[:2]
    assert fold_runs([run[0], run[1], team, run[2], run[3]])[2] == team
    # From the side that took them.
    took = fold_runs(released_steps("t4", [(2, "t4")] * 3))
    assert len(took) == 1 and took[0]["text"] == (
        "took most of 6 comments the machine had added to “Parking” (3 re-clusters, 04:10–04:12)"
    )
