"""Role tokens: unguessable, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core.errors import Forbidden
from server.storage.models import AccessToken

ROLES = ("producer", "team", "table", "display", "participant")


def new_token() -> str:
    # 20 random bytes = 160 bits, comfortably above the 128-bit floor.
    return secrets.token_urlsafe(20)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is on the other end of a connection."""

    role: str
    event_id: int
    token_id: int
    table_id: int | None = None
    participant_id: int | None = None
    label: str = ""
    # The address the connection reached the server at, for links sent back to it.
    base_url: str = ""


async def issue(
    session: AsyncSession,
    event_id: int,
    role: str,
    *,
    table_id: int | None = None,
    participant_id: int | None = None,
    label: str = "",
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    token = new_token()
    session.add(
        AccessToken(
            event_id=event_id,
            role=role,
            token_hash=token_hash(token),
            table_id=table_id,
            participant_id=participant_id,
            label=label,
        )
    )
    return token


async def authenticate(session: AsyncSession, token: str | None, *roles: str) -> Principal:
    if not token:
        raise Forbidden("a token is required")
    row = (
        await session.exec(select(AccessToken).where(AccessToken.token_hash == token_hash(token)))
    ).first()
    return principal_of(row, roles)


async def tokens_by_hash(
    session: AsyncSession, hashes: list[str]
) -> dict[str, AccessToken | None]:
    """The stored tokens with these hashes, in one query (None: no such token)."""
    found: dict[str, AccessToken | None] = dict.fromkeys(hashes)
    rows = await session.exec(select(AccessToken).where(col(AccessToken.token_hash).in_(hashes)))
    for row in rows.all():
        found[row.token_hash] = row
    return found


def principal_of(row: AccessToken | None, roles: tuple[str, ...]) -> Principal:
    """Who a stored token stands for, if it is live and of one of ``roles`` (any if none)."""
    if row is None or row.revoked:
        raise Forbidden("this link is not valid (unknown or revoked token)")
    if roles and row.role not in roles:
        raise Forbidden(f"this link is for the {row.role} role, not {' or '.join(roles)}")
    assert row.id is not None
    return Principal(
        role=row.role,
        event_id=row.event_id,
        token_id=row.id,
        table_id=row.table_id,
        participant_id=row.participant_id,
        label=row.label,
    )


async def revoke_role_tokens(
    session: AsyncSession, event_id: int, role: str, table_id: int | None = None
) -> list[int]:
    """Mark every live token of one role (one table's, if given) revoked; returns their
    ids so open connections can be closed. The caller commits."""
    q = select(AccessToken).where(
        AccessToken.event_id == event_id,
        AccessToken.role == role,
        AccessToken.revoked == False,  # noqa: E712
    )
    if table_id is not None:
        q = q.where(AccessToken.table_id == table_id)
    rows = (await session.exec(q)).all()
    for r in rows:
        r.revoked = True
        session.add(r)
    return [r.id for r in rows if r.id is not None]


# Labels the loader gives each shared role's token; a table's token is labelled by its name.
ROLE_LABELS = {"producer": "producer", "team": "theme team", "display": "screens"}


async def reissue(
    session: AsyncSession, event_id: int, role: str, table_id: int | None = None, label: str = ""
) -> tuple[str, list[int]]:
    """Revoke a role's (or one table's) tokens and issue one fresh token in their place.
    Returns the new token (shown once) and the revoked ids. The caller commits."""
    if role == "participant":
        raise ValueError("participant tokens are issued by joining, not by the producer")
    if (role == "table") != (table_id is not None):
        raise ValueError("a table token needs a table, and only a table token has one")
    revoked = await revoke_role_tokens(session, event_id, role, table_id)
    token = await issue(
        session, event_id, role, table_id=table_id, label=label or ROLE_LABELS.get(role, role)
    )
    return token, revoked
