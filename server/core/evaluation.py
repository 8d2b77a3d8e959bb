"""The end-of-meeting evaluation survey's results (its event-file section is
``server.event.eventfile.EvaluationSpec``).

Participants rate a few statements 1–5 on their phones. One of them ("The
themes reflected my table's views") checks the theme team's synthesis table by
table: a table whose mean on it is low is flagged for the producer, the theme
team and the report, because that table's words may have been lost in the
themes (the critique this project is built around). Pure functions here; the
database side is ``server.storage.evaluation_store``.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.core.errors import N_

# Interface strings (translated by server/translations/*.po), not event texts.
SCALE_LABELS = (
    N_("Strongly disagree"), N_("Disagree"), N_("Neutral"), N_("Agree"), N_("Strongly agree")
)
SYNTHESIS_KEY = "themes"


@dataclass(frozen=True)
class Answer:
    participant: int
    question_key: str
    value: int  # 1..5
    table: int | None  # the participant's table number, if they gave it


@dataclass(frozen=True)
class QuestionResult:
    key: str
    text: str
    answered: int
    mean: float | None
    counts: tuple[int, ...] | None  # per value 1..5; None when fewer than small_cell answered

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "answered": self.answered,
            "mean": self.mean,
            "counts": list(self.counts) if self.counts is not None else None,
        }


@dataclass(frozen=True)
class TableCheck:
    table: int
    answered: int
    mean: float | None  # None below min_answers: a table's few answers are never shown alone
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "answered": self.answered,
            "mean": self.mean,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class Summary:
    respondents: int
    questions: tuple[QuestionResult, ...]
    synthesis_key: str | None
    flag_mean: float
    min_answers: int
    tables: tuple[TableCheck, ...]  # tables with at least one answer to the synthesis question
    no_table: int  # synthesis answers from people who did not say their table

    @property
    def flagged(self) -> list[TableCheck]:
        return [t for t in self.tables if t.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {
            "respondents": self.respondents,
            "questions": [q.to_dict() for q in self.questions],
            "synthesis": None
            if self.synthesis_key is None
            else {
                "question_key": self.synthesis_key,
                "flag_mean": self.flag_mean,
                "min_answers": self.min_answers,
                "tables": [t.to_dict() for t in self.tables],
                "flagged": [t.table for t in self.flagged],
                "no_table": self.no_table,
            },
        }


def table_checks(
    answers: Iterable[Answer], synthesis_key: str, flag_mean: float, min_answers: int
) -> tuple[tuple[TableCheck, ...], int]:
    """Per-table mean on the synthesis question; flagged when mean <= flag_mean with
    at least min_answers answers (fewer would flag a table on one unhappy person)."""
    by_table: dict[int, list[int]] = defaultdict(list)
    no_table = 0
    for a in answers:
        if a.question_key != synthesis_key:
            continue
        if a.table is None:
            no_table += 1
        else:
            by_table[a.table].append(a.value)
    checks = []
    for table in sorted(by_table):
        values = by_table[table]
        enough = len(values) >= min_answers
        mean = statistics.fmean(values) if enough else None
        checks.append(TableCheck(table, len(values), mean, mean is not None and mean <= flag_mean))
    return tuple(checks), no_table


def summarise(
    questions: Mapping[str, str],
    answers: Iterable[Answer],
    *,
    synthesis_key: str | None,
    flag_mean: float = 2.5,
    min_answers: int = 3,
    small_cell: int = 10,
) -> Summary:
    """Results per question (distribution only from small_cell answers up) and table checks."""
    answers = list(answers)
    values: dict[str, list[int]] = {k: [] for k in questions}
    for a in answers:
        if a.question_key in values:
            values[a.question_key].append(a.value)
    results = tuple(
        QuestionResult(
            key,
            text,
            len(values[key]),
            statistics.fmean(values[key]) if values[key] else None,
            tuple(values[key].count(v) for v in range(1, 6))
            if len(values[key]) >= small_cell
            else None,
        )
        for key, text in questions.items()
    )
    tables: tuple[TableCheck, ...] = ()
    no_table = 0
    if synthesis_key is not None:
        tables, no_table = table_checks(answers, synthesis_key, flag_mean, min_answers)
    return Summary(
        respondents=len({a.participant for a in answers}),
        questions=results,
        synthesis_key=synthesis_key,
        flag_mean=flag_mean,
        min_answers=min_answers,
        tables=tables,
        no_table=no_table,
    )


def demo_messages(rng: Any, survey: Mapping[str, Any], phone: int) -> list[dict[str, Any]]:
    """What a simulated phone sends when the survey opens (``townhall serve --demo``).

    Tables 3 and 7 are unhappy with the themes, so the per-table check has
    something to flag; one phone in ten leaves a (fake) follow-up address.
    """
    tables = survey.get("tables") or []
    table = rng.choice(tables) if tables and rng.random() < 0.8 else None
    answers = {}
    for q in survey["questions"]:
        low = q["key"] == SYNTHESIS_KEY and table in (3, 7)
        answers[q["key"]] = rng.choice([1, 2, 2, 3] if low else [3, 4, 4, 5])
    out: list[dict[str, Any]] = [
        {"type": "evaluation", "id": str(uuid.uuid4()), "answers": answers, "table": table}
    ]
    if survey.get("followup") and phone % 10 == 0:
        out.append(
            {"type": "followup", "id": str(uuid.uuid4()), "email": f"phone{phone}@example.org"}
        )
    return out
