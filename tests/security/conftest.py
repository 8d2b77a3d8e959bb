"""The security tests drive pages in the same headless Chromium as tests/browser."""

from tests.browser.conftest import browser  # noqa: F401  (a fixture, used by name)
