"""The report's language and clock: interface strings, the event's own texts, and
plain dates, times and numbers in the event's time zone.

The interface strings are msgids of ``server/translations/*.po`` (marked with ``_`` as
on the participant pages); the event's texts (title, prompts, option labels…) come from the
event's own catalogue, keyed by their first-language wording. Dates and numbers are
worded by Babel for the report's language, so a Spanish report says "domingo, 29 de
noviembre de 2026" without a hand-made table of month names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from server.core.errors import Gettext
from server.event import i18n


class UnknownLanguage(ValueError):
    """The report was asked for a language the event does not list."""


@dataclass(frozen=True)
class Words:
    lang: str
    zone: ZoneInfo
    gettext: Gettext
    texts: dict[str, str] = field(default_factory=dict)  # first-language text -> this language
    interface: dict[str, str] = field(default_factory=dict)

    @classmethod
    def make(
        cls,
        languages: list[str],
        timezone: str,
        texts: dict[str, dict[str, str]],
        lang: str | None = None,
    ) -> Words:
        """The words of a report in ``lang`` (default: the event's first language)."""
        chosen = lang or languages[0]
        if chosen not in languages:
            raise UnknownLanguage(
                f"this event's languages are {', '.join(languages)}; there is no {chosen!r} report"
            )
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")  # a row written before time zones were checked
        cats = i18n.catalogues()
        first = chosen == languages[0]
        return cls(
            lang=chosen,
            zone=zone,
            gettext=cats.gettext(chosen),
            texts={} if first else dict(texts.get(chosen, {})),
            interface={} if first else cats.bundle(chosen),
        )

    @property
    def locale(self) -> Locale:
        try:
            return Locale.parse(self.lang)
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")

    def text(self, source: str) -> str:
        """An event text (prompt, label, title…) in the report's language."""
        return self.texts.get(source) or self.interface.get(source) or source

    def local(self, moment: datetime) -> datetime:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def date(self, moment: datetime) -> str:
        """E.g. "Sunday, November 29, 2026" / "domingo, 29 de noviembre de 2026"."""
        return format_date(self.local(moment), "full", locale=self.locale)

    def time(self, moment: datetime) -> str:
        """E.g. "7:40 PM" / "19:40", on the event's clock."""
        return format_time(self.local(moment), "short", locale=self.locale)

    def when(self, moment: datetime) -> str:
        return f"{self.date(moment)}, {self.time(moment)}"

    def number(self, x: float, digits: int = 0) -> str:
        return format_decimal(round(x, digits), f"#,##0.{'0' * digits}" if digits else "#,##0",
                              locale=self.locale)

    def percent(self, x: float) -> str:
        """``x`` in percent (0–100), whole: "61%"."""
        return f"{self.number(x)}%"
