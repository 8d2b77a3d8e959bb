"""Headless Chromium (Debian's) driven by Playwright; a test fails if it is absent, unless
TOWNHALL_SKIP_BROWSER=1 left the browser tests out (tests/skip_policy.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.skip_policy import missing

CHROMIUM = os.environ.get("TOWNHALL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not shutil.which(CHROMIUM):
        missing("browser", f"Chromium not found at {CHROMIUM} (`make test` installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


async def joined_phone(browser: Any, base: str, code: str) -> tuple[Any, Any, list[str]]:
    """A small phone that joined with the event code and skipped every demographic
    question; returns its context, page and the page errors seen so far."""
    ctx = await browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    phone = await ctx.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    await phone.goto(f"{base}/j/{code}")
    await phone.get_by_role("button", name="Join").click()
    await phone.get_by_role("button", name="Continue").click()
    return ctx, phone, errors
