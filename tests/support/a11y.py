"""axe-core (vendored in tests/assets) run in headless Chromium, and what the
accessibility tests do on the live server: open a poll, send as the producer, tab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.support.example import new_id
from tests.support.live import recv_until
from tests.support.server import LiveServer

AXE = Path(__file__).resolve().parent.parent / "assets" / "axe.min.js"
BLOCKING = {"serious", "critical"}


async def axe_violations(page: Any, state: str) -> list[str]:
    """Runs axe on the page as it is now; returns the serious/critical violations, readable.
    Waits for transitions and fade-ins to end first: mid-fade text has no real contrast."""
    await page.wait_for_function("() => document.getAnimations().length === 0", timeout=10_000)
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                "wcag22aa", "best-practice"]},
                rules: {"target-size": {enabled: true}},  // WCAG 2.5.8, off by default
                resultTypes: ["violations"],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary)}));
        }"""
    )
    found = []
    for v in result:
        nodes = "\n      ".join(v["nodes"][:5])
        line = f"[{state}] {v['impact']} {v['id']}: {v['help']}\n      {nodes}"
        print(line)  # shown with -s or on failure; moderate/minor ones are not fatal
        if v["impact"] in BLOCKING:
            found.append(line)
    return found


async def producer_send(s: LiveServer, msg: dict[str, Any]) -> dict[str, Any]:
    """Sends one producer write and waits for its ack; returns the event from hello."""
    async with connect(s.ws_url("producer", s.tokens.producer)) as producer:
        event: dict[str, Any] = (await recv_until(producer, "hello"))["event"]
        if msg:
            await producer.send(json.dumps({"id": new_id(), **msg}))
            await recv_until(producer, "ack")
        return event


async def open_poll(s: LiveServer, key: str) -> dict[str, Any]:
    event = await producer_send(s, {})
    poll: dict[str, Any] = next(p for p in event["polls"] if p["key"] == key)
    await producer_send(s, {"type": "open_poll", "poll_id": poll["id"]})
    return poll


async def tab_to(page: Any, target: Any, limit: int = 40) -> None:
    """Presses Tab until `target` has the focus."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")
