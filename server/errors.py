"""One exception hierarchy, mapped in one place to HTTP status, websocket
close codes and protocol error codes."""

from __future__ import annotations

from server.i18n import Refusal

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
    translation: ``server.i18n.Refusal``)."""

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
