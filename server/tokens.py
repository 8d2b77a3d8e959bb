"""Role tokens: unguessable, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.errors import Forbidden
from server.models import AccessToken

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
) -> int:
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
    return len(rows)
