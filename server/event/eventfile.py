"""The event file: a TOML description of one meeting, validated with errors
that point at the line to fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from server.core.budget import check_budget_fields
from server.core.errors import N_
from server.core.evaluation import SCALE_LABELS, SYNTHESIS_KEY
from server.core.shift import PHASES, TWICE_KINDS, instance_key
from server.event import i18n
from server.event.localtext import LANGUAGES, TEXTS, LocalText

KEY = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteSpec(_Strict):
    key: str = Field(pattern=KEY)
    name: LocalText
    tables: int = Field(ge=1, le=2000, description="Number of tables at this site")


class QuestionSpec(_Strict):
    key: str = Field(pattern=KEY)
    text: LocalText = Field(min_length=3)


class RoundSpec(_Strict):
    key: str = Field(pattern=KEY)
    title: LocalText
    questions: list[QuestionSpec] = Field(min_length=1)


class OptionSpec(_Strict):
    key: str = Field(pattern=KEY)
    label: LocalText
    census: float | None = Field(None, ge=0, le=1)
    cost: int | None = Field(None, ge=1, description="projects polls: what it costs")
    delta: int | None = Field(None, description="tradeoff polls: + closes the gap, - widens it")


class PollSpecFile(_Strict):
    key: str = Field(pattern=KEY)
    kind: Literal["single", "multi", "ranking", "scale", "allocation", "projects", "tradeoff"]
    prompt: LocalText
    round: str | None = None
    options: list[OptionSpec] = Field(default_factory=list)
    max_choices: int | None = Field(None, ge=1)
    # Budgeting polls (server/core/budget.py, docs/budgeting.md).
    budget: int | None = Field(None, ge=1)
    unit: LocalText | None = Field(None, min_length=1, max_length=20)
    deficit: int | None = Field(None, ge=1)
    # Asked at the start and again at the end: stored as KEY-before and KEY-after.
    twice: bool = False

    @model_validator(mode="after")
    def _shape(self) -> PollSpecFile:
        if self.kind == "scale":
            if not self.options:
                self.options = [
                    OptionSpec(key=str(i + 1), label=t) for i, t in enumerate(SCALE_LABELS)
                ]
            if [o.key for o in self.options] != ["1", "2", "3", "4", "5"]:
                raise ValueError("a scale poll has options with keys 1 to 5 (or none)")
        elif len(self.options) < 2:
            raise ValueError(f"a {self.kind} poll needs at least 2 options")
        if self.kind == "multi":
            if self.max_choices is None:
                raise ValueError("a multi poll needs max_choices")
            if self.max_choices > len(self.options):
                raise ValueError("max_choices is larger than the number of options")
        elif self.max_choices is not None:
            raise ValueError("max_choices only applies to multi polls")
        check_budget_fields(self.kind, self.options, self.budget, self.unit, self.deficit)
        _unique([o.key for o in self.options], "option key")
        return self


class DemographicSpec(_Strict):
    key: str = Field(pattern=KEY)
    prompt: LocalText
    options: list[OptionSpec] = Field(min_length=2)

    @model_validator(mode="after")
    def _census(self) -> DemographicSpec:
        _unique([o.key for o in self.options], "option key")
        shares = [o.census for o in self.options if o.census is not None]
        if shares and len(shares) != len(self.options):
            raise ValueError("give a census share for every option or for none")
        if shares and abs(sum(shares) - 1.0) > 0.02:
            raise ValueError(f"census shares add up to {sum(shares):.3f}, not 1")
        return self


class EvaluationQuestionSpec(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: LocalText = Field(min_length=3, max_length=300)


def default_questions() -> list[EvaluationQuestionSpec]:
    return [
        EvaluationQuestionSpec(key="fair-chance", text=N_("I had a fair chance to speak")),
        EvaluationQuestionSpec(
            key=SYNTHESIS_KEY, text=N_("The themes reflected my table's views")
        ),
        EvaluationQuestionSpec(key="trust-use", text=N_("I trust the results will be used")),
    ]


class EvaluationSpec(_Strict):
    """``[evaluation]`` in the event file; an empty section gives the defaults."""

    statements: list[EvaluationQuestionSpec] = Field(
        default_factory=default_questions, min_length=1, max_length=12
    )
    synthesis: str | None = SYNTHESIS_KEY  # the question checked per table
    ask_table: bool = True  # "Which table are you at?" (skippable)
    followup: bool = True  # offer to leave an email for a later survey
    flag_mean: float = Field(2.5, ge=1, le=5)
    flag_min_answers: int = Field(3, ge=1, le=50)

    @model_validator(mode="after")
    def _synthesis(self) -> EvaluationSpec:
        keys = [q.key for q in self.statements]
        if len(set(keys)) != len(keys):
            raise ValueError("evaluation statement keys must be unique")
        if self.synthesis is not None and self.synthesis not in keys:
            if "synthesis" in self.model_fields_set:
                raise ValueError(f"synthesis names question {self.synthesis!r}, not defined")
            self.synthesis = None  # custom statements without a "themes" one: no per-table check
        return self


class EventSpec(_Strict):
    title: LocalText = Field(min_length=3)
    slug: str = Field(pattern=KEY)
    code: str = Field(pattern=r"^[A-Z0-9]{4,10}$", description="Short code phones type to join")
    languages: list[str] = Field(default_factory=lambda: ["en"])
    timezone: str = Field(
        "UTC", description="IANA time zone of the meeting (e.g. Europe/London), for the report"
    )
    sites: list[SiteSpec] = Field(min_length=1)
    rounds: list[RoundSpec] = Field(min_length=1)
    polls: list[PollSpecFile] = Field(default_factory=list)
    demographics: list[DemographicSpec] = Field(default_factory=list)
    evaluation: EvaluationSpec | None = None

    # The event's own catalogue: language -> first-language text -> translation
    # (server/event/localtext.py); filled by parse_event_text.
    _texts: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)

    @property
    def texts(self) -> dict[str, dict[str, str]]:
        return self._texts

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone name; use one like \"Europe/London\" or "
                "\"America/Chicago\" (the IANA names)"
            ) from None
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one language")
        _unique(value, "language")
        have = i18n.catalogues().available()
        for lang in value:
            if not i18n.is_language_tag(lang):
                raise ValueError(f"{lang!r} is not a two- or three-letter language code")
            if lang not in have:
                raise ValueError(
                    f"there is no interface translation for {lang!r} (server/translations/"
                    f"{lang}.po); the pages offer {', '.join(have)}"
                )
        return value

    def untranslated(self) -> dict[str, int]:
        """How many of the texts given in the first language lack each other language."""
        sources = [t for t in _event_texts(self) if any(c.isalpha() for c in t)]  # not "£"
        interface = i18n.catalogues().by_lang  # default texts are interface strings
        return {
            lang: sum(
                1
                for t in sources
                if t not in self._texts.get(lang, {}) and t not in interface.get(lang, {})
            )
            for lang in self.languages[1:]
        }

    @model_validator(mode="after")
    def _refs(self) -> EventSpec:
        _unique([s.key for s in self.sites], "site key")
        _unique([r.key for r in self.rounds], "round key")
        _unique([p.key for p in self.polls], "poll key")
        _unique(
            [k for p in self.polls for k in ([instance_key(p.key, x) for x in PHASES]
                                             if p.twice else [p.key])],
            "poll key (a poll asked twice is stored as KEY-before and KEY-after)",
        )
        for p in self.polls:
            if p.twice and p.kind not in TWICE_KINDS:
                raise ValueError(f"poll {p.key!r}: only {', '.join(TWICE_KINDS)} polls can be "
                                 "asked twice")
        _unique([d.key for d in self.demographics], "demographic key")
        _unique([q.key for r in self.rounds for q in r.questions], "question key")
        rounds = {r.key for r in self.rounds}
        for p in self.polls:
            if p.round is not None and p.round not in rounds:
                raise ValueError(f"poll {p.key!r} names round {p.round!r}, which is not defined")
        return self

    @property
    def table_count(self) -> int:
        return sum(s.tables for s in self.sites)


def _event_texts(spec: EventSpec) -> set[str]:
    """The participant-facing texts of an event, in its first language."""
    out = {spec.title, *(s.name for s in spec.sites)}
    for r in spec.rounds:
        out.add(r.title)
        out.update(q.text for q in r.questions)
    for p in spec.polls:
        out.add(p.prompt)
        if p.unit:
            out.add(p.unit)
        if p.kind != "scale":  # the default scale labels are interface strings
            out.update(o.label for o in p.options)
    for d in spec.demographics:
        out.add(d.prompt)
        out.update(o.label for o in d.options)
    if spec.evaluation is not None:
        out.update(q.text for q in spec.evaluation.statements)
    return out


def _unique(keys: list[str], what: str) -> None:
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise ValueError(f"{what} {k!r} is used twice")
        seen.add(k)


class EventFileError(Exception):
    """A problem in an event file, with where to look."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}:{line or '?'}: {msg}" for line, msg in problems]
        super().__init__("\n".join(lines))


def load_event_file(path: Path) -> EventSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventFileError(path, [(None, f"cannot read the file: {exc}")]) from exc
    return parse_event_text(text, path)


def parse_event_text(text: str, path: Path = Path("<event>")) -> EventSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise EventFileError(path, [(int(m.group(1)) if m else None, str(exc))]) from exc
    languages = data.get("languages")
    context: dict[str, object] = {
        LANGUAGES: languages if isinstance(languages, list) and languages else [i18n.SOURCE]
    }
    try:
        spec = EventSpec.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append((locate(text, loc), f"{where}: {msg}"))
        raise EventFileError(path, problems) from exc
    texts = context.get(TEXTS)
    spec._texts = texts if isinstance(texts, dict) else {}
    return spec


def locate(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best line number for a validation error's location in TOML text.

    Walks the path: a name followed by an index means the n-th ``[[name]]``
    (or ``[[parent.name]]``) table; a final name means its ``name =`` line.
    """
    lines = text.splitlines()
    start, line_no = 0, None
    i = 0
    while i < len(loc):
        part = loc[i]
        if not isinstance(part, str):
            i += 1
            continue
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(nxt, int):
            pattern = re.compile(r"^\s*\[\[\s*(?:[\w.-]+\.)?" + re.escape(part) + r"\s*\]\]")
            hits = [n for n in range(start, len(lines)) if pattern.match(lines[n])]
            if len(hits) > nxt:
                start = hits[nxt]
                line_no = start + 1
                i += 2
                continue
        pattern = re.compile(r"^\s*" + re.escape(part) + r"\s*[=.]")  # name = / name.en =
        for n in range(start, len(lines)):
            if pattern.match(lines[n]):
                line_no = n + 1
                start = n
                break
        i += 1
    return line_no
