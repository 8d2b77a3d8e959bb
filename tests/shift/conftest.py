"""Fixtures for the before/after and evaluation tests."""

from tests.browser.conftest import browser  # noqa: F401  (the Chromium fixture, for this folder)
