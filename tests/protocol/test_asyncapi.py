"""The machine-readable protocol: the AsyncAPI 3 document is valid, served, current
in docs/, and every message the real server sends in a meeting that uses every
role agrees with it (and every message type in it is seen)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from pydantic_asyncapi.v3 import AsyncAPI
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from websockets.asyncio.client import ClientConnection, connect

from server.live import routes
from server.live.hub import RedisHub
from server.protocol import outgoing
from server.settings import Settings
from server.web import asyncapi
from tests.support.example import ROOT, new_id
from tests.support.live import join, sample_texts
from tests.support.server import LiveServer

SPEC_URI = "urn:townhall:asyncapi"
TIMEOUT = 15.0


def _document() -> dict[str, Any]:
    return asyncapi.document(Settings())


def test_document_is_valid_asyncapi_3_with_valid_json_schemas() -> None:
    doc = _document()
    parsed = AsyncAPI.model_validate(doc)
    assert parsed.asyncapi == "3.0.0"
    # Component and channel-message keys: the spec's pattern (the object model leaves it).
    keys = [*doc["operations"], *doc["components"]["messages"], *doc["components"]["schemas"]]
    keys += [k for channel in doc["channels"].values() for k in channel["messages"]]
    assert [k for k in keys if not re.fullmatch(r"[A-Za-z0-9_\-]+", k)] == []
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise AssertionError(f"schema {name} is not valid JSON Schema: {exc}") from exc
    # Every $ref resolves inside the document.
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/')[1:]}:
        node: Any = doc
        for step in ref.split("/"):
            node = node[step]


def test_every_parsed_message_type_is_in_the_spec() -> None:
    from server.protocol import messages

    doc = _document()
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert messages.KNOWN_TYPES | {"reissue_token", "revoke_token"} <= names


def test_committed_copy_in_docs_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(_document())), (
        "docs/asyncapi.json is stale: run `townhall protocol --json docs/asyncapi.json`"
    )


def test_committed_markdown_reference_is_current() -> None:
    committed = (ROOT / "docs" / "protocol-reference.md").read_text(encoding="utf-8")
    assert committed == asyncapi.markdown(_document()) + "\n", (
        "docs/protocol-reference.md is stale: run "
        "`townhall protocol --markdown docs/protocol-reference.md`"
    )


class Contract:
    """Validates a received message against what the spec says that role receives."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self.by_role: dict[str, dict[str, list[str]]] = {}
        for name, (_path, role, _who) in asyncapi.ENDPOINTS.items():
            kinds: dict[str, list[str]] = {}
            for ref in doc["operations"][f"{name}_send"]["messages"]:
                key = ref["$ref"].rsplit("/", 1)[1]
                component = doc["channels"][name]["messages"][key]["$ref"].rsplit("/", 1)[1]
                message = doc["components"]["messages"][component]
                kinds.setdefault(message["name"], []).append(component)
            self.by_role[role] = kinds
        self.seen: set[str] = set()

    def check(self, role: str, msg: dict[str, Any]) -> None:
        components = self.by_role[role].get(msg.get("type", ""))
        assert components, f"{role} received {msg.get('type')!r}, which the spec does not list"
        errors = []
        for component in components:
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{component}"}
            validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
            found = sorted(validator.iter_errors(msg), key=lambda e: list(e.absolute_path))
            if not found:
                self.seen.add(component)
                return
            errors += [f"{component} at {list(e.absolute_path)}: {e.message}" for e in found]
        raise AssertionError(f"{role} {msg['type']} disagrees with the spec:\n" + "\n".join(errors))


def test_contract_rejects_a_message_with_a_field_the_spec_lacks() -> None:
    contract = Contract(_document())
    contract.check("participant", {"type": "pong"})
    with pytest.raises(AssertionError, match="disagrees"):
        contract.check("participant", {"type": "pong", "extra": 1})
    with pytest.raises(AssertionError, match="does not list"):
        contract.check("participant", {"type": "comment", "comment": {}})


class Client:
    """One connection that records (and checks) every frame it receives."""

    def __init__(self, role: str, ws: ClientConnection, contract: Contract) -> None:
        self.role, self.ws, self.contract = role, ws, contract
        self.received: list[dict[str, Any]] = []
        self._new = asyncio.Event()
        self.task = asyncio.create_task(self._read())
        self.failure: BaseException | None = None

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                msg = json.loads(frame)
                self.received.append(msg)
                self._new.set()
                self.contract.check(self.role, msg)
        except AssertionError as exc:
            self.failure = exc
            self._new.set()

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(msg))

    async def wait(self, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            start = 0
            while True:
                if self.failure is not None:
                    raise self.failure
                for msg in self.received[start:]:
                    if test(msg):
                        return msg
                start = len(self.received)
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), TIMEOUT)

    async def write(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send a write and return its ack or error."""
        msg = {"id": new_id(), **msg}
        await self.send(msg)
        return await self.wait(lambda m: m["type"] in ("ack", "error") and m["id"] == msg["id"])


def _served_spec(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/protocol/asyncapi.json", timeout=TIMEOUT) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


# Outgoing messages a meeting cannot show without breaking something on purpose;
# each is exercised against the schema where that breakage is tested.
NOT_IN_A_MEETING = {
    "HubHealth": "needs Redis to fail: test_hub_health_notice_agrees_with_the_spec",
}


def test_hub_health_notice_agrees_with_the_spec() -> None:
    """The notice a Redis outage sends every screen, from the hub's own code."""
    contract = Contract(_document())

    async def notices() -> list[dict[str, Any]]:
        hub = RedisHub("redis://127.0.0.1:1")  # never started: no connection is made
        async with hub.subscribe("hub") as sub:
            hub._set_healthy(False)
            hub._set_healthy(True)
            return [await asyncio.wait_for(sub.get(), TIMEOUT) for _ in range(2)]

    for msg in asyncio.run(notices()):
        for role in ("display", "team", "producer"):
            contract.check(role, msg)
    assert contract.seen == {"HubHealth"}


@pytest.mark.parametrize(
    "live_server",
    [{"TOWNHALL_THEMING": "true", "TOWNHALL_EMBEDDER": "hashing"}],
    indirect=True,
)
def test_every_message_of_a_meeting_agrees_with_the_spec(live_server: LiveServer) -> None:
    doc = _served_spec(live_server.base)
    contract = Contract(doc)
    asyncio.run(_meeting(live_server, contract))
    every = {m.__name__ for models in outgoing.RECEIVES.values() for m in models}
    assert every - contract.seen - set(NOT_IN_A_MEETING) == set()


async def _meeting(server: LiveServer, contract: Contract) -> None:
    t = server.tokens
    phone_tokens = [join(server) for _ in range(2)]

    async def open_client(role: str, path: str, token: str) -> Client:
        ws = await connect(server.ws_url(path, token), max_size=2**22, open_timeout=TIMEOUT)
        client = Client(role, ws, contract)
        await client.wait(lambda m: m["type"] == "hello")
        return client

    producer = await open_client("producer", "producer", t.producer)
    team = await open_client("team", "team", t.team)
    display = await open_client("display", "display", t.display)
    site_display = await open_client("display", "display", next(iter(t.site_displays.values())))
    table = await open_client("table", "table", t.tables[1])
    phones = [await open_client("participant", "phone", tok) for tok in phone_tokens]
    everyone = [producer, team, display, site_display, table, *phones]
    try:
        polls = {p["key"]: p["id"] for p in producer.received[0]["event"]["polls"]}
        questions = producer.received[0]["event"]["rounds"][0]["questions"]

        for client in everyone:
            await client.send({"type": "ping"})
            await client.wait(lambda m: m["type"] == "pong")
        assert (await display.write({"type": "vote", "poll_id": 1, "seq": 1}))["code"]
        await table.send({"type": "nonsense"})
        await table.wait(lambda m: m.get("code") == "unknown_type")

        assert (await producer.write({"type": "set_question", "question_id": questions[0]["id"]}))[
            "type"
        ] == "ack"
        await table.wait(lambda m: m["type"] == "question")
        acks = [
            await table.write({"type": "comment", "seq": i + 1, "text": text})
            for i, text in enumerate(sample_texts(30))
        ]
        assert all(a["type"] == "ack" for a in acks)
        await table.write({"type": "star", "comment": acks[0]["id"], "star": True})
        await team.wait(lambda m: m["type"] == "star")
        placed = {a["comment_id"] for a in acks}
        themed = await team.wait(
            lambda m: (
                m["type"] == "themes"
                and {c for th in m["themes"] for c in th["members"]} | set(m["unassigned"])
                >= placed
            )
        )
        qid = themed["question_id"]
        assert (await team.write({"type": "retheme", "question_id": qid}))["type"] == "ack"
        fresh = (await team.write({"type": "sync", "question_id": qid}))["themes"]["themes"]
        assert len(fresh) >= 2, "the sample comments should make at least two themes"
        renamed = await team.write(
            {
                "type": "rename",
                "question_id": qid,
                "theme": fresh[0]["key"],
                "version": fresh[0]["version"],
                "label": "Libraries and buses",
            }
        )
        assert renamed["type"] == "ack", renamed
        fresh = (await team.write({"type": "sync", "question_id": qid}))["themes"]["themes"]
        published = await team.write(
            {
                "type": "publish",
                "question_id": qid,
                "themes": {th["key"]: th["version"] for th in fresh},
            }
        )
        assert published["type"] == "ack", published
        await display.wait(lambda m: m["type"] == "published")
        drafted = await producer.write(
            {"type": "poll_from_themes", "question_id": qid, "kind": "multi"}
        )
        assert drafted["type"] == "ack", drafted

        for p in phones:
            assert (await p.write({"type": "demographics", "answers": {"age": "16-29"}}))[
                "type"
            ] == "ack"
        await display.wait(lambda m: m["type"] == "demographics")

        # A poll asked twice: before, then after (opening it closes the first).
        await producer.write({"type": "screen", "mode": "poll"})
        await producer.write({"type": "open_poll", "poll_id": polls["trust-before"]})
        for p in phones:
            await p.write(
                {"type": "vote", "poll_id": polls["trust-before"], "seq": 1, "choice": ["2"]}
            )
        opened = await producer.write({"type": "open_poll", "poll_id": polls["trust-after"]})
        assert opened["closed"] == [polls["trust-before"]]
        late = await phones[0].write(
            {"type": "vote", "poll_id": polls["trust-before"], "seq": 2, "choice": ["3"]}
        )
        assert late["code"] == "poll_closed"
        vote_acks = [
            await p.write(
                {"type": "vote", "poll_id": polls["trust-after"], "seq": 1, "choice": ["4"]}
            )
            for p in phones
        ]
        newest = max(a["version"] for a in vote_acks)
        tally = await display.wait(
            lambda m: (
                m["type"] == "tally"
                and m["poll"]["id"] == polls["trust-after"]
                and m["version"] > newest
            )
        )
        assert tally["turnout"] == 2
        await site_display.wait(lambda m: m["type"] == "tally")
        await display.wait(lambda m: m["type"] == "breakdown")
        await display.wait(lambda m: m["type"] == "shift")

        # A budget poll: the table's consensus and phones' allocations.
        await producer.write({"type": "open_poll", "poll_id": polls["spread-100"], "seconds": 600})
        await table.wait(lambda m: m["type"] == "poll" and m["poll"]["status"] == "open")
        amounts = {"housing": 60, "parks": 40}
        assert (
            await table.write(
                {"type": "table_allocation", "poll_id": polls["spread-100"], "amounts": amounts}
            )
        )["type"] == "ack"
        await phones[0].write(
            {"type": "vote", "poll_id": polls["spread-100"], "seq": 1, "amounts": amounts}
        )
        await display.wait(lambda m: m["type"] == "tally" and "budget" in m)
        await producer.write({"type": "close_poll", "poll_id": polls["spread-100"]})

        # The evaluation survey and a follow-up address.
        await producer.write({"type": "open_evaluation"})
        await phones[0].wait(lambda m: m["type"] == "evaluation" and m["evaluation"])
        await phones[0].write({"type": "evaluation", "answers": {"themes": 4}})
        await phones[0].write({"type": "followup", "email": "someone@example.org"})
        await producer.wait(lambda m: m["type"] == "evaluation_summary")
        await producer.write({"type": "close_evaluation"})

        reissued = await producer.write({"type": "reissue_token", "role": "table", "table": 2})
        assert reissued["type"] == "ack" and reissued["token"]
        revoked = await producer.write({"type": "revoke_token", "role": "table", "table": 3})
        assert revoked["type"] == "ack"

        # Reconnecting clients get a hello with everything above in it.
        for role, path, token in [
            ("display", "display", t.display),
            ("team", "team", t.team),
            ("producer", "producer", t.producer),
            ("participant", "phone", phone_tokens[0]),
            ("table", "table", t.tables[1]),
        ]:
            again = await open_client(role, path, token)
            everyone.append(again)
    finally:
        for client in everyone:
            await client.ws.close()
            await asyncio.wait_for(client.task, TIMEOUT)
    failures = [c.failure for c in everyone if c.failure is not None]
    assert not failures, failures[0]


def test_the_servers_own_check_refuses_what_the_spec_lacks() -> None:
    """TOWNHALL_CHECK_PROTOCOL (on in the test suite) uses the same models."""
    outgoing.check("participant", {"type": "pong"})
    with pytest.raises(outgoing.ProtocolBreach):
        outgoing.check("participant", {"type": "pong", "extra": 1})
    with pytest.raises(outgoing.ProtocolBreach, match="not meant to receive"):
        outgoing.check("table", {"type": "tally"})


def test_what_each_role_may_send_is_what_the_routing_table_routes() -> None:
    """The spec's per-role messages and the server's routing table are one list."""

    async def handler(who: object, msg: object) -> None: ...

    writer = SimpleNamespace(submit=handler, answer=handler, open=handler, close=handler)
    services = routes.Services(
        db=None,  # type: ignore[arg-type]
        votes=writer,  # type: ignore[arg-type]
        comments=writer,  # type: ignore[arg-type]
        demographics=writer,  # type: ignore[arg-type]
        evaluation=writer,  # type: ignore[arg-type]
        admin=SimpleNamespace(handle=handler),  # type: ignore[arg-type]
        team=SimpleNamespace(handle=handler, poll_from_themes=handler),
    )
    routed = set(routes.routing_table(services))
    spec = {
        (role, outgoing.message_type(model))
        for role, models in asyncapi.SENDS.items()
        for model in models
        if outgoing.message_type(model) != "ping"  # answered before routing, by every role
    }
    assert spec == routed
