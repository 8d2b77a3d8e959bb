"""The per-table check of the theme team's synthesis, and the survey's event-file section."""

from __future__ import annotations

import pytest

from server.core.evaluation import Answer, summarise
from server.event.eventfile import EvaluationSpec, EventFileError, parse_event_text
from tests.support.example import EVENT_FILE

QUESTIONS = {"fair-chance": "I had a fair chance to speak", "themes": "The themes reflected"}


def answers() -> list[Answer]:
    rows: list[Answer] = []
    pid = 0

    def add(table: int | None, *values: int) -> None:
        nonlocal pid
        for v in values:
            pid += 1
            rows.append(Answer(pid, "themes", v, table))
            rows.append(Answer(pid, "fair-chance", 5, table))  # never flags anything

    add(1, 2, 2, 3)  # mean 7/3 = 2.33 <= 2.5 with 3 answers: flagged
    add(2, 1, 2)  # only 2 answers: mean hidden, not flagged however low
    add(3, 3, 3, 2)  # mean 8/3 = 2.67: not flagged
    add(4, 2, 3, 2, 3)  # mean exactly 2.5: flagged (the rule is <=)
    add(None, 1)  # no table given: counted apart
    return rows


def test_low_tables_are_flagged_and_small_tables_stay_hidden() -> None:
    s = summarise(QUESTIONS, answers(), synthesis_key="themes", flag_mean=2.5, min_answers=3)
    by_table = {t.table: t for t in s.tables}
    assert [t.table for t in s.flagged] == [1, 4]
    assert by_table[1].mean == pytest.approx(7 / 3)
    assert by_table[2].mean is None and by_table[2].answered == 2 and not by_table[2].flagged
    assert not by_table[3].flagged
    assert s.no_table == 1 and s.respondents == 13
    themes = s.questions[1]
    # 13 answers: 1,2,2,2,2,2,3,3,3,3,3,1 ... mean = (2+2+3 + 1+2 + 3+3+2 + 2+3+2+3 + 1)/13
    assert themes.mean == pytest.approx(29 / 13)
    assert themes.counts == (2, 6, 5, 0, 0)  # 13 >= small_cell 10: distribution shown
    small = summarise(QUESTIONS, answers()[:6], synthesis_key="themes", small_cell=10)
    assert small.questions[0].counts is None  # 3 answers: only the mean
    assert s.to_dict()["synthesis"]["flagged"] == [1, 4]


def test_event_file_evaluation_defaults_and_errors() -> None:
    spec = EvaluationSpec()
    assert [q.key for q in spec.statements] == ["fair-chance", "themes", "trust-use"]
    assert spec.synthesis == "themes"
    custom = EvaluationSpec.model_validate({"statements": [{"key": "food", "text": "Good food"}]})
    assert custom.synthesis is None  # no themes question: no per-table check
    text = EVENT_FILE.read_text().replace(
        "flag_min_answers = 3", 'flag_min_answers = 3\nsynthesis = "nope"'
    )
    with pytest.raises(EventFileError) as err:
        parse_event_text(text)
    assert "synthesis names question 'nope'" in str(err.value)
    bad = EVENT_FILE.read_text() + '\n[[evaluation.statements]]\nkey = "x"\ntext = "no"\n'
    with pytest.raises(EventFileError) as err:
        parse_event_text(bad)
    line = len(bad.splitlines())  # the error points at the short text's own line
    assert f":{line}: evaluation.statements.0.text" in str(err.value)


def test_twice_poll_keys_must_not_collide() -> None:
    text = EVENT_FILE.read_text().replace('key = "warmup"', 'key = "trust-after"')
    with pytest.raises(EventFileError) as err:
        parse_event_text(text)
    assert "'trust-after' is used twice" in str(err.value)
