"""The staff pages — theme-team workbench, producer console, facilitator table page —
have no serious or critical axe-core violation, and their documented keyboard
shortcuts work from the keyboard alone and stay quiet while someone types."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from websockets.asyncio.client import connect

from tests.support.a11y import axe_violations, tab_to
from tests.support.live import recv_until
from tests.support.server import LiveServer
from tests.support.workbench import Themed, op, sync

pytestmark = pytest.mark.browser
WAIT = 20_000  # ms, for every wait on the page: a shared two-core machine


async def staff_page(browser: Any, url: str, errors: list[str], *, axe: bool = False) -> Any:
    """A desktop page; axe needs bypass_csp (our script-src 'self' blocks it), the
    keyboard tests keep the real CSP."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=axe)
    page = await ctx.new_page()
    page.set_default_timeout(WAIT)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    return page


async def team_page(s: LiveServer, browser: Any, errors: list[str], axe: bool = False) -> Any:
    page = await staff_page(browser, f"{s.base}/team?token={s.tokens.team}", errors, axe=axe)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
    await expect(page.locator("#themes li.trow").nth(2)).to_be_visible(timeout=WAIT)
    await expect(page.locator("#comments li.crow").first).to_be_visible(timeout=WAIT)
    return page


async def focused(page: Any, js: str = "el => el.closest('li').dataset.key") -> Any:
    """Something about the focused element (by default the key of its theme row)."""
    return await page.evaluate(f"() => ({js})(document.activeElement)")


async def theme_keys(page: Any) -> list[str]:
    keys: list[str] = await page.locator("#themes li.trow").evaluate_all(
        "els => els.map(e => e.dataset.key)"
    )
    return keys


async def server_themes(s: LiveServer, q: int) -> dict[str, dict[str, Any]]:
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        await recv_until(team, "hello")
        return {t["key"]: t for t in (await sync(team, q))["themes"]}


async def server_comment(s: LiveServer, text: str) -> dict[str, Any] | None:
    async with connect(s.ws_url("team", s.tokens.team)) as team:
        hello = await recv_until(team, "hello")
    return next((c for c in hello["comments"] if c["text"] == text), None)


async def test_staff_pages_have_no_serious_axe_violations(
    themed_server: Themed, browser: Any
) -> None:
    s = themed_server.server
    errors: list[str] = []
    found: list[str] = []

    team = await team_page(s, browser, errors, axe=True)
    found += await axe_violations(team, "team with themes")
    await team.locator("#comments li.crow input.sel").first.focus()  # the row's actions show
    await team.keyboard.press("Shift+ArrowDown")  # two comments selected
    found += await axe_violations(team, "team, comments selected")
    await team.keyboard.press("t")
    await expect(team.locator("#move-dialog")).to_be_visible(timeout=WAIT)
    found += await axe_violations(team, "team move dialog")
    await team.keyboard.press("Escape")
    await team.keyboard.press("d")
    await expect(team.locator("#discard-dialog")).to_be_visible(timeout=WAIT)
    found += await axe_violations(team, "team discard dialog")
    await team.keyboard.press("Escape")
    await team.locator("#publish").click()
    await expect(team.locator("#publish-dialog")).to_be_visible(timeout=WAIT)
    found += await axe_violations(team, "team publish dialog")
    await team.keyboard.press("Escape")
    await team.locator("#filter").fill("bus")
    await team.locator('li.trow[data-key="_all"] button.open').click()
    found += await axe_violations(team, "team, all comments searched")
    await team.locator("#shortcuts-button").click()
    await expect(team.locator("#shortcuts")).to_be_visible(timeout=WAIT)
    found += await axe_violations(team, "team shortcut help")

    q = themed_server.question_id
    async with connect(s.ws_url("team", s.tokens.team)) as ws:  # one theme on the screens
        await recv_until(ws, "hello")
        th = max((await sync(ws, q))["themes"], key=lambda t: t["size"])
        await op(ws, "publish", q, themes={th["key"]: th["version"]})
    for token, state in ((s.tokens.display, "display"), (s.tokens.team, "team")):
        trace = await staff_page(browser, f"{s.base}/trace?token={token}", errors, axe=True)
        await expect(trace.locator(".trace-theme").first).to_be_visible(timeout=WAIT)
        found += await axe_violations(trace, f"trace for the {state} link")
        await trace.locator("#trace-filter").fill("bus")
        found += await axe_violations(trace, f"trace for the {state} link, searched")
        # Anyone with the screen's link may open it on a phone: nothing off its side.
        await trace.set_viewport_size({"width": 390, "height": 844})
        await trace.locator("#trace-filter").fill("")
        wide = await trace.evaluate("document.documentElement.scrollWidth")
        if wide > 390:
            found.append(f"trace for the {state} link is {wide} px wide on a 390 px phone")

    producer = await staff_page(
        browser, f"{s.base}/producer?token={s.tokens.producer}", errors, axe=True
    )
    await expect(producer.locator("#conn")).to_have_attribute(
        "data-state", "connected", timeout=WAIT
    )
    await expect(producer.locator("#polls li").first).to_be_visible(timeout=WAIT)
    found += await axe_violations(producer, "producer")

    table = await staff_page(browser, f"{s.base}/t/{s.tokens.tables[7]}", errors, axe=True)
    await expect(table.locator("#status")).to_have_text("● connected — all sent", timeout=WAIT)
    found += await axe_violations(table, "table")
    await table.get_by_label("The table's comment").fill("More buses after 10 pm")
    await table.get_by_role("button", name="Send", exact=True).click()
    await expect(table.locator("#comments li .state")).to_have_text(["sent ✓"], timeout=WAIT)
    found += await axe_violations(table, "table with a comment")
    await table.locator("#shortcuts-button").click()
    await expect(table.locator("#shortcuts")).to_be_visible(timeout=WAIT)
    found += await axe_violations(table, "table shortcut help")
    assert not found, "\n".join(found)
    assert errors == []


async def test_workbench_shortcuts_open_rename_undo_publish_merge_and_move(
    themed_server: Themed, browser: Any
) -> None:
    s, q = themed_server.server, themed_server.question_id
    errors: list[str] = []
    async with connect(s.ws_url("team", s.tokens.team)) as ws:  # nothing on the screens
        await recv_until(ws, "hello")
        await op(ws, "publish", q, themes={})
    page = await team_page(s, browser, errors)
    status = page.locator("#status")
    await tab_to(page, page.get_by_label("Your name"))
    await page.keyboard.type("Kim")
    await tab_to(page, page.locator("#retheme"))  # out of the fields: single keys act

    await page.keyboard.press("?")
    help_ = page.locator("#shortcuts")
    await expect(help_).to_be_visible(timeout=WAIT)
    assert await focused(page, "el => !!el.closest('#shortcuts')")
    await page.keyboard.press("Escape")
    await expect(help_).to_be_hidden(timeout=WAIT)
    await expect(page.locator("#retheme")).to_be_focused(timeout=WAIT)  # back where it was

    # j / k and the arrows open the next or previous theme; the pane follows.
    keys = await theme_keys(page)
    for key, want in (("j", 1), ("j", 2), ("ArrowUp", 1), ("ArrowDown", 2), ("k", 1), ("k", 0)):
        await page.keyboard.press(key)
        assert await focused(page) == keys[want], f"after {key}"
        # The pane shows the theme opened (its key: a re-cluster may relabel it meanwhile).
        await expect(page.locator("#comments")).to_have_attribute(
            "data-bucket", keys[want], timeout=WAIT
        )
    await page.keyboard.press("n")
    await expect(page.locator("#pane-label")).to_have_text("Not in a theme yet", timeout=WAIT)
    await page.keyboard.press("j")  # back to the first theme
    first = keys[0]
    assert await focused(page) == first

    # r: rename the open theme; the letters typed are text, not shortcuts.
    before = (await server_themes(s, q))[first]["label"]
    await page.keyboard.press("r")
    assert await focused(page, "el => el.id") == "rename-input"
    typed = "Express buses, parks and maps / just ask?"
    await page.keyboard.type(typed)
    await expect(page.locator("#rename-input")).to_have_value(typed, timeout=WAIT)
    await expect(help_).to_be_hidden(timeout=WAIT)
    await expect(status).to_have_text("", timeout=WAIT)  # no merge, publish, undo, split
    await page.keyboard.press("Enter")
    await expect(status).to_have_text("Renamed.", timeout=WAIT)
    row = page.locator(f'#themes li.trow[data-key="{first}"]')
    await expect(row.locator(".t-label")).to_have_text(typed, timeout=WAIT)
    assert (await server_themes(s, q))[first]["label"] == typed

    # Esc leaves the field for its theme; u undoes the rename.
    await page.keyboard.press("Escape")
    assert await focused(page) == first
    await page.keyboard.press("u")
    await expect(status).to_have_text("Your last step was undone.", timeout=WAIT)
    await expect(row.locator(".t-label")).to_have_text(before, timeout=WAIT)

    # p with nothing selected asks before publishing everything; Esc publishes nothing.
    publish = page.locator("#publish-dialog")
    await page.keyboard.press("p")
    await expect(publish.locator("#publish-h")).to_contain_text(
        "No theme is selected", timeout=WAIT
    )
    await page.keyboard.press("Escape")
    await expect(publish).to_be_hidden(timeout=WAIT)
    assert not any(t["published"] for t in (await server_themes(s, q)).values())
    # x then p says exactly what goes to the screens; Enter confirms.
    await page.keyboard.press("x")
    await expect(row.locator("input.pick")).to_be_checked(timeout=WAIT)
    await page.keyboard.press("p")
    await expect(publish.locator("#publish-h")).to_have_text("Publish 1 theme to the screens?")
    await expect(publish.locator("#publish-list li.adding .p-label")).to_have_text([before])
    await page.keyboard.press("Enter")
    await expect(status).to_have_text(
        "Published 1 theme: the screens now show 1 theme for this question.", timeout=WAIT
    )
    await expect(row.locator(".badge.on-screens")).to_be_visible(timeout=WAIT)
    assert (await server_themes(s, q))[first]["published"]
    await expect(row.locator("input.pick")).not_to_be_checked(timeout=WAIT)

    # x on the next theme, k back, m merges it into the open one; Ctrl+Z undoes.
    other = keys[1]
    sizes = await server_themes(s, q)
    await page.keyboard.press("j")
    await page.keyboard.press("x")
    await page.keyboard.press("k")
    assert await focused(page) == first
    await page.keyboard.press("m")
    await expect(status).to_contain_text("Merged", timeout=WAIT)
    await expect(page.locator(f'#themes li.trow[data-key="{other}"]')).to_have_count(
        0, timeout=WAIT
    )
    merged = await server_themes(s, q)
    assert other not in merged
    assert merged[first]["size"] == sizes[first]["size"] + sizes[other]["size"]
    await page.keyboard.press("Control+z")
    await expect(status).to_have_text("Your last step was undone.", timeout=WAIT)
    await expect(page.locator(f'#themes li.trow[data-key="{other}"]')).to_have_count(
        1, timeout=WAIT
    )

    # Into the comments: Shift+↓ selects as it goes, t moves them to a theme found by name.
    await tab_to(page, page.locator("#comments li.crow input.sel[tabindex='0']"))
    await page.keyboard.press("Shift+ArrowDown")
    await expect(page.locator("#selection-note")).to_have_text("2 comments selected", timeout=WAIT)
    picked = await page.locator("#comments li.crow.selected").evaluate_all(
        "els => els.map(e => Number(e.dataset.id))"
    )
    target = (await server_themes(s, q))[keys[2]]
    await page.keyboard.press("t")
    await expect(page.locator("#move-dialog")).to_be_visible(timeout=WAIT)
    await page.keyboard.type(target["label"][:20])
    await page.keyboard.press("Enter")
    await expect(status).to_have_text(f"Moved 2 comments to “{target['label']}”.", timeout=WAIT)
    assert set(picked) <= set((await server_themes(s, q))[keys[2]]["members"])

    # / goes to the search field; what is typed there is a search, nothing else.
    await page.keyboard.press("/")
    assert await focused(page, "el => el.id") == "filter"
    await page.keyboard.type("mpux?")
    await expect(page.locator("#filter")).to_have_value("mpux?", timeout=WAIT)
    await expect(help_).to_be_hidden(timeout=WAIT)
    await expect(status).to_have_text(f"Moved 2 comments to “{target['label']}”.", timeout=WAIT)
    assert errors == []


async def flip_single_keys(page: Any) -> None:
    """In the open shortcut list: switch the single keys over, then close the list."""
    await tab_to(page, page.get_by_label("Single-key shortcuts on"))
    await page.keyboard.press("Space")
    await page.keyboard.press("Escape")
    await expect(page.locator("#shortcuts")).to_be_hidden(timeout=WAIT)


async def test_workbench_single_key_shortcuts_can_be_switched_off(
    themed_server: Themed, browser: Any
) -> None:
    s = themed_server.server
    errors: list[str] = []
    page = await team_page(s, browser, errors)
    help_ = page.locator("#shortcuts")
    await tab_to(page, page.get_by_role("button", name="Keyboard shortcuts"))
    await page.keyboard.press("Enter")  # the visible control for ? and F1
    await expect(help_).to_be_visible(timeout=WAIT)
    await flip_single_keys(page)
    await expect(page.locator("#shortcuts-button")).to_be_focused(timeout=WAIT)

    shown = await page.locator("#comments").get_attribute("data-bucket")
    for key in ("j", "?"):
        await page.keyboard.press(key)
    await expect(help_).to_be_hidden(timeout=WAIT)
    assert await focused(page, "el => el.id") == "shortcuts-button"  # j moved nothing
    assert await page.locator("#comments").get_attribute("data-bucket") == shown
    assert await page.evaluate("() => localStorage.getItem('townhall.team.keys')") == "off"

    await page.keyboard.press("F1")  # not a character key: stays on
    await expect(help_).to_be_visible(timeout=WAIT)
    await flip_single_keys(page)
    keys = await theme_keys(page)
    at = keys.index(await page.locator("#comments").get_attribute("data-bucket") or "")
    await page.keyboard.press("j")  # on again: to the theme after the open one
    assert await focused(page) == keys[at + 1]
    assert errors == []


async def test_table_page_shortcut_focuses_the_box_enter_sends_and_alt_s_stars(
    themed_server: Themed, browser: Any
) -> None:
    s = themed_server.server
    errors: list[str] = []
    page = await staff_page(browser, f"{s.base}/t/{s.tokens.tables[8]}", errors)
    await expect(page.locator("#status")).to_have_text("● connected — all sent", timeout=WAIT)
    help_ = page.locator("#shortcuts")

    await page.keyboard.press("Alt+n")
    assert await focused(page, "el => el.id") == "comment-text"
    text = "Keep the library open late? Shut it on Mondays?"
    await page.keyboard.type(text)  # "?" typed here is text, not the help
    await expect(help_).to_be_hidden(timeout=WAIT)
    await page.keyboard.press("Enter")
    row = page.locator("#comments li").last
    await expect(row.locator(".text")).to_have_text(text, timeout=WAIT)
    await expect(row.locator(".state")).to_have_text("sent ✓", timeout=WAIT)
    stored = await server_comment(s, text)
    assert stored is not None and not stored["star"]
    assert await focused(page, "el => el.id") == "comment-text"

    await page.keyboard.press("Alt+s")  # stars the latest comment
    await expect(row.locator(".star")).to_have_text("★", timeout=WAIT)  # no "…": the server has it
    await expect(page.locator("#key-note")).to_have_text(
        f"Comment {await row.locator('.seq').text_content()} starred.", timeout=WAIT
    )
    stored = await server_comment(s, text)
    assert stored is not None and stored["star"]

    await page.keyboard.press("F1")
    await expect(help_).to_be_visible(timeout=WAIT)
    await page.keyboard.press("Escape")
    await expect(help_).to_be_hidden(timeout=WAIT)
    await expect(page.locator("#comment-text")).to_be_focused(timeout=WAIT)
    await page.keyboard.press("Tab")  # the Send button: out of the text, ? is the help
    await page.keyboard.press("?")
    await expect(help_).to_be_visible(timeout=WAIT)
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("button", name="Send", exact=True)).to_be_focused(timeout=WAIT)
    assert errors == []


async def producer_event(s: LiveServer) -> dict[str, Any]:
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event: dict[str, Any] = (await recv_until(producer, "hello"))["event"]
    return event


async def test_producer_console_works_from_the_keyboard_and_keeps_the_focus(
    themed_server: Themed, browser: Any
) -> None:
    """Every change re-draws the agenda and the polls; the focus must stay on the
    control just pressed, with a visible ring, and each button says what it acts on."""
    s = themed_server.server
    errors: list[str] = []
    page = await staff_page(browser, f"{s.base}/producer?token={s.tokens.producer}", errors)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)

    first = page.locator("#polls li").first
    poll_id = int(await first.get_attribute("data-poll") or 0)
    toggle = page.locator(f'#polls li[data-poll="{poll_id}"] button').first
    await tab_to(page, toggle, limit=100)
    ring = await focused(page, "el => getComputedStyle(el).outlineStyle")
    assert ring != "none"
    prompt = next(p for p in (await producer_event(s))["polls"] if p["id"] == poll_id)["prompt"]
    await expect(toggle).to_have_accessible_name(f"Open poll: {prompt}", timeout=WAIT)
    await page.keyboard.press("Enter")
    await expect(toggle).to_have_accessible_name(f"Close poll: {prompt}", timeout=WAIT)
    await expect(toggle).to_be_focused(timeout=WAIT)
    assert (
        next(p for p in (await producer_event(s))["polls"] if p["id"] == poll_id)["status"]
        == "open"
    )
    await page.keyboard.press("Enter")
    await expect(first).to_have_attribute("data-status", "closed", timeout=WAIT)
    await expect(toggle).to_be_focused(timeout=WAIT)

    # Make another question current, then the first again: the pressed button keeps the focus.
    was = (await producer_event(s))["current_question"]["id"]
    buttons = page.locator("#agenda button")
    other = (
        buttons.nth(1)
        if await buttons.nth(0).get_attribute("aria-disabled") == "true"
        else buttons.nth(0)
    )
    await tab_to(page, other, limit=100)
    await page.keyboard.press("Enter")
    await expect(other).to_have_attribute("aria-disabled", "true", timeout=WAIT)
    await expect(other).to_be_focused(timeout=WAIT)
    assert (await producer_event(s))["current_question"]["id"] != was
    back = page.locator("#agenda button[aria-disabled=false]").first
    await tab_to(page, back, limit=100)
    await page.keyboard.press("Enter")
    await expect(page.locator("#status")).to_have_text(
        "Question sent to every table.", timeout=WAIT
    )
    await expect(page.locator("#agenda button[aria-disabled=true]")).to_be_focused(timeout=WAIT)
    assert (await producer_event(s))["current_question"]["id"] == was

    # The screen buttons say which one is on; opening the survey hands the focus to Close.
    themes = page.get_by_role("button", name="Themes", exact=True)
    await tab_to(page, themes, limit=100)
    await page.keyboard.press("Enter")
    await expect(themes).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    assert (await producer_event(s))["screen_mode"] == "themes"
    await tab_to(page, page.locator("#evaluation-open"), limit=100)
    await page.keyboard.press("Enter")
    await expect(page.locator("#evaluation-status")).to_have_text("open", timeout=WAIT)
    await expect(page.locator("#evaluation-close")).to_be_focused(timeout=WAIT)
    await page.keyboard.press("Enter")
    await expect(page.locator("#evaluation-status")).to_have_text("closed", timeout=WAIT)
    await expect(page.locator("#evaluation-open")).to_be_focused(timeout=WAIT)
    assert errors == []
