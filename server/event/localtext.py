"""Texts of the event file that can be given in each of the event's languages.

Any text a participant or the big screen shows (the title, poll prompts, option and
demographic labels, evaluation statements…) may be a plain string or a table with one
entry per language::

    prompt = { en = "Which should come first?", es = "¿Qué debería ir primero?" }

The event's first language is the one stored in the row (and the one reports use); the
others become the event's own catalogue, keyed by that first-language text the way a
``.po`` file is keyed by its msgid. Pages look a text up there and fall back to the
first-language text, so a text given once is shown as given. Validation collects the
catalogue into the validation context (``parse_event_text`` passes it in), which is why
this is a ``BeforeValidator`` with ``ValidationInfo`` rather than a model of its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

from server.event.i18n import SOURCE

# context keys
LANGUAGES = "languages"
TEXTS = "texts"


def _localised(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, dict):
        return value
    context = info.context if isinstance(info.context, dict) else {}
    languages = list(context.get(LANGUAGES) or [SOURCE])
    first = languages[0]
    unknown = [k for k in value if k not in languages]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not one of the event's languages ({', '.join(languages)}); "
            "add it to `languages` or remove it here"
        )
    if first not in value:
        raise ValueError(
            f"give this text in {first!r}, the event's first language (the others are "
            "translations of it)"
        )
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {lang!r} text must be a non-empty string")
    source = value[first]
    catalogue: dict[str, dict[str, str]] = context.setdefault(TEXTS, {})
    for lang, text in value.items():
        if lang == first:
            continue
        seen = catalogue.setdefault(lang, {})
        if seen.get(source, text) != text:
            raise ValueError(
                f"{source!r} is translated into {lang!r} twice, as {seen[source]!r} and "
                f"{text!r}; texts are matched by their {first!r} wording, so give one "
                "translation"
            )
        seen[source] = text
    return source


LocalText = Annotated[str, BeforeValidator(_localised)]
"""A ``str`` field that also accepts ``{lang = text, …}`` (see the module docstring)."""
