"""Comments and themes as the team, the screens, the tables and the trace view are sent them."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.storage.models import Comment, EventTable, Site, Theme, ThemeMembership, iso

TABLE_COMMENTS = 300  # a table's hello carries at most this many of its comments


def comment_view(
    c: Comment, table: EventTable | None = None, site: Site | None = None
) -> dict[str, Any]:
    return {
        "id": c.id,
        "table": table.name if table else None,
        "table_id": c.table_id,
        "site": site.name if site else None,
        "question_id": c.question_id,
        "text": c.text,
        "star": c.star,
        "at": iso(c.created_at),
    }


async def comments_view(
    s: AsyncSession, event_id: int, question_id: int | None = None
) -> list[dict[str, Any]]:
    q = (
        select(Comment, EventTable, Site)
        .join(EventTable, col(Comment.table_id) == EventTable.id)
        .join(Site, col(EventTable.site_id) == Site.id)
        .where(Comment.event_id == event_id)
    )
    if question_id is not None:
        q = q.where(Comment.question_id == question_id)
    rows = (await s.exec(q.order_by(col(Comment.id)))).all()
    return [comment_view(c, t, site) for c, t, site in rows]


async def table_comments(
    s: AsyncSession, table_id: int, limit: int = TABLE_COMMENTS
) -> list[dict[str, Any]]:
    """The table's latest ``limit`` stored comments, in seq order, as its own
    page keeps them: a facilitator who opens the table's link on another
    laptop sees what the table has said, not an empty list."""
    q = (
        select(Comment)
        .where(Comment.table_id == table_id)
        .order_by(col(Comment.seq).desc())
        .limit(limit)
    )
    rows = (await s.exec(q)).all()
    return [table_comment_view(c) for c in reversed(rows)]


def table_comment_view(c: Comment) -> dict[str, Any]:
    """A comment as its table's devices keep it (``TableComment`` in the protocol)."""
    return {
        "id": c.client_id,
        "comment_id": c.id,
        "seq": c.seq,
        "text": c.text,
        "question_id": c.question_id,
        "star": c.star,
    }


async def memberships(s: AsyncSession, theme_ids: list[int]) -> dict[int, list[int]]:
    """The comment ids of each of these themes, in one query."""
    members: dict[int, list[int]] = defaultdict(list)
    if theme_ids:
        rows = await s.exec(
            select(ThemeMembership.theme_id, ThemeMembership.comment_id).where(
                col(ThemeMembership.theme_id).in_(theme_ids)
            )
        )
        for tid, cid in rows.all():
            members[tid].append(cid)
    return members


async def themes_view(
    s: AsyncSession,
    event_id: int,
    published_only: bool = False,
    question_id: int | None = None,
) -> list[dict[str, Any]]:
    """Themes with members and quotes, in three queries whatever their number
    (this runs after every theming batch, with thousands of comments)."""
    q = select(Theme).where(Theme.event_id == event_id)
    if published_only:
        q = q.where(Theme.published == True)  # noqa: E712
    if question_id is not None:
        q = q.where(Theme.question_id == question_id)
    themes = (await s.exec(q.order_by(col(Theme.id)))).all()
    members = await memberships(s, [t.id for t in themes if t.id is not None])
    quote_ids = {t.id: json.loads(t.quotes)[:3] for t in themes}
    wanted = {cid for qs in quote_ids.values() for cid in qs}
    texts: dict[int, Comment] = {}
    if wanted:
        found = await s.exec(select(Comment).where(col(Comment.id).in_(wanted)))
        texts = {c.id: c for c in found.all() if c.id is not None}
    out = []
    for t in themes:
        assert t.id is not None
        quotes = [
            {"id": c.id, "text": c.text, "table_id": c.table_id}
            for cid in quote_ids[t.id]
            if (c := texts.get(cid)) is not None
        ]
        out.append(
            {
                "id": t.id,
                "key": t.key,
                "question_id": t.question_id,
                "label": t.label,
                "size": len(members[t.id]),
                "members": sorted(members[t.id]),
                "quotes": quotes,
                "published": t.published,
                "version": t.version,
            }
        )
    return out
