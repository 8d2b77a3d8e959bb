"""The workbench, screen, phone and trace pages in headless Chromium against the
real server: two members see each other's work live, a publish reaches the big
screen, a poll made from themes gets a phone's vote, hostile text stays text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer
from tests.support.workbench import Themed, biggest, op, published_theme_with_an_offer, seed, sync

pytestmark = pytest.mark.browser
WAIT = 10_000  # ms, every expect below is bounded by it
HOSTILE = "<img src=x onerror=alert(1)> <script>alert(2)</script> keep buses running late"


async def open_team(ctx: Any, s: LiveServer, name: str, trouble: list[str]) -> Any:
    page = await ctx.new_page()
    page.on("pageerror", lambda e: trouble.append(str(e)))
    page.on("dialog", lambda d: trouble.append("dialog: " + d.message))
    await page.goto(f"{s.base}/team?token={s.tokens.team}")
    await page.fill("#member-name", name)
    await page.dispatch_event("#member-name", "change")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
    await expect(page.locator("#themes li.trow").first).to_be_visible(timeout=WAIT)
    return page


def theme_row(page: Any, key: str) -> Any:
    return page.locator(f'#themes li.trow[data-key="{key}"]')


async def merge_and_rename_is_seen_by_the_other_member(s: LiveServer, browser: Any, q: int) -> None:
    """Ana drops one theme on another and renames the result; Ben's page follows."""
    trouble: list[str] = []
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    ana, ben = await open_team(ctx, s, "Ana", trouble), await open_team(ctx, s, "Ben", trouble)
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        a, b = biggest(await sync(team, q))
    await theme_row(ana, b["key"]).drag_to(theme_row(ana, a["key"]))
    await expect(ana.locator("#status")).to_have_text(
        f"Merged “{b['label']}” into “{a['label']}” (u undoes it).", timeout=WAIT
    )
    await expect(theme_row(ben, b["key"])).to_have_count(0, timeout=WAIT)
    await theme_row(ana, a["key"]).locator("button.open").click()
    await ana.locator("#rename-input").fill("Getting around town")
    await ana.locator("#rename").click()
    target = theme_row(ben, a["key"])
    await expect(target.locator(".t-label")).to_have_text("Getting around town", timeout=WAIT)
    await expect(target.locator(".t-size .n")).to_have_text(
        str(a["size"] + b["size"]), timeout=WAIT
    )
    assert trouble == []
    await ctx.close()


async def test_two_members_one_merges_and_renames_the_other_sees_it(
    themed_server: Themed, browser: Any
) -> None:
    await merge_and_rename_is_seen_by_the_other_member(
        themed_server.server, browser, themed_server.question_id
    )


async def test_hostile_comment_is_text_on_team_screen_and_trace_and_a_publish_reaches_the_screen(
    themed_server: Themed, browser: Any
) -> None:
    s, q = themed_server.server, themed_server.question_id
    trouble: list[str] = []
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    team_page = await open_team(ctx, s, "Cy", trouble)
    screen = await ctx.new_page()
    screen.on("dialog", lambda d: trouble.append("dialog: " + d.message))
    await screen.goto(f"{s.base}/screen?token={s.tokens.display}")
    await expect(screen.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
    async with (
        connect(s.ws_url("table", s.tokens.tables[9])) as table,
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
    ):
        await recv_until(table, "hello")
        await recv_until(team, "hello")
        await recv_until(producer, "hello")
        await table.send(json.dumps({"type": "comment", "id": new_id(), "seq": 1, "text": HOSTILE}))
        cid = (await recv_until(table, "ack"))["comment_id"]
        # The new comment is found by its words, among all comments.
        await team_page.fill("#filter", "keep buses running late")
        await team_page.locator('li.trow[data-key="_all"] button.open').click()
        live = team_page.locator(f'#comments li[data-id="{cid}"] .c-text')
        await expect(live).to_have_text(HOSTILE, timeout=WAIT)
        th = biggest(await sync(team, q))[0]
        moved = await op(team, "move", q, comment=cid, to=th["key"], version=th["version"])
        th = next(t for t in (await sync(team, q))["themes"] if t["key"] == th["key"])
        pin = await op(team, "pin_quote", q, theme=th["key"], comment=cid, version=th["version"])
        await op(team, "publish", q, themes={})  # nothing on the screens before this test's publish
        await producer.send(json.dumps({"type": "screen", "id": new_id(), "mode": "themes"}))
        await recv_until(producer, "ack")
    assert moved["type"] == pin["type"] == "ack", (moved, pin)
    await team_page.fill("#filter", "")
    await theme_row(team_page, th["key"]).locator("button.open").click()
    await expect(team_page.locator("#pane-quotes .q-text").first).to_have_text(
        HOSTILE, timeout=WAIT
    )
    await theme_row(team_page, th["key"]).locator("input.pick").check()
    await team_page.click("#publish")
    dialog = team_page.locator("#publish-dialog")
    await expect(dialog.locator("#publish-list li.adding .p-label")).to_have_text([th["label"]])
    await dialog.locator("#publish-confirm").click()
    await expect(team_page.locator("#status")).to_contain_text("Published 1 theme", timeout=WAIT)
    await expect(screen.locator("#view-themes")).to_be_visible(timeout=WAIT)
    quote = screen.locator("#themes blockquote").filter(has_text="keep buses running late")
    await expect(quote).to_have_text(HOSTILE, timeout=WAIT)
    trace = await ctx.new_page()
    trace.on("dialog", lambda d: trouble.append("dialog: " + d.message))
    await trace.goto(f"{s.base}/trace?token={s.tokens.display}")
    row = trace.locator(f'.trace-comment[data-id="{cid}"] .text')
    await expect(row).to_have_text(HOSTILE, timeout=WAIT)
    await expect(trace.locator(".trace-step[data-action=pin_quote]").first).to_be_visible()
    for page in (team_page, screen, trace):
        assert await page.locator('img[src="x"]').count() == 0
    assert trouble == []
    await ctx.close()


async def test_a_poll_made_from_published_themes_gets_a_vote_from_a_phone(
    themed_server: Themed, browser: Any
) -> None:
    s, q = themed_server.server, themed_server.question_id
    phone_ctx = await browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone = await phone_ctx.new_page()
    await phone.goto(f"{s.base}/j/{s.tokens.code}")
    await phone.get_by_role("button", name="Join").click()
    await phone.get_by_role("button", name="Continue").click(timeout=WAIT)
    await expect(phone.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
    async with (
        connect(s.ws_url("team", s.tokens.team)) as team,
        connect(s.ws_url("producer", s.tokens.producer)) as producer,
    ):
        await recv_until(team, "hello")
        await recv_until(producer, "hello")
        chosen = biggest(await sync(team, q), 2)
        published = await op(team, "publish", q, themes={t["key"]: t["version"] for t in chosen})
        made = await op(producer, "poll_from_themes", q, kind="ranking")
        await producer.send(
            json.dumps({"type": "open_poll", "id": new_id(), "poll_id": made["poll_id"]})
        )
        await recv_until(producer, "ack")
    assert published["type"] == made["type"] == "ack", (published, made)
    await phone.get_by_label(chosen[0]["label"], exact=True).first.click(timeout=WAIT)
    await phone.get_by_role("button", name="Vote").click()
    await expect(phone.locator("text=Vote received")).to_be_visible(timeout=WAIT)
    await phone_ctx.close()


@pytest.mark.model
@pytest.mark.parametrize(
    "live_server", [{"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "minilm"}], indirect=True
)
async def test_real_model_two_members_merge_and_rename_live(
    live_server: LiveServer, browser: Any
) -> None:
    async with connect(live_server.ws_url("team", live_server.tokens.team)) as team:
        msg = await seed(live_server, team, 40)
    await merge_and_rename_is_seen_by_the_other_member(live_server, browser, msg["question_id"])


async def test_a_new_label_for_a_published_theme_is_offered_and_taken_in_one_click(
    themed_server: Themed, browser: Any, tmp_path: Path
) -> None:
    """Comments moved into a published theme leave its label as the screens
    show it; the list marks the theme "new label?", its pane offers the label
    its comments give now, and one click renames it (a logged team step)."""
    s, q = themed_server.server, themed_server.question_id
    trouble: list[str] = []
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        b, now = await published_theme_with_an_offer(team, q)
        offer = now["suggested_label"]
        page = await open_team(ctx, s, "Di", trouble)
        row = theme_row(page, b["key"])
        await expect(row.locator(".t-label")).to_have_text(b["label"], timeout=WAIT)
        await expect(row.locator(".badge.offer")).to_be_visible(timeout=WAIT)
        await row.locator("button.open").click()
        await expect(page.locator("#suggest-text")).to_have_text(offer, timeout=WAIT)
        await page.screenshot(path=str(tmp_path / "team-label-offer-1440x900.png"))
        await page.locator("#use-suggestion").click()
        await expect(page.locator("#status")).to_have_text("Renamed.", timeout=WAIT)
        await expect(row.locator(".t-label")).to_have_text(offer, timeout=WAIT)
        await expect(row.locator(".badge.offer")).to_be_hidden(timeout=WAIT)
        await expect(page.locator("#pane-suggest")).to_be_hidden(timeout=WAIT)
        await page.screenshot(path=str(tmp_path / "team-label-taken-1440x900.png"))
        # Other tests read the state they act on; nothing left on the screens.
        await op(team, "publish", q, themes={}, name="Pat")
    assert trouble == []
    await ctx.close()


async def test_a_theme_grown_into_two_is_offered_a_split_taken_in_one_click(
    themed_server: Themed, browser: Any, tmp_path: Path
) -> None:
    """One theme's comments moved by hand into another make one locked theme no
    re-cluster will part; its comments still form two groups, so the list marks
    it "two themes?", its pane offers the split, and one click makes it (a
    logged team step)."""
    s, q = themed_server.server, themed_server.question_id
    trouble: list[str] = []
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        a, b = biggest(await sync(team, q))
        moved = await op(
            team, "move", q, comments=b["members"], to=a["key"], version=a["version"], name="Di"
        )
        assert moved["type"] == "ack", moved
        now = next(t for t in (await sync(team, q))["themes"] if t["key"] == a["key"])
        offer = now["split_offer"]
        assert offer is not None and 0 < len(offer["comments"]) < now["size"], now
        page = await open_team(ctx, s, "Di", trouble)
        row = theme_row(page, a["key"])
        await expect(row.locator(".badge.split-offer")).to_be_visible(timeout=WAIT)
        await row.locator("button.open").click()
        count = f"{len(offer['comments'])} comments"
        await expect(page.locator("#split-count")).to_have_text(count, timeout=WAIT)
        await expect(page.locator("#split-example")).to_have_text(offer["example"])
        await page.screenshot(path=str(tmp_path / "team-split-offer-1440x900.png"))
        await page.locator("#take-split").click()
        await expect(page.locator("#status")).to_have_text(
            f"Split {count} off into a new theme.", timeout=WAIT
        )
        await expect(row.locator(".t-size .n")).to_have_text(
            str(now["size"] - len(offer["comments"])), timeout=WAIT
        )
        after = await sync(team, q)
        parted = {frozenset(t["members"]) for t in after["themes"]}
        assert frozenset(offer["comments"]) in parted
        # What is left may hold another group (a catch-all of several), never that one.
        left = next(t for t in after["themes"] if t["key"] == a["key"])["split_offer"]
        assert left is None or set(left["comments"]) != set(offer["comments"])
        await page.screenshot(path=str(tmp_path / "team-split-taken-1440x900.png"))
        # Other tests read the state they act on; the two themes parted again
        # (an undo of the move is refused once a step came after it).
        version = next(t for t in after["themes"] if t["key"] == a["key"])["version"]
        undone = await op(team, "undo", q, name="Di")
        assert undone["type"] == "ack", undone
        back = next(t for t in (await sync(team, q))["themes"] if t["key"] == a["key"])
        parted_again = await op(
            team, "split", q, theme=a["key"], comments=b["members"], version=back["version"]
        )
        assert parted_again["type"] == "ack" and back["version"] > version, parted_again
    assert trouble == []
    await ctx.close()
