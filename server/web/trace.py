"""The traceability view: every theme back to the citizens' own words (with
table, site and time) and the curation steps that shaped it.

Open to anyone with the display link (published themes only); the team and
producer links see every theme. Rendered on the server, escaped by Jinja.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.storage import theme_store
from server.storage.models import (
    Comment,
    CurationLog,
    EventTable,
    Question,
    Site,
    Theme,
    ThemeMembership,
    iso,
)
from server.web.pages import render

ROLES = ("display", "team", "producer")


def _mentions(row: CurationLog, key: str) -> bool:
    # Merge sources and split-off themes appear inside before/after, not as theme_key.
    quoted = f'"{key}"'
    return row.theme_key == key or quoted in row.before or quoted in row.after


def step_view(row: CurationLog) -> dict[str, Any]:
    after = json.loads(row.after)
    after.pop("op_id", None)
    after.pop("ack", None)
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "before": json.dumps(json.loads(row.before), ensure_ascii=False)[:600],
        "after": json.dumps(after, ensure_ascii=False)[:600],
    }


async def trace_data(s: AsyncSession, event_id: int, everything: bool) -> list[dict[str, Any]]:
    """Per question: its themes, each with member comments and curation steps."""
    q = select(Theme).where(Theme.event_id == event_id)
    if not everything:
        q = q.where(Theme.published == True)  # noqa: E712
    themes = (await s.exec(q.order_by(col(Theme.question_id), col(Theme.id)))).all()
    logs = (
        await s.exec(
            select(CurationLog)
            .where(CurationLog.event_id == event_id)
            .order_by(col(CurationLog.id))
        )
    ).all()
    members = (
        await s.exec(
            select(ThemeMembership.theme_id, Comment, EventTable, Site)
            .join(Comment, col(ThemeMembership.comment_id) == Comment.id)
            .join(EventTable, col(Comment.table_id) == EventTable.id)
            .join(Site, col(EventTable.site_id) == Site.id)
            .where(col(ThemeMembership.theme_id).in_([t.id for t in themes]))
            .order_by(col(Comment.id))
        )
    ).all()
    by_theme: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for theme_id, c, table, site in members:
        by_theme[theme_id].append(theme_store.comment_view(c, table, site))
    questions = {
        qq.id: qq
        for qq in (await s.exec(select(Question).where(Question.event_id == event_id))).all()
    }
    out: dict[int, dict[str, Any]] = {}
    for t in themes:
        question = questions.get(t.question_id)
        block = out.setdefault(
            t.question_id, {"text": question.text if question else "", "themes": []}
        )
        block["themes"].append(
            {
                "key": t.key,
                "label": t.label,
                "published": t.published,
                "comments": by_theme.get(t.id or 0, []),
                "steps": [
                    step_view(r)
                    for r in logs
                    if r.question_id == t.question_id and _mentions(r, t.key)
                ],
            }
        )
    return list(out.values())


async def trace_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    meeting = request.app.state.meeting
    try:
        who = await meeting.authenticate(token, *ROLES)
    except errors.Forbidden as exc:
        return render(request, "error.html", status=403, message=exc.message)
    everything = who.role != "display"
    async with meeting.db.session() as s:
        questions = await trace_data(s, who.event_id, everything)
    return render(request, "trace.html", questions=questions, everything=everything)
