"""The traceability view: every theme back to the citizens' own words (with
table, site and time) and the curation steps that shaped it.

Open to anyone with the display link (published themes only: what the room
saw); the team and producer links see every theme. Rendered on the server,
escaped by Jinja.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
    Event,
    EventTable,
    Question,
    Site,
    Theme,
    ThemeMembership,
    iso,
)
from server.themes.conflicts import mentions
from server.web.pages import render
from server.web.trace_steps import fold_runs, step_view

ROLES = ("display", "team", "producer")


async def trace_data(s: AsyncSession, event_id: int, everything: bool) -> list[dict[str, Any]]:
    """Per question, in agenda order: its themes (published first, biggest first),
    each with member comments and the curation steps that mention it."""
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
    questions = (
        await s.exec(
            select(Question).where(Question.event_id == event_id).order_by(col(Question.id))
        )
    ).all()
    out: dict[int, dict[str, Any]] = {
        qq.id: {"id": qq.id, "text": qq.text, "themes": []} for qq in questions if qq.id is not None
    }
    for t in themes:
        comments = by_theme.get(t.id or 0, [])
        steps = _steps(logs, t)
        out[t.question_id]["themes"].append(
            {
                "key": t.key,
                "anchor": f"q{t.question_id}-{t.key}",
                "label": t.label,
                "published": t.published,
                "comments": comments,
                "tables": len({c["table"] for c in comments}),
                "sites": len({c["site"] for c in comments}),
                "steps": steps,
                # Each step of a folded run counts (fold_runs keeps them inside it).
                "step_count": sum(len(st.get("steps") or [st]) for st in steps),
            }
        )
    for block in out.values():
        block["themes"].sort(key=lambda th: (not th["published"], -len(th["comments"])))
    return [block for block in out.values() if block["themes"]]


def _steps(logs: Sequence[CurationLog], theme: Theme) -> list[dict[str, Any]]:
    """The logged steps that mention ``theme``, as the page tells them."""
    return fold_runs(
        [
            step_view(r, theme.key, iso(r.at))
            for r in logs
            if r.question_id == theme.question_id and mentions(r, theme.key)
        ]
    )


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
        event = await s.get(Event, who.event_id)
    return render(
        request,
        "trace.html",
        questions=questions,
        everything=everything,
        title=event.title if event else "",
        shown=sum(len(q["themes"]) for q in questions),
    )
