"""Languages of the participant pages and the big screen.

Catalogues are gettext ``.po`` files in ``server/translations/`` (one per language,
``es.po``), read by the small loader below: the msgids are the English strings, so English
needs no catalogue and a missing translation falls back to English. Templates call
``_("…")``; page scripts call ``townhall.tr("…")`` with the same msgids, served to them as a
JSON bundle on ``<html data-i18n>``. Placeholders are ``{name}`` in both.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from server.core.errors import Gettext, format_message

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
SOURCE = "en"  # the language of the msgids
COOKIE = "townhall_lang"
NAMES = {"en": "English", "es": "Español"}  # each in its own language, for the switcher
_TAG = re.compile(r"^[a-z]{2,3}$")

def parse_po(text: str) -> dict[str, str]:
    """msgid → msgstr of a .po file; untranslated, fuzzy and header entries are left out."""
    out: dict[str, str] = {}
    entries: list[tuple[dict[str, str], bool]] = []
    entry: dict[str, str] = {}
    fuzzy = False
    key = ""
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry:
                entries.append((entry, fuzzy))
            entry, fuzzy, key = {}, False, ""
        elif line.startswith("#"):
            fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
        elif line.startswith('"'):
            if not key:
                raise ValueError(f"po: a string continues no msgid/msgstr: {raw!r}")
            entry[key] += _po_string(line)
        else:
            key, _, rest = line.partition(" ")
            if key not in ("msgid", "msgstr", "msgctxt"):
                raise ValueError(f"po: unsupported line {raw!r}")
            entry[key] = _po_string(rest.strip())
    for e, is_fuzzy in entries:
        msgid, msgstr = e.get("msgid", ""), e.get("msgstr", "")
        if msgid and msgstr and not is_fuzzy:
            out[msgid] = msgstr
    return out


def _po_string(token: str) -> str:
    if not (len(token) >= 2 and token[0] == token[-1] == '"'):
        raise ValueError(f"po: expected a quoted string, got {token!r}")
    value = ast.literal_eval(token)  # a C-style string: \" \\ \n, as Python reads them
    assert isinstance(value, str)
    return value


@dataclass(frozen=True)
class Catalogues:
    by_lang: dict[str, dict[str, str]]

    @classmethod
    def load(cls, directory: Path = TRANSLATIONS) -> Catalogues:
        return cls(
            {p.stem: parse_po(p.read_text(encoding="utf-8")) for p in directory.glob("*.po")}
        )

    def available(self) -> list[str]:
        return [SOURCE, *sorted(k for k in self.by_lang if k != SOURCE)]

    def offered(self, wanted: Iterable[str]) -> list[str]:
        """The event's languages that have a catalogue (English always has one), in order."""
        have = set(self.available())
        out = [lang for lang in wanted if lang in have]
        return list(dict.fromkeys(out)) or [SOURCE]

    def bundle(self, lang: str) -> dict[str, str]:
        return dict(self.by_lang.get(lang, {}))

    def gettext(self, lang: str) -> Gettext:
        catalogue = self.by_lang.get(lang, {})

        def _(msgid: str, **values: object) -> str:
            return format_message(catalogue.get(msgid, msgid), values)

        return _


@functools.cache
def catalogues() -> Catalogues:
    """The shipped catalogues, read once (they are package data, not settings)."""
    return Catalogues.load()


def parse_accept_language(header: str) -> list[str]:
    """Primary language subtags of an Accept-Language header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and q > 0:
            ranked.append((-q, i, primary))
    return [lang for _, _, lang in sorted(ranked)]


def choose(offered: list[str], query: str = "", cookie: str = "", accept: str = "") -> str:
    """The page's language: ?lang=, then the switcher's cookie, then the browser's
    Accept-Language, then the event's first language."""
    for candidate in (query, cookie):
        if candidate in offered:
            return candidate
    for lang in parse_accept_language(accept):
        if lang in offered:
            return lang
    return offered[0]


def is_language_tag(value: str) -> bool:
    return bool(_TAG.match(value))


_JS_CALL = re.compile(r"""\btr\(\s*"((?:[^"\\]|\\.)*)\"""")
_TEMPLATE_CALL = re.compile(
    r"""(?:\bN_|\b_)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
)


def extract_msgids(paths: Iterable[Path]) -> set[str]:
    """The msgids used by templates and Python (``_("…")``, ``N_("…")``) and scripts
    (``tr("…")``)."""
    found: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        pattern = _JS_CALL if path.suffix == ".js" else _TEMPLATE_CALL
        for m in pattern.finditer(text):
            literal = next(g for g in m.groups() if g is not None)
            found.add(ast.literal_eval(f'"{literal}"'))
    return found
