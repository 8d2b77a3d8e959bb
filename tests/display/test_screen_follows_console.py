"""The producer's console drives the big screen: a poll opened in the console is on
the screen by itself (the delay is printed with its ratio to the 1 s target; the
assertion allows a shared machine's stalls: timing targets belong to benches), its
result when it closes, and a pinned screen stays put (real server, both pages in
headless Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

# Set on the console when the button is pressed, on the screen when the prompt shows.
# The console redraws its poll list as the room changes: a listener on the button
# itself was lost with the old button (a CI run read no click time), so the document
# listens, in the capture phase, for a click on whatever button matches now.
MARK_CLICK = """sel => document.addEventListener("click", event => {
  if (!window.clickedAt && event.target.closest(sel)) window.clickedAt = Date.now();
}, {capture: true})"""
MARK_SHOWN = """prompt => {
  const node = document.getElementById("poll-prompt");
  const seen = () => document.body.dataset.view === "poll" && node.textContent === prompt;
  new MutationObserver(() => { if (seen() && !window.shownAt) window.shownAt = Date.now(); })
    .observe(document.body,
             {subtree: true, childList: true, characterData: true, attributes: true});
}"""


VIEWS_SEEN = """() => {
  window.viewsSeen = [];
  let last = document.body.dataset.view;
  new MutationObserver(() => {
    const now = document.body.dataset.view;
    if (now !== last) window.viewsSeen.push(last = now);
  })
    .observe(document.body, {attributes: true, attributeFilter: ["data-view"]});
}"""


async def pages(s: LiveServer, browser: Any) -> tuple[Page, Page, list[str]]:
    errors: list[str] = []
    console = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    screen = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    for page in (console, screen):
        page.on("pageerror", lambda e: errors.append(str(e)))
    await screen.goto(f"{s.base}/screen?token={s.tokens.display}")
    await screen.wait_for_selector("body[data-view]")
    await console.goto(f"{s.base}/producer?token={s.tokens.producer}")
    await expect(console.locator("#conn")).to_have_attribute("data-state", "connected")
    return console, screen, errors


async def test_a_poll_opened_in_the_console_is_on_the_screen_by_itself(
    live_server: LiveServer, browser: Any
) -> None:
    console, screen, errors = await pages(live_server, browser)
    await console.get_by_role("button", name="Join QR code").click()
    await expect(screen.locator("body")).to_have_attribute("data-view", "join")
    row = console.locator("#polls li").nth(1)
    prompt = await row.locator(".poll-prompt").text_content()
    poll_id = await row.get_attribute("data-poll")
    await console.evaluate(MARK_CLICK, f'#polls li[data-poll="{poll_id}"] button.open')
    await screen.evaluate(MARK_SHOWN, prompt)
    await row.get_by_role("button", name=f"Open poll: {prompt}").click()
    await screen.wait_for_function("() => window.shownAt !== undefined", timeout=10_000)
    delay = await screen.evaluate("() => window.shownAt") - await console.evaluate(
        "() => window.clickedAt"
    )
    print(f"poll opened → on the screen in {delay} ms (target 1000 ms, ratio {delay / 1000:.2f})")
    assert 0 <= delay <= 10_000  # shown without any press on the screen
    # Closing it keeps it up, now as a result.
    await row.get_by_role("button", name=f"Close poll: {prompt}").click()
    await expect(screen.locator("#poll-state")).to_have_attribute("data-state", "closed")
    await expect(screen.locator("#poll-prompt")).to_have_text(prompt or "")
    await expect(console.locator("#screen-mode")).to_have_text(f"Poll results: {prompt}")
    assert errors == []


async def test_a_pinned_screen_stays_put_when_a_poll_opens(
    live_server: LiveServer, browser: Any
) -> None:
    console, screen, errors = await pages(live_server, browser)
    await console.get_by_role("button", name="Who is in the room").click()
    await expect(screen.locator("body")).to_have_attribute("data-view", "demographics")
    await console.get_by_label("Pinned: only these buttons change the screens").check()
    await expect(console.locator("#status")).to_contain_text("pinned")
    await screen.evaluate(VIEWS_SEEN)
    row = console.locator("#polls li").first
    await row.locator("button.open").click()
    await expect(row).to_have_attribute("data-status", "open")
    await expect(console.locator("#screen-mode")).to_have_text("Who is in the room")
    # Whatever the screen was sent after the poll opened arrived before this button's change.
    await console.get_by_role("button", name="Join QR code").click()
    await expect(screen.locator("body")).to_have_attribute("data-view", "join")
    assert await screen.evaluate("() => window.viewsSeen") == ["join"]
    # Back to auto: the next poll opened comes up by itself.
    await console.get_by_label("Auto: the screens show it").check()
    second = console.locator("#polls li").nth(1)
    await second.locator("button.open").click()
    await expect(screen.locator("body")).to_have_attribute("data-view", "poll")
    await expect(screen.locator("#poll-prompt")).to_have_text(
        await second.locator(".poll-prompt").text_content() or ""
    )
    assert errors == []
