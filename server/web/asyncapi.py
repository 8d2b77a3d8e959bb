"""The protocol as an AsyncAPI 3 document, generated from the message models.

Incoming frames are the models that parse them (``server/protocol/messages.py``;
which role may send which is ``SENDS``, checked against the routing table in
``server/live/routes.py`` by a test); outgoing ones are
``server/protocol/outgoing.py``. JSON Schemas come from pydantic, so the spec
cannot drift from the parser. The rules no schema can say (keepalive, the open-poll
rule, tally cadence, limits) are written into the channel descriptions with the
values of the running settings. Served at ``/protocol/asyncapi.json``; a copy of
the defaults is committed as ``docs/asyncapi.json`` (a test keeps it current).
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse

from server.event.eventfile import SiteSpec
from server.live.ratelimit import DEFAULT_RATES
from server.protocol import messages as m
from server.protocol import outgoing as out
from server.settings import Settings

ENDPOINTS = {  # channel name -> (path, token role, who)
    "table": ("/ws/table", "table", "a table's facilitator laptop (one token per table)"),
    "phone": ("/ws/phone", "participant", "a participant's phone (token from POST /api/join)"),
    "display": ("/ws/display", "display", "a big screen (read-only)"),
    "team": ("/ws/team", "team", "a theme-team member"),
    "producer": ("/ws/producer", "producer", "the producer / lead facilitator"),
}

_TEAM_OPS: list[type[BaseModel]] = [
    m.SyncMsg,
    m.RenameMsg,
    m.MergeMsg,
    m.SplitMsg,
    m.MoveMsg,
    m.DiscardMsg,
    m.RestoreMsg,
    m.PinQuoteMsg,
    m.UndoMsg,
    m.RethemeMsg,
    m.PublishMsg,
]
SENDS: dict[str, list[type[BaseModel]]] = {  # token role -> frames it may send
    "table": [m.Ping, m.CommentMsg, m.StarMsg, m.TableAllocationMsg],
    "participant": [m.Ping, m.DemographicsMsg, m.VoteMsg, m.EvaluationMsg, m.FollowupMsg],
    "display": [m.Ping],
    "team": [m.Ping, *_TEAM_OPS],
    "producer": [
        m.Ping,
        m.SetQuestionMsg,
        m.OpenPollMsg,
        m.ClosePollMsg,
        m.ScreenMsg,
        m.ScreenFollowMsg,
        m.PollFromThemesMsg,
        m.OpenEvaluationMsg,
        m.CloseEvaluationMsg,
        m.ReissueTokenMsg,
        m.RevokeTokenMsg,
    ],
}


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    pairs = [(model, "validation") for model in models]
    _, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    return dict(top.get("$defs", {}))


def _message(model: type[BaseModel]) -> dict[str, Any]:
    kind = out.message_type(model)
    doc = (model.__doc__ or "").strip()
    msg: dict[str, Any] = {
        "name": kind,
        "title": f"{kind} ({_name(model)})",
        "payload": {"$ref": f"#/components/schemas/{_name(model)}"},
    }
    if doc and not doc.startswith(("Usage docs", "A base class")):
        msg["summary"] = doc.splitlines()[0]
    return msg


def rules(settings: Settings) -> str:
    """What a client must know beyond the message shapes, with this server's values."""
    rates = {**DEFAULT_RATES, **settings.rate_limits}
    rate_text = ", ".join(f"{role} {r:g}/s burst {b:g}" for role, (r, b) in rates.items())
    tables = next(
        (g.le for g in SiteSpec.model_fields["tables"].metadata if hasattr(g, "le")), None
    )
    return f"""\
JSON text frames, one message each, with a `type`. Every write carries `id`, a client
UUID reused on every resend; the server answers `ack` (same id) after the write is
committed, or `error` (same id, a `code` and a message fit for a person). The first
frame the server sends is always `hello`, a full snapshot; after a reconnect it
replaces all local state. Full prose: docs/protocol.md.

Tokens: `townhall event load EVENT.toml --public-url URL --links-json FILE` writes every
staff token with its page and websocket URL (format `townhall-links/1`, docs/protocol.md
"The links file"). A phone gets its own: `POST /api/join` with `{{"code": "RIVER26"}}`
(and optionally `"site"`) answers `{{"token": "...", "event": "title"}}`, or 400/404
`{{"error": "..."}}`. Browsers must send an Origin equal to the server's host.

Keepalive: the server sends a websocket ping every {settings.ws_ping_interval:g} s
(TOWNHALL_WS_PING_INTERVAL) and closes with 1011 "keepalive ping timeout" when no pong
arrives within {settings.ws_ping_timeout:g} s (TOWNHALL_WS_PING_TIMEOUT). Standard
websocket libraries answer pings by themselves, but only while the client keeps
reading its socket: read every frame, even ones you ignore. An application-level
`{{"type": "ping"}}` is answered `{{"type": "pong"}}` and is optional.

One open poll: `open_poll` closes every other open poll of the event in the same
commit (its ack lists them in `closed`; a `poll` push goes out for each), so a
phone's `hello.poll` is the one open poll or null.

Tally cadence: after the first vote following a quiet spell, a `tally` follows within
{settings.tally_interval:g} s (TOWNHALL_TALLY_INTERVAL); while votes keep arriving the
server waits max({settings.tally_interval:g} s, twice the time the last round of results
took), so under heavy load tallies come every 1-5 s (docs/benchmarks.md). Breakdowns
come at most every {settings.breakdown_interval:g} s (TOWNHALL_BREAKDOWN_INTERVAL), or
five times their own cost. Every tally, breakdown and demographics push carries
`version`, the server clock in ms when it was read; a vote's ack carries the `version`
taken after its commit, so a tally with a higher version counts that ballot. Keep the
highest version you have seen and ignore older ones arriving late.

Limits: frames over {settings.max_frame_bytes} bytes close the socket with 1009
(TOWNHALL_MAX_FRAME_BYTES); comments 1-{m.MAX_COMMENT} characters after trimming;
{tables} tables per site (event file); rate limits per connection ({rate_text};
TOWNHALL_RATE_LIMITS), a token's connections together {settings.rate_token_factor:g}x
(TOWNHALL_RATE_TOKEN_FACTOR); after {settings.rate_flood_close} `rate_limited` replies
without a 10 s pause the socket closes with 4003 (TOWNHALL_RATE_FLOOD_CLOSE); a screen
that falls {settings.subscriber_queue} messages behind (TOWNHALL_SUBSCRIBER_QUEUE) gets a
fresh `hello` instead of the backlog. Connections beyond the process's capacity (from its
open-files limit; /healthz reports it) get HTTP 503 with Retry-After before any
websocket exists: retry with backoff (docs/deploy.md).

Close codes: 1000/1001 normal; 1008 policy (bad or revoked token, wrong role, foreign
Origin; an `error` with code `forbidden` comes first); 1009 frame too big; 1011 server
error or keepalive timeout (reconnect with backoff); 1012 server restarting; 4001 token
revoked while connected; 4002 too slow to keep up (reconnect, you get a fresh hello);
4003 kept flooding. Reconnect with jittered exponential backoff."""


def _app_version() -> str:
    try:
        return version("townhall")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def _channel(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One endpoint: its channel, and its two operations (what the server receives
    there, what it sends). Keys say the direction: ``in_X`` / ``out_X``."""
    path, role, who = ENDPOINTS[name]
    sends, receives = SENDS[role], out.RECEIVES[role]
    keys = {model: f"out_{_name(model)}" for model in receives}
    keys |= {model: f"in_{_name(model)}" for model in sends}
    query = {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string", "description": f"a {role} token"},
            "lang": {"type": "string", "description": "the language of refusals"},
        },
    }
    channel = {
        "address": path,
        "title": f"{path} ({role} token)",
        "description": f"For {who}. Connect to `{path}?token=TOKEN` (optional `&lang=xx`).",
        "messages": {
            key: {"$ref": f"#/components/messages/{_name(model)}"} for model, key in keys.items()
        },
        "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0", "query": query}},
    }

    def operation(action: str, title: str, models: list[type[BaseModel]]) -> dict[str, Any]:
        return {
            "action": action,
            "title": title,
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{keys[x]}"} for x in models],
        }

    operations = {
        f"{name}_receive": operation("receive", f"what {who} sends", sends),
        f"{name}_send": operation("send", f"what the server sends to {who}", receives),
    }
    return channel, operations


def document(settings: Settings) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for this server's settings."""
    incoming = [model for models in SENDS.values() for model in models]
    outgoing = [model for models in out.RECEIVES.values() for model in models]
    every = list(dict.fromkeys([*incoming, *outgoing]))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name in ENDPOINTS:
        channels[name], ops = _channel(name)
        operations |= ops
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "townhall websocket protocol",
            "version": _app_version(),
            "description": rules(settings),
        },
        "defaultContentType": "application/json",
        "servers": {
            "townhall": {
                "host": settings.base_url.split("://", 1)[1],
                "protocol": "wss" if settings.base_url.startswith("https") else "ws",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {_name(model): _message(model) for model in every},
            "schemas": _schemas(every),
        },
    }


async def asyncapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document(request.app.state.settings))


def _type_of(schema: dict[str, Any]) -> str:
    """A short human form of a JSON Schema: `int`, `Poll | null`, `list[Theme]`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[`{name}`](#{name.lower()})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "anyOf" in schema:
        return " \\| ".join(_type_of(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_type_of(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"{{str: {_type_of(schema['additionalProperties'])}}}"
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "len ≥"),
            ("maxLength", "len ≤"),
            ("maxItems", "items ≤"),
        )
        if key in schema
    ]
    return f"`{kind}`" + (f" ({', '.join(bounds)})" if bounds else "")


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        need = "yes" if name in required else "no"
        note = str(prop.get("description", "")).replace("\n", " ").replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_of(prop)} | {need} | {note} |")
    return rows


def markdown(doc: dict[str, Any]) -> str:
    """docs/protocol-reference.md: the document as tables, one per message and object."""
    schemas = doc["components"]["schemas"]
    out = [
        "# townhall protocol reference (generated)",
        "",
        "Generated from the message models by `townhall protocol --markdown "
        "docs/protocol-reference.md`; the same content as `GET /protocol/asyncapi.json` "
        "(AsyncAPI 3.0, committed as `docs/asyncapi.json`). docs/protocol.md explains it in "
        "prose. Do not edit by hand: a test compares it with the code.",
        "",
        "## Rules",
        "",
        doc["info"]["description"],
        "",
    ]
    for name, channel in doc["channels"].items():
        out += [f"## `{channel['address']}`", "", channel["description"], ""]
        for action, title in (("receive", "Client sends"), ("send", "Server sends")):
            refs = doc["operations"][f"{name}_{action}"]["messages"]
            keys = [r["$ref"].rsplit("/", 1)[1] for r in refs]
            comps = [channel["messages"][k]["$ref"].rsplit("/", 1)[1] for k in keys]
            listed = ", ".join(
                f"[`{doc['components']['messages'][c]['name']}`](#{c.lower()})" for c in comps
            )
            out += [f"{title}: {listed}", ""]
    out += ["## Messages and objects", ""]
    for name in sorted(schemas):
        schema = schemas[name]
        out += [f"### {name}", ""]
        if schema.get("description"):
            out += [" ".join(str(schema["description"]).split()), ""]
        out += ["| field | type | required | note |", "| --- | --- | --- | --- |"]
        out += [*_fields(schema), ""]
    return "\n".join(out)
