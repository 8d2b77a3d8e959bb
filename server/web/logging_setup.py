"""Logs never carry a token.

Tokens travel in URLs (``?token=…``, ``/t/TOKEN``) and uvicorn logs websocket
paths with their query string even with the access log off. Rather than trust
every logger and handler, we redact at the source: a log record factory
formats each record's message (and traceback) once and strips anything that
looks like a token, whichever library logged it and wherever it goes.
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REDACTED = "[redacted]"

_PATTERNS = [
    # ?token=…, &token=…, token: …, "token": "…", --token …
    re.compile(r"""(?i)(\btoken["']?\s*[=:]\s*["']?|--token\s+)[A-Za-z0-9_\-.~%]{8,}"""),
    # table links: /t/TOKEN
    re.compile(r"(/t/)[A-Za-z0-9_\-]{16,}"),
]

# By value: every token townhall issues is secrets.token_urlsafe(20), 27 characters
# of base64url, so anything of that shape is redacted whatever parameter carries it
# (``?tok%65n=…``, a mistyped ``?t=…``, a path, a traceback), percent-encoded or not.
_TOKEN_SHAPED = re.compile(
    r"(?<![A-Za-z0-9_\-%])(?:[A-Za-z0-9_\-]|%[0-9A-Fa-f]{2}){27,81}(?![A-Za-z0-9_\-%])"
)
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{27}")

_installed = False


def _shaped(match: re.Match[str]) -> str:
    return REDACTED if _TOKEN.fullmatch(unquote(match.group())) else match.group()


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return _TOKEN_SHAPED.sub(_shaped, text)


def _redacting_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, still redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            # Tracebacks can quote a URL or a frame's locals; format once, redacted.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
            record.exc_info = None
        return record

    factory.townhall_redacting = True  # type: ignore[attr-defined]
    return factory


def install_redaction() -> None:
    """Idempotent: wraps the current log record factory once per process."""
    global _installed
    current = logging.getLogRecordFactory()
    if _installed or getattr(current, "townhall_redacting", False):
        return
    logging.setLogRecordFactory(_redacting_factory(current))
    _installed = True


def configure(level: str) -> None:
    """Redaction, plus a handler for our own loggers if nobody configured one, so
    warnings about refused or flooding clients reach the server log."""
    install_redaction()
    ours = logging.getLogger("townhall")
    ours.setLevel(level.upper())
    if not ours.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        ours.addHandler(handler)


def file_log_config(path: Path, level: str) -> dict[str, Any]:
    """A uvicorn ``log_config`` that writes the server's log and access lines to
    ``path`` and shows only warnings and errors on the terminal, so a terminal
    that printed where to go keeps showing it (serve --demo, --access-log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": plain},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(path), "formatter": "plain"},
            "terminal": {
                "class": "logging.StreamHandler",
                "level": "WARNING",
                "formatter": "plain",
            },
        },
        "loggers": {
            name: {"handlers": ["file", "terminal"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.access", "townhall", "py.warnings")
        },
    }
