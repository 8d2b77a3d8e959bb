"""pytest plugin: a skipped test fails the run unless an explicit opt-out left it out.

A green run should mean the whole suite ran. A test that skips because something
is missing (Chromium, a service, a data file) fails instead, with the reason.
Only these opt-outs, set to ``1`` in the environment, leave tests out:

- ``TOWNHALL_SKIP_BROWSER``: tests marked ``browser`` (headless Chromium, the PDF)
- ``TOWNHALL_SKIP_POSTGRES``: tests marked ``postgres``
- ``TOWNHALL_SKIP_REDIS``: tests marked ``redis``

The run then ends with the list of tests left out and why. Under ``CI=true`` even
an opted-out test fails: CI runs everything. Tests using the ``browser``,
``pg_url`` or ``redis_url`` fixtures get the matching mark without asking.
Loaded by ``tests/conftest.py``; its own tests are in ``tests/test_skip_policy.py``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import NoReturn

import pytest
from _pytest.outcomes import Skipped  # what pytest.skip raises (pytest.skip.Exception)

OPT_OUTS = {
    "browser": "TOWNHALL_SKIP_BROWSER",
    "postgres": "TOWNHALL_SKIP_POSTGRES",
    "redis": "TOWNHALL_SKIP_REDIS",
}
MARKS = {
    "browser": "drives headless Chromium (opt-out: TOWNHALL_SKIP_BROWSER=1)",
    "postgres": "needs PostgreSQL on 127.0.0.1:5432 (opt-out: TOWNHALL_SKIP_POSTGRES=1)",
    "redis": "needs Redis on 127.0.0.1:6379 (opt-out: TOWNHALL_SKIP_REDIS=1)",
}
FIXTURE_MARKS = {"browser": "browser", "pg_url": "postgres", "redis_url": "redis"}
LEFT_OUT = pytest.StashKey[list[tuple[str, str]]]()
LEFT_OUT_PROPERTY = "townhall-left-out"
_configs: list[pytest.Config] = []  # the running sessions' configs (logreport has none)


class OptedOut(Skipped):
    """The skip an opt-out asked for: the only kind the policy lets through."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def opted_out(mark: str) -> bool:
    return os.environ.get(OPT_OUTS[mark], "").strip() == "1"


def missing(mark: str, reason: str) -> NoReturn:
    """Fail a test whose browser or service is absent, saying how to get it or leave it out."""
    pytest.fail(f"{reason}; or set {OPT_OUTS[mark]}=1 to leave these tests out", pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    for mark, text in MARKS.items():
        config.addinivalue_line("markers", f"{mark}: {text}")
    config.stash[LEFT_OUT] = []
    _configs.append(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _configs:
        _configs.remove(config)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, reason in report.user_properties:
        if name == LEFT_OUT_PROPERTY and _configs:
            _configs[-1].stash[LEFT_OUT].append((report.nodeid, str(reason)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, mark in FIXTURE_MARKS.items():
            if fixture in names and item.get_closest_marker(mark) is None:
                item.add_marker(mark)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark, var in OPT_OUTS.items():
        if item.get_closest_marker(mark) is not None and opted_out(mark):
            raise OptedOut(f"{var}=1 (marked {mark})", _use_item_location=True)


def _reason(rep: pytest.TestReport | pytest.CollectReport) -> str:
    text = str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    for name in ("Skipped", f"{OptedOut.__module__}.{OptedOut.__qualname__}"):
        text = text.removeprefix(f"{name}: ")
    return text


def _where(rep: pytest.TestReport, root: Path) -> str:
    if isinstance(rep.longrepr, tuple):
        return f"{os.path.relpath(rep.longrepr[0], root)}:{rep.longrepr[1]}"
    return rep.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    rep = yield
    if not rep.skipped or hasattr(rep, "wasxfail"):
        return rep
    reason = _reason(rep)
    if call.excinfo is not None and call.excinfo.errisinstance(OptedOut) and not in_ci():
        # Carried on the report, so that with pytest-xdist the run's controller (which
        # prints the summary) hears of it, not only the worker that ran the test.
        rep.user_properties.append((LEFT_OUT_PROPERTY, reason))
        if isinstance(rep.longrepr, tuple):  # -rs shows the reason, not the class name
            rep.longrepr = (rep.longrepr[0], rep.longrepr[1], reason)
        return rep
    rep.outcome = "failed"
    if call.excinfo is not None and call.excinfo.errisinstance(OptedOut):
        rep.longrepr = f"CI=true runs every test, opt-outs included; left out: {reason}"
    else:
        rep.longrepr = (
            f"skipped without an opt-out, which counts as a failure: {reason}\n"
            f"  at {_where(rep, item.config.rootpath)}\n"
            f"(fix the cause; only {', '.join(v + '=1' for v in OPT_OUTS.values())} may leave "
            "tests out, and not under CI=true)"
        )
    return rep


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    rep = yield
    if rep.skipped:
        rep.outcome = "failed"
        rep.longrepr = f"a whole module skipped, which counts as a failure: {_reason(rep)}"
    return rep


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    left_out = terminalreporter.config.stash.get(LEFT_OUT, [])
    if not left_out:
        return
    terminalreporter.section(f"left out by opt-out: {len(left_out)} tests", sep="=", yellow=True)
    for reason in sorted({r for _, r in left_out}):
        ids = sorted(n for n, r in left_out if r == reason)
        terminalreporter.write_line(f"{reason}: {len(ids)}")
        for nodeid in ids:
            terminalreporter.write_line(f"  {nodeid}")
