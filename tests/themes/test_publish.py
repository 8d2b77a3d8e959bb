"""Publishing a theme set reaches the displays, and the producer turns it into
a poll in one step that phones can vote in (real server, real clients)."""

from __future__ import annotations

import asyncio
import html
import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlmodel import select
from websockets.asyncio.client import connect

from server.storage.db import Database
from server.storage.models import Question
from server.themes.recluster import machine_rows
from tests.support.example import new_id
from tests.support.live import get, join, recv_until
from tests.support.server import LiveServer
from tests.support.workbench import Themed, biggest, op, published_theme_with_an_offer, sync


async def test_publish_reaches_the_display_and_becomes_a_poll_a_phone_votes_in(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with (
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("display", s.tokens.display)) as display,
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
        connect(s.ws_url("producer", s.tokens.producer)) as console,
        connect(s.ws_url("phone", join(s))) as phone,
    ):
        for ws in (team, display, producer, console, phone):
            await recv_until(ws, "hello")
        chosen = biggest(await sync(team, q), 3)
        versions = {t["key"]: t["version"] for t in chosen}
        ack = await op(team, "publish", q, themes=versions, name="Pat")
        shown = await recv_until(display, "published")
        made = await op(producer, "poll_from_themes", q, kind="multi", max_choices=2)
        again = await op(producer, "poll_from_themes", q, kind="multi", id=made["id"])
        poll = (await recv_until(console, "poll"))["poll"]
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": made["poll_id"]})
        )
        opened = await recv_until(phone, "poll")
        while opened["poll"]["status"] != "open":  # the draft's creation is pushed first
            opened = await recv_until(phone, "poll")
        vote = {
            "type": "vote",
            "id": new_id(),
            "poll_id": made["poll_id"],
            "seq": 1,
            "choice": [chosen[0]["key"]],
        }
        await phone.send(json.dumps(vote))
        voted = await recv_until(phone, "ack", "error")
    assert ack["type"] == "ack" and ack["published"] == 3, ack
    assert {t["key"] for t in shown["themes"] if t["question_id"] == q} == set(versions)
    assert made["type"] == "ack" and again["poll_id"] == made["poll_id"]
    assert poll["id"] == made["poll_id"] and poll["kind"] == "multi" and poll["max_choices"] == 2
    assert [o["label"] for o in poll["options"]] == [
        t["label"] for t in sorted(chosen, key=lambda t: t["id"])
    ]
    assert opened["poll"]["status"] == "open"
    assert voted["type"] == "ack" and voted["applied"] is True, voted
    # The default prompt is stored in the first language; a Spanish phone's page
    # carries its translation (phone.js shows a prompt through that catalogue).
    spanish, _ = await asyncio.to_thread(
        get, f"{s.base}/phone", **{"Accept-Language": "es-ES,es;q=0.9"}
    )
    found = re.search(r'data-i18n="([^"]*)"', spanish)
    assert found is not None
    catalogue = json.loads(html.unescape(found.group(1)))
    assert catalogue[poll["prompt"]] == "¿Cuáles de estos temas le importan más?"


async def test_publishing_a_theme_changed_since_it_was_seen_is_refused(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        th = biggest(await sync(team, q))[0]
        await op(
            team, "rename", q, theme=th["key"], version=th["version"], label="Changed", name="Rae"
        )
        refused = await op(team, "publish", q, themes={th["key"]: th["version"]})
    assert refused["code"] == "conflict"
    assert refused["message"].startswith(f"Rae renamed “{th['label']}” since you last saw it")


async def test_trace_page_shows_a_published_theme_with_its_comments_and_steps(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    th, other = await publish_the_biggest(themed_server)
    page = await asyncio.to_thread(fetch, f"{s.base}/trace?token={s.tokens.display}")
    assert f'data-key="{th["key"]}"' in page and html.escape(th["label"]) in page
    for cid in th["members"]:
        assert f'data-id="{cid}"' in page
    assert 'data-action="publish"' in page
    # Told as a sentence a citizen can follow, with the record itself one click away.
    assert "<strong>Pia</strong> published 1 theme to the screens, this one among them" in page
    assert f'href="#q{q}-{th["key"]}"' in page  # the contents link to it
    # A display link lists what the room saw: a theme not published is not there.
    assert f'data-key="{other["key"]}"' not in page
    everything = await asyncio.to_thread(fetch, f"{s.base}/trace?token={s.tokens.team}")
    assert f'data-key="{other["key"]}"' in everything
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(fetch, f"{s.base}/trace?token=nope")
    assert refused.value.code == 403


async def test_trace_page_tells_a_run_of_give_backs_as_one_step_with_each_inside(
    themed_server: Themed,
) -> None:
    s, q = themed_server.server, themed_server.question_id
    th, other = await publish_the_biggest(themed_server)
    # Four re-clusters in a row each gave back what the machine had added to it.
    rows = [
        {"theme": th["key"], "label": th["label"], "size": 9, "released": n}
        | {"into": into, "into_label": into and other["label"]}
        for n, into in ((1, other["key"]), (3, None), (2, other["key"]), (2, other["key"]))
    ]
    db = Database(s.db_url)
    try:
        async with db.writer() as w:
            event_id = (await w.exec(select(Question).where(Question.id == q))).one().event_id
            for row in machine_rows(event_id, q, rows):
                w.add(row)
            await w.commit()
    finally:
        await db.dispose()
    page = await asyncio.to_thread(fetch, f"{s.base}/trace?token={s.tokens.team}")
    theme = page[page.index(f'data-key="{th["key"]}"') :]
    theme = theme[: theme.index("</article>")]
    # Counted one by one: every listed step but the run's own line (the fixture's
    # re-themes, the publish, the four).
    listed = theme.count('class="trace-step"') - 1
    assert listed >= 5 and f"How the theme team shaped it ({listed} steps)" in theme
    label = html.escape(other["label"], quote=False)
    assert re.search(
        r"gave back 8 comments the machine had added after the team&#39;s last step "
        rf"\(4 re-clusters, [0-9:]+(–[0-9:]+)?\): most went to “{re.escape(label)}”",
        theme,
    ), theme
    assert "<summary>4 steps</summary>" in theme
    assert theme.count("gave back") == 5  # the run's own four are inside it
    assert (
        "gave back 1 comment the machine had added after the team&#39;s last step: it went" in theme
    )
    # Seen from the theme that took them, as one step too.
    took = page[page.index(f'data-key="{other["key"]}"') :]
    took = took[: took.index("</article>")]
    mine = html.escape(th["label"], quote=False)
    assert f"took most of 5 comments the machine had added to “{mine}”" in took


async def publish_the_biggest(themed: Themed) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pia publishes the question's biggest theme; it and the next biggest."""
    s, q = themed.server, themed.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        th, other = biggest(await sync(team, q), 2)
        done = await op(team, "publish", q, themes={th["key"]: th["version"]}, name="Pia")
    assert done["type"] == "ack", done
    return th, other


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


async def test_trace_page_for_a_display_says_when_nothing_is_published_yet(
    live_server: LiveServer,
) -> None:
    page = await asyncio.to_thread(
        fetch, f"{live_server.base}/trace?token={live_server.tokens.display}"
    )
    assert "Nothing has been published to the screens yet." in page
    assert "trace-theme" not in page


async def test_a_published_label_stays_when_comments_move_in_and_a_new_one_is_offered(
    themed_server: Themed,
) -> None:
    """The screens show what the team published: comments moved into a
    published theme do not change its label; the label they would give it
    is offered to the team instead (``suggested_label``)."""
    s, q = themed_server.server, themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        before, now = await published_theme_with_an_offer(team, q)
        undone = await op(team, "undo", q, name="Di")
        cleared = await op(team, "publish", q, themes={}, name="Pat")
    assert undone["type"] == cleared["type"] == "ack"
    assert now["size"] > before["size"]
    assert now["label"] == before["label"], now["label"]
    assert now["suggested_label"] not in (None, before["label"]), now
