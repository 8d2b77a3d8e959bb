"""The headless Chromium fixture of the browser tests, for the phone budget test."""

from tests.browser.conftest import browser

__all__ = ["browser"]
