"""Turn what the facilitator typed as ``--server`` into the table websocket URL."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

TABLE_PATH = "/ws/table"
_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


class BadServerURL(ValueError):
    """The --server value cannot be a townhall server address."""


def table_ws_base(server: str) -> str:
    """Normalise ``http(s)://`` or ``ws(s)://`` base URLs to ``ws(s)://host[:port]/…/ws/table``.

    The result carries no token, so it is safe to log and to show on screen.
    """
    raw = server.strip()
    if "://" not in raw:
        raise BadServerURL(
            f"{server!r} is not a URL; give it like http://10.0.0.5:8000 or wss://townhall.example"
        )
    parts = urlsplit(raw)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise BadServerURL(
            f"unsupported scheme {parts.scheme!r} in {server!r}; use http(s) or ws(s)"
        )
    if not parts.hostname:
        raise BadServerURL(f"no host in {server!r}")
    try:
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as exc:
        raise BadServerURL(f"bad port in {server!r}") from exc
    path = parts.path.rstrip("/")
    if not path.endswith(TABLE_PATH):
        path += TABLE_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def with_token(ws_base: str, token: str) -> str:
    return f"{ws_base}?token={quote(token, safe='')}"
