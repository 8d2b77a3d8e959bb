"""Token administration from the producer's console: re-issue or revoke a role's
link. Only token hashes are stored, so an old link can never be shown again; a
revocation closes the old links' connections (4001) in every process, through the
hub topic REVOCATIONS, once the producer has the ack (their own link may be the
one re-issued)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from sqlmodel import select

from server.core import errors
from server.protocol.messages import ReissueTokenMsg, RevokeTokenMsg
from server.protocol.outcome import Outcome
from server.storage import tokens
from server.storage.db import Database
from server.storage.models import EventTable
from server.storage.tokens import Principal

log = logging.getLogger("townhall.admin")

# Hub topic on which every process hears which token ids were revoked.
REVOCATIONS = "revocations"
# Resends of a re-issue get the same ack (and token) while this process remembers it.
_REMEMBERED_ACKS = 200

AdminMsg = ReissueTokenMsg | RevokeTokenMsg


def link_for(base_url: str, role: str, token: str) -> str:
    base = base_url.rstrip("/")
    if role == "table":
        return f"{base}/t/{token}"
    page = {"team": "team", "display": "screen", "producer": "producer"}[role]
    return f"{base}/{page}?token={token}"


def revoked_notice(token_ids: list[int]) -> tuple[str, dict[str, Any]]:
    """The hub message that closes these tokens' connections in every process."""
    return REVOCATIONS, {"type": "revoked", "token_ids": token_ids}


class TokenAdmin:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._acks: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()

    async def handle(self, who: Principal, msg: AdminMsg) -> Outcome:
        key = (who.token_id, msg.id)  # a client id is its sender's (docs/security.md)
        if key in self._acks:
            return Outcome(ack=self._acks[key])
        if (msg.role == "table") != (msg.table is not None):
            raise errors.InvalidMessage("table: give a table number for role 'table' only")
        if msg.type == "revoke_token" and msg.role == "producer":
            raise errors.InvalidMessage(
                "revoking the producer link would lock everyone out; re-issue it instead"
            )
        async with self.db.writer() as s:
            table = None
            if msg.table is not None:
                table = await _table_by_number(s, who.event_id, msg.table)
            ack: dict[str, Any] = {"role": msg.role}
            if msg.table is not None:
                ack["table"] = msg.table
            if msg.type == "reissue_token":
                label = table.name if table is not None else ""
                table_id = table.id if table is not None else None
                token, revoked = await tokens.reissue(s, who.event_id, msg.role, table_id, label)
                ack |= {"token": token, "link": link_for(who.base_url, msg.role, token)}
            else:
                table_id = table.id if table is not None else None
                revoked = await tokens.revoke_role_tokens(s, who.event_id, msg.role, table_id)
            await s.commit()
        ack["revoked"] = len(revoked)
        log.info("producer %s for %s: %d old token(s) revoked", msg.type, _what(msg), len(revoked))
        self._acks[key] = ack
        while len(self._acks) > _REMEMBERED_ACKS:
            self._acks.popitem(last=False)
        return Outcome(ack=ack, after_reply=[revoked_notice(revoked)] if revoked else [])


def _what(msg: AdminMsg) -> str:
    return f"table {msg.table}" if msg.table is not None else msg.role


async def _table_by_number(s: Any, event_id: int, number: int) -> EventTable:
    q = select(EventTable).where(EventTable.event_id == event_id, EventTable.number == number)
    table = (await s.exec(q)).first()
    if table is None:
        raise errors.NotFound(f"there is no table {number}")
    return table  # type: ignore[no-any-return]
