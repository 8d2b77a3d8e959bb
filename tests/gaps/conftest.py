"""The headless Chromium fixture of the browser tests, shared with these tests."""

from tests.browser.conftest import browser

__all__ = ["browser"]
