"""The skip policy plugin (tests/skip_policy.py), run on small suites with pytester."""

from __future__ import annotations

import pytest

from tests.skip_policy import OPT_OUTS
from tests.support.example import ROOT

SUITE = """
import pytest
from tests.skip_policy import missing

@pytest.fixture
def browser():
    raise AssertionError("the browser fixture was set up for a test that was left out")

def test_plain():
    pass

def test_skips_for_no_reason():
    pytest.skip("the data file is not there")

@pytest.mark.skipif(True, reason="not on this machine")
def test_skipif():
    pass

@pytest.mark.browser
def test_marked_browser():
    pytest.skip("no Chromium")

def test_uses_the_browser_fixture(browser):
    pass

@pytest.mark.postgres
def test_marked_postgres():
    missing("postgres", "PostgreSQL not reachable at 127.0.0.1:5432")
"""


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CI", *OPT_OUTS.values()):
        monkeypatch.delenv(var, raising=False)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest("-p", "no:asyncio", "-p", "tests.skip_policy", "-rA", *args)


def test_a_skip_without_opt_out_fails_the_run_and_says_why(pytester: pytest.Pytester) -> None:
    result = run(pytester, "-k", "plain or for_no_reason or skipif")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_skipif*",
            "skipped without an opt-out, which counts as a failure: not on this machine",
            "*_ test_skips_for_no_reason _*",
            "skipped without an opt-out, which counts as a failure: the data file is not there",
            "  at test_suite.py:12",
        ]
    )


def test_a_missing_browser_or_service_fails_naming_the_opt_out(pytester: pytest.Pytester) -> None:
    result = run(pytester, "-k", "marked")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*PostgreSQL not reachable*; or set TOWNHALL_SKIP_POSTGRES=1*"])


def test_the_browser_opt_out_leaves_out_and_lists_exactly_the_browser_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWNHALL_SKIP_BROWSER", "1")
    result = run(pytester, "-k", "browser or plain")
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*= left out by opt-out: 2 tests =*",
            "TOWNHALL_SKIP_BROWSER=1 (marked browser): 2",
            "  test_suite.py::test_marked_browser",
            "  test_suite.py::test_uses_the_browser_fixture",
        ]
    )
    result.stdout.no_fnmatch_line("*the browser fixture was set up*")
    result.stdout.fnmatch_lines(["SKIPPED [[]1] test_suite.py:*: TOWNHALL_SKIP_BROWSER=1 (marked*"])


def test_the_opt_out_list_survives_parallel_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make test`` runs the suite on pytest-xdist workers: the list is printed by
    the controller, which ran none of the tests itself."""
    monkeypatch.setenv("TOWNHALL_SKIP_BROWSER", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess imports tests.skip_policy
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(
        "-p", "no:asyncio", "-p", "tests.skip_policy", "-n", "2", "-k", "browser or plain"
    )
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*= left out by opt-out: 2 tests =*",
            "TOWNHALL_SKIP_BROWSER=1 (marked browser): 2",
            "  test_suite.py::test_marked_browser",
            "  test_suite.py::test_uses_the_browser_fixture",
        ]
    )


def test_an_opt_out_covers_only_its_own_mark(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWNHALL_SKIP_POSTGRES", "1")
    result = run(pytester, "-k", "marked")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*= left out by opt-out: 1 tests =*", "  *::test_marked_postgres"])


def test_ci_refuses_even_an_opted_out_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWNHALL_SKIP_BROWSER", "1")
    monkeypatch.setenv("CI", "true")
    result = run(pytester, "-k", "browser")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*CI=true runs every test, opt-outs included; left out: *"])
    result.stdout.no_fnmatch_line("*left out by opt-out*")


def test_a_module_level_skip_fails_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_gone="import pytest\npytest.importorskip('no_such_module_here')\n"
        "def test_never():\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:asyncio", "-p", "tests.skip_policy")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*a whole module skipped, which counts as a failure*"])


def test_an_expected_failure_is_not_a_skip(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="import pytest\n@pytest.mark.xfail(strict=True)\ndef test_x():\n    assert False\n"
    )
    pytester.runpytest("-p", "no:asyncio", "-p", "tests.skip_policy").assert_outcomes(xfailed=1)
