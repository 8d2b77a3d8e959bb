"""One exception hierarchy, mapped in one place to HTTP status, websocket
close codes and protocol error codes; its base, ``Refusal``, carries a message a
participant may read in their language (the catalogues are ``server.event.i18n``)."""

from __future__ import annotations

import re
from collections.abc import Callable

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

Gettext = Callable[..., str]


class Refusal(Exception):
    """An exception whose message a participant may read, in their language.

    ``message`` may hold ``{name}`` placeholders filled from ``values``; it is then also
    the msgid (mark it with ``N_``) that ``translated`` looks up."""

    def __init__(self, message: str, **values: object) -> None:
        self.msgid = message
        self.values = values
        self.message = format_message(message, values) if values else message
        super().__init__(self.message)

    def translated(self, gettext: Gettext | None) -> str:
        """The message in a participant's language (as written when there is no catalogue)."""
        return gettext(self.msgid, **self.values) if gettext is not None else self.message


def N_(msgid: str) -> str:
    """Marks an English string in Python code as one the participant pages translate
    (error messages, default texts); the string itself is returned unchanged."""
    return msgid


def format_message(text: str, values: dict[str, object]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


# Websocket close codes (RFC 6455 and the project's own 4xxx, see docs/protocol.md).
CLOSE_POLICY = 1008  # bad token, wrong role, foreign Origin
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_RESTART = 1012  # server going away for a restart: reconnect
CLOSE_TOKEN_REVOKED = 4001
CLOSE_TOO_SLOW = 4002  # the client could not keep up; reconnect to resync
CLOSE_FLOODING = 4003  # kept sending after many rate_limited replies; reconnect slower


class TownhallError(Refusal):
    """An error a client caused and should be told about (``{name}`` placeholders and
    translation: ``Refusal``)."""

    code = "error"
    http_status = 400


class InvalidMessage(TownhallError):
    code = "invalid"


class UnknownMessage(TownhallError):
    code = "unknown_type"


class NotFound(TownhallError):
    code = "not_found"
    http_status = 404


class Forbidden(TownhallError):
    code = "forbidden"
    http_status = 403


class PollClosed(TownhallError):
    code = "poll_closed"
    http_status = 409


class Conflict(TownhallError):
    code = "conflict"
    http_status = 409


class RateLimited(TownhallError):
    code = "rate_limited"
    http_status = 429
