"""Curation ops over the team websocket on the real server: each is acked after
commit, logged with who/before/after, broadcast to every team page, and
refused on a stale version."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.workbench import Themed, biggest, log_rows, op, sync


async def current(team: object, q: int) -> dict[str, object]:
    await recv_until(team, "hello")  # type: ignore[arg-type]
    return await sync(team, q)  # type: ignore[arg-type]


async def test_rename_is_logged_with_who_and_before_after_and_reaches_another_member(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with (
        connect(s.ws_url("team", s.tokens.team)) as ana,
        connect(s.ws_url("team", s.tokens.team)) as ben,
    ):
        msg = await current(ana, q)
        await recv_until(ben, "hello")
        th = biggest(msg)[0]
        ack = await op(
            ana,
            "rename",
            q,
            theme=th["key"],
            version=th["version"],
            label="Safer streets",
            name="Ana",
        )
        assert ack["type"] == "ack", ack
        while True:
            seen = await recv_until(ben, "themes")
            mine = next((t for t in seen["themes"] if t["key"] == th["key"]), None)
            if mine and mine["label"] == "Safer streets":
                break
    assert mine["version"] > th["version"]
    row = next(r for r in await log_rows(s) if r.id == ack["log_id"])
    assert row.actor == "theme team · Ana" and row.theme_key == th["key"]
    assert json.loads(row.before)["label"] == th["label"]
    assert json.loads(row.after)["after"]["label"] == "Safer streets"


async def test_a_stale_version_is_refused_with_conflict_and_changes_nothing(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        th = biggest(msg)[0]
        fields = {"theme": th["key"], "version": th["version"]}
        first = await op(team, "rename", q, label="One", name="Ana", **fields)
        stale = await op(team, "rename", q, label="Two", name="Ben", **fields)
        now = await sync(team, q)
    assert first["type"] == "ack"
    assert stale["type"] == "error" and stale["code"] == "conflict"
    # One line that says who did what to which theme, so Ben knows why.
    assert stale["message"] == (
        f"Ana renamed “{th['label']}” since you last saw it; it has been reloaded — "
        "check it and try again"
    )
    assert next(t for t in now["themes"] if t["key"] == th["key"])["label"] == "One"
    assert stale["id"] not in "".join(r.after for r in await log_rows(s))


async def test_merge_split_move_discard_and_pin_are_each_logged_with_before_and_after(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        a, b = biggest(msg)
        merged = await op(
            team,
            "merge",
            q,
            themes=[b["key"]],
            into=a["key"],
            versions={a["key"]: a["version"], b["key"]: b["version"]},
            label="Both",
        )
        now = await sync(team, q)
        big = next(t for t in now["themes"] if t["key"] == a["key"])
        assert big["size"] == a["size"] + b["size"] and big["label"] == "Both"
        assert b["key"] not in {t["key"] for t in now["themes"]}
        split = await op(
            team, "split", q, theme=a["key"], version=big["version"], comments=b["members"][:2]
        )
        now = await sync(team, q)
        new = next(t for t in now["themes"] if t["key"] == split["new_theme"])
        assert set(new["members"]) >= set(b["members"][:2])
        # A comment from outside the new theme: one in no theme if any is left
        # (earlier tests on the shared server may have had every one placed).
        elsewhere = [
            m for t in now["themes"] if t["key"] not in (new["key"], a["key"]) for m in t["members"]
        ]
        lone = (now["unassigned"] or elsewhere)[0]
        moved = await op(team, "move", q, comment=lone, to=new["key"], version=new["version"])
        now = await sync(team, q)
        new = next(t for t in now["themes"] if t["key"] == new["key"])
        assert lone in new["members"]
        pinned = await op(
            team, "pin_quote", q, theme=new["key"], comment=lone, version=new["version"]
        )
        now = await sync(team, q)
        new = next(t for t in now["themes"] if t["key"] == new["key"])
        assert new["quotes"][0]["id"] == lone
        gone = await op(
            team, "discard", q, comment=lone, reason="off topic", version=new["version"]
        )
        now = await sync(team, q)
    for reply in (merged, split, moved, pinned, gone):
        assert reply["type"] == "ack", reply
    assert {"id": lone, "reason": "off topic"} in now["discarded"]
    assert lone not in {m for t in now["themes"] for m in t["members"]}
    rows = {r.id: r for r in await log_rows(s)}
    for reply in (merged, split, moved, pinned, gone):
        row = rows[reply["log_id"]]
        assert json.loads(row.before), row.action
        assert json.loads(row.after)["after"], row.action
    assert rows[gone["log_id"]].action == "discard"
    assert json.loads(rows[gone["log_id"]].after)["after"]["reason"] == "off topic"


async def test_undo_takes_back_only_that_members_last_step(themed_server: Themed) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        a, b = biggest(msg)
        c = biggest(msg, 3)[2]
        await op(team, "rename", q, theme=a["key"], version=a["version"], label="Ana's", name="Uma")
        await op(
            team,
            "merge",
            q,
            themes=[b["key"]],
            into=a["key"],
            name="Uma",
            versions={a["key"]: a["version"] + 1, b["key"]: b["version"]},
        )
        ben = await op(
            team, "rename", q, theme=c["key"], version=c["version"], label="Ben's", name="Ulf"
        )
        undone = await op(team, "undo", q, name="Uma")
        now = await sync(team, q)
        nothing = await op(team, "undo", q, name="Nobody")
    assert ben["type"] == "ack" and undone["type"] == "ack", undone
    themes = {t["key"]: t for t in now["themes"]}
    assert set(themes[b["key"]]["members"]) == set(b["members"])
    assert set(themes[a["key"]]["members"]) == set(a["members"])
    assert themes[a["key"]]["label"] == "Ana's", "only the last step is undone"
    assert themes[c["key"]]["label"] == "Ben's"
    assert themes[a["key"]]["version"] > a["version"] + 1, "versions only grow"
    assert nothing["type"] == "error" and nothing["code"] == "invalid"
    undo_row = next(r for r in await log_rows(s) if r.id == undone["log_id"])
    assert undo_row.actor == "theme team · Uma" and json.loads(undo_row.before)["action"] == "merge"


async def test_undo_is_refused_when_someone_changed_the_theme_since(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        th = biggest(msg)[0]
        await op(team, "rename", q, theme=th["key"], version=th["version"], label="A", name="Vic")
        await op(
            team, "rename", q, theme=th["key"], version=th["version"] + 1, label="B", name="Val"
        )
        refused = await op(team, "undo", q, name="Vic")
        now = await sync(team, q)
    assert refused["type"] == "error" and refused["code"] == "conflict"
    assert refused["message"] == (
        "Val renamed “A” after your step, so it cannot be undone; change it by hand"
    )
    assert next(t for t in now["themes"] if t["key"] == th["key"])["label"] == "B"


async def test_a_resent_op_is_acked_again_and_applied_once(themed_server: Themed) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        th = biggest(msg)[0]
        op_id = new_id()
        fields = {"theme": th["key"], "version": th["version"], "label": "Once"}
        first = await op(team, "rename", q, id=op_id, **fields)
        again = await op(team, "rename", q, id=op_id, **fields)
    assert first["type"] == again["type"] == "ack"
    assert first["log_id"] == again["log_id"]
    assert "".join(r.after for r in await log_rows(s)).count(op_id) == 1


async def test_a_display_cannot_curate_and_an_unknown_theme_is_not_found(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with (
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("display", s.tokens.display)) as display,
    ):
        await current(team, q)
        await recv_until(display, "hello")
        forbidden = await op(display, "rename", q, theme="t1", version=1, label="x")
        missing = await op(team, "rename", q, theme="t999", version=1, label="x")
    assert forbidden["code"] == "forbidden"
    assert missing["code"] == "not_found"


async def test_moving_several_comments_is_one_step_with_one_log_row_and_one_undo(
    themed_server: Themed,
) -> None:
    """A drag of a multi-selection: every comment lands, the log has one row, and
    one undo puts them all back."""
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        a, b = biggest(msg)
        picked = a["members"][:3]
        rows_before = len(await log_rows(s))
        moved = await op(
            team, "move", q, comments=picked, to=b["key"], version=b["version"], name="Mo"
        )
        now = await sync(team, q)
        rows_after = await log_rows(s)
        undone = await op(team, "undo", q, name="Mo")
        back = await sync(team, q)
    assert moved["type"] == "ack" and moved["theme"] == b["key"], moved
    assert set(picked) <= set(moved["comments"]), moved  # near-duplicates would be there too
    into = next(t for t in now["themes"] if t["key"] == b["key"])
    assert set(picked) <= set(into["members"])
    assert len(rows_after) == rows_before + 1
    row = rows_after[-1]
    assert row.action == "move" and row.actor == "theme team · Mo"
    assert {int(c) for c in json.loads(row.after)["comments"]} >= set(picked)
    assert undone["type"] == "ack", undone
    home = next(t for t in back["themes"] if t["key"] == a["key"])
    assert set(picked) <= set(home["members"])


async def test_a_multi_move_onto_a_theme_changed_since_is_refused_and_moves_nothing(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        a, b = biggest(msg)
        await op(team, "rename", q, theme=b["key"], version=b["version"], label="Z", name="Zed")
        refused = await op(
            team, "move", q, comments=a["members"][:2], to=b["key"], version=b["version"]
        )
        now = await sync(team, q)
    assert refused["code"] == "conflict" and refused["message"].startswith("Zed renamed")
    still = next(t for t in now["themes"] if t["key"] == a["key"])
    assert set(a["members"][:2]) <= set(still["members"])


async def test_discarding_several_comments_keeps_each_on_record_with_the_reason(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        th = biggest(msg, 3)[2]
        picked = th["members"][:2]
        gone = await op(
            team, "discard", q, comments=picked, reason="a test line", version=th["version"]
        )
        now = await sync(team, q)
        for cid in picked:  # put them back for the other tests
            await op(team, "restore", q, comment=cid)
    assert gone["type"] == "ack", gone
    assert {(d["id"], d["reason"]) for d in now["discarded"]} >= {
        (c, "a test line") for c in picked
    }


async def test_a_move_names_one_comment_or_several_never_both(themed_server: Themed) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
        th = biggest(msg)[0]
        both = await op(
            team, "move", q, comment=th["members"][0], comments=th["members"][:2], to=None
        )
        neither = await op(team, "move", q, to=None)
        empty = await op(team, "move", q, comments=[], to=None)
    for reply in (both, neither, empty):
        assert reply["type"] == "error" and reply["code"] == "invalid", reply


async def test_themes_carry_each_themes_keywords(themed_server: Themed) -> None:
    """The workbench lists keywords beside each label; a page's sync has them too."""
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        msg = await current(team, q)
    assert all(isinstance(t["keywords"], list) for t in msg["themes"])
    assert any(t["keywords"] for t in msg["themes"]), msg["themes"]
