"""The event file: the example validates; mistakes point at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.event.eventfile import EventFileError, load_event_file, parse_event_text
from tests.support.example import EVENT_FILE

TEXT = EVENT_FILE.read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def test_example_event_is_valid() -> None:
    spec = load_event_file(EVENT_FILE)
    assert spec.table_count == 16
    assert {p.kind for p in spec.polls} == {
        "single",
        "multi",
        "ranking",
        "scale",
        "allocation",
        "projects",
        "tradeoff",
    }
    assert all(abs(sum(o.census or 0 for o in d.options) - 1) < 0.02 for d in spec.demographics)


def test_unknown_poll_kind_points_at_its_line() -> None:
    bad = TEXT.replace('kind = "ranking"', 'kind = "rank"')
    with pytest.raises(EventFileError) as exc:
        parse_event_text(bad, Path("e.toml"))
    line, msg = exc.value.problems[0]
    assert line == line_of(bad, 'kind = "rank"')
    assert "polls.2.kind" in msg and "'ranking'" in msg
    assert str(exc.value).startswith(f"e.toml:{line}:")


def test_census_shares_must_add_up() -> None:
    bad = TEXT.replace("census = 0.24", "census = 0.54")
    with pytest.raises(EventFileError) as exc:
        parse_event_text(bad)
    assert "add up to 1.300" in exc.value.problems[0][1]


def test_toml_syntax_error_has_a_line() -> None:
    bad = TEXT.replace('en = "What we value about Riverton"', 'en = "What we value')
    with pytest.raises(EventFileError) as exc:
        parse_event_text(bad)
    assert exc.value.problems[0][0] == line_of(TEXT, "What we value about Riverton")


def test_multi_poll_needs_max_choices_and_poll_round_must_exist() -> None:
    bad = TEXT.replace("max_choices = 3\n", "").replace('round = "values"', 'round = "nope"')
    with pytest.raises(EventFileError) as exc:
        parse_event_text(bad)
    messages = " ".join(m for _, m in exc.value.problems)
    assert "max_choices" in messages or "nope" in messages


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="cannot read"):
        load_event_file(tmp_path / "missing.toml")
