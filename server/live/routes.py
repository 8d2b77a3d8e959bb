"""The routing table: every message a connection may send, by role, and what
handles it. One place: a (role, type) pair missing here is refused as
``forbidden``, whatever the schema in ``server.protocol.messages`` accepts.

A handler takes the sender and the validated message, and returns the Outcome
once the write is committed. Votes, comments and demographic answers go through a group commit; the
theme team's ops go to the workbench where this process themes, or are forwarded
to the process that does (``TeamOps``); the other writes commit one by one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from server.live import followup, writes
from server.live.evaluation_service import EvaluationService
from server.live.group_commit import GroupCommit
from server.live.token_admin import TokenAdmin
from server.protocol.messages import TEAM_OPS
from server.protocol.outcome import Outcome
from server.storage.db import Database
from server.storage.tokens import Principal

Handler = Callable[[Principal, Any], Awaitable[Outcome]]

# The writes that go to a group commit. Its queue keeps the order they were handed
# over in, and handing one over does not wait, so a connection may pass on the next
# of these before the last is committed: a table's backlog of comments then shares
# commits instead of paying one durable commit each (on PostgreSQL, a disk flush).
# Every other message waits until these are answered (``web.websocket``).
PIPELINED: frozenset[tuple[str, str]] = frozenset(
    {("table", "comment"), ("participant", "vote"), ("participant", "demographics")}
)

Write = Callable[[AsyncSession, Principal, Any], Awaitable[Outcome]]


class TeamOps(Protocol):
    """The theme team's curation ops and the producer's poll from themes: the
    workbench (``server.themes.workbench``) or a forwarder to it (``server.themes.rpc``)."""

    async def handle(self, who: Principal, msg: Any) -> Outcome: ...

    async def poll_from_themes(self, who: Principal, msg: Any) -> Outcome: ...


@dataclass
class Services:
    """What handles the writes in this process (built by ``Meeting.start``)."""

    db: Database
    votes: GroupCommit
    comments: GroupCommit
    demographics: GroupCommit
    evaluation: EvaluationService
    admin: TokenAdmin
    team: TeamOps | None  # None: this process cannot take the team's ops

    def committed(self, write: Write) -> Handler:
        """A write that commits on its own, in a session of its own."""

        async def handle(who: Principal, msg: Any) -> Outcome:
            async with self.db.writer() as s:
                return await write(s, who, msg)

        return handle


def routing_table(sv: Services) -> dict[tuple[str, str], Handler]:
    table: dict[tuple[str, str], Handler] = {
        ("table", "comment"): sv.comments.submit,
        ("table", "star"): sv.committed(writes.star),
        ("table", "table_allocation"): sv.committed(writes.table_allocation),
        ("participant", "demographics"): sv.demographics.submit,
        ("participant", "vote"): sv.votes.submit,
        ("participant", "evaluation"): sv.evaluation.answer,
        ("participant", "followup"): sv.committed(followup.leave),
        ("producer", "set_question"): sv.committed(writes.set_question),
        ("producer", "open_poll"): sv.committed(writes.open_poll),
        ("producer", "close_poll"): sv.committed(writes.close_poll),
        ("producer", "screen"): sv.committed(writes.show_on_screen),
        ("producer", "screen_follow"): sv.committed(writes.screen_follow),
        ("producer", "open_evaluation"): sv.evaluation.open,
        ("producer", "close_evaluation"): sv.evaluation.close,
        ("producer", "reissue_token"): sv.admin.handle,
        ("producer", "revoke_token"): sv.admin.handle,
    }
    if sv.team is not None:
        table[("producer", "poll_from_themes")] = sv.team.poll_from_themes
        table |= {("team", op): sv.team.handle for op in TEAM_OPS}
    return table
