"""Write side: each client write, committed before it is acked.

Every function takes a session, the principal and the parsed message, and
returns the extra ack fields plus what to publish once the commit is done.
Resends (same client id) return the same ack and change nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.core import ballots, budget
from server.core import tally as tallying
from server.core.errors import Conflict, InvalidMessage, NotFound
from server.protocol import messages as p
from server.protocol.outcome import Outcome, table_topic
from server.storage import screen_state, theme_store
from server.storage.models import (
    Comment,
    Event,
    EventTable,
    Poll,
    Question,
    TableAllocation,
    utcnow,
)
from server.storage.poll_store import poll_options
from server.storage.tokens import Principal


async def comment(s: AsyncSession, who: Principal, msg: p.CommentMsg) -> Outcome:
    outcome = await apply_comment(s, who, msg)
    if not s.info.get(NEW_COMMENTS):  # a resend: nothing to store
        return outcome
    try:
        await insert_new_comments(s)
        await s.commit()
    except IntegrityError:
        # The same comment arrived twice at once (two connections): the other won.
        await s.rollback()
        existing = await _own_comment(s, who, msg.id)
        if existing is None:
            raise
        return Outcome(ack={"comment_id": existing.id, "seq": existing.seq})
    return outcome


COMMENTS = "comments"  # session.info key: (table id, client id) -> Comment or None
# session.info key: (table id, client id) -> (Comment staged, not yet inserted, and the
# outcomes to answer with its id: the comment's own first, then resends in the batch)
NEW_COMMENTS = "new comments"


async def prefetch_comments(s: AsyncSession, batch: list[tuple[Principal, Any]]) -> None:
    """Read what a whole group commit of comments needs in three queries: the
    comments already stored under these client ids (resends), the tables, and
    the events. Without it each comment made three reads of its own, each
    first flushing the comment staged before it. A client id is the sending
    table's own (another table may use the same one)."""
    keys = [
        (who.table_id, msg.id)
        for who, msg in batch
        if who.table_id is not None and isinstance(getattr(msg, "id", None), str)
    ]
    found: dict[tuple[int, str], Comment | None] = s.info.setdefault(COMMENTS, {})
    if keys:
        rows = await s.exec(
            select(Comment).where(
                col(Comment.client_id).in_({i for _, i in keys}),
                col(Comment.table_id).in_({t for t, _ in keys}),
            )
        )
        for row in rows.all():
            found.setdefault((row.table_id, row.client_id), row)
        for key in keys:
            found.setdefault(key, None)
    held: dict[Any, Any] = s.info.setdefault("rows", {})
    tables = {who.table_id for who, _ in batch if who.table_id is not None}
    if tables:
        for table in (await s.exec(select(EventTable).where(col(EventTable.id).in_(tables)))).all():
            held[(EventTable, table.id)] = table
    events = {who.event_id for who, _ in batch}
    for event in (await s.exec(select(Event).where(col(Event.id).in_(events)))).all():
        held[(Event, event.id)] = event


async def _held(s: AsyncSession, model: Any, key: int) -> Any:
    """A row read once per transaction and held there (the identity map holds
    rows weakly, and a re-read would autoflush what is staged)."""
    held: dict[Any, Any] = s.info.setdefault("rows", {})
    if (model, key) not in held:
        held[(model, key)] = await s.get(model, key)
    return held[(model, key)]


async def apply_comment(s: AsyncSession, who: Principal, msg: p.CommentMsg) -> Outcome:
    """Stage one comment without committing: comments are group-committed like
    votes, and inserted together by ``insert_new_comments``, which fills in the
    ids the acks carry. Every refusal is raised before staging."""
    assert who.table_id is not None
    found: dict[tuple[int, str], Comment | None] = s.info.get(COMMENTS, {})
    if (who.table_id, msg.id) in found:
        existing = found[(who.table_id, msg.id)]
    else:  # not prefetched by a group commit: read it alone
        existing = await _own_comment(s, who, msg.id)
    if existing is not None:
        staged = s.info.get(NEW_COMMENTS, {}).get((who.table_id, msg.id))
        resend = Outcome(ack={"comment_id": existing.id, "seq": existing.seq})
        if staged is not None:  # sent twice in this batch: answered once it has its id
            staged[1].append(resend)
        return resend
    table = await _held(s, EventTable, who.table_id)
    assert table is not None
    if msg.seq <= table.last_seq:
        raise Conflict(
            f"sequence {msg.seq} was already used by another comment from this table "
            f"(last is {table.last_seq}); number new comments after it"
        )
    question_id = msg.question_id
    if question_id is not None:
        q = await _held(s, Question, question_id)
        if q is None or q.event_id != who.event_id:
            raise InvalidMessage(f"question {question_id} is not part of this event")
    else:
        ev = await _held(s, Event, who.event_id)
        question_id = ev.current_question_id if ev else None
    row = Comment(
        event_id=who.event_id,
        table_id=who.table_id,
        question_id=question_id,
        client_id=msg.id,
        seq=msg.seq,
        text=msg.text,
        star=msg.star,
        created_at=utcnow(),  # given: pydantic's default factory inspected itself per row
    )
    table.last_seq = msg.seq
    s.add(table)
    outcome = Outcome(ack={"comment_id": None, "seq": row.seq}, comment_row=row)
    s.info.setdefault(NEW_COMMENTS, {})[(who.table_id, msg.id)] = (row, [outcome])
    # The same comment twice in one batch: the second is a resend.
    s.info.setdefault(COMMENTS, {})[(who.table_id, msg.id)] = row
    return outcome


async def insert_new_comments(s: AsyncSession) -> None:
    """Insert the comments staged in the session in one statement (before its commit),
    and answer their outcomes with the ids. A flush per comment (an ORM unit of work
    and a round trip to the database each) was most of a comment batch's cost."""
    staged = s.info.pop(NEW_COMMENTS, None)
    if not staged:
        return
    columns = ("event_id", "table_id", "question_id", "client_id", "seq", "text", "star")
    rows = [row for row, _ in staged.values()]
    values = [{c: getattr(row, c) for c in (*columns, "created_at")} for row in rows]
    stmt = insert(Comment).returning(col(Comment.id), sort_by_parameter_order=True)
    ids = (await (await s.connection()).execute(stmt, values)).scalars().all()
    for (row, outcomes), new_id in zip(staged.values(), ids, strict=True):
        row.id = new_id
        outcomes[0].new_comment = new_id
        for outcome in outcomes:
            outcome.ack["comment_id"] = new_id


async def _own_comment(s: AsyncSession, who: Principal, client_id: str) -> Comment | None:
    """A client id names a comment of the sending table only (another table may use it)."""
    q = select(Comment).where(Comment.table_id == who.table_id, Comment.client_id == client_id)
    return (await s.exec(q)).first()


async def star(s: AsyncSession, who: Principal, msg: p.StarMsg) -> Outcome:
    row = await _own_comment(s, who, msg.comment)
    if row is None:
        raise NotFound("no such comment from this table")
    row.star = msg.star
    s.add(row)
    await s.commit()
    return Outcome(
        events=[
            (f"comments:{who.event_id}", {"type": "star", "comment_id": row.id, "star": row.star}),
            table_comment_push(row),
        ]
    )


def table_comment_push(c: Comment) -> tuple[str, dict[str, Any]]:
    """A stored comment (new, or its star changed) for every connection of its table."""
    view = theme_store.table_comment_view(c)
    return table_topic(c.event_id, c.table_id), {"type": "table_comment", "comment": view}


async def table_allocation(s: AsyncSession, who: Principal, msg: p.TableAllocationMsg) -> Outcome:
    """Commit a table's consensus allocation (latest wins)."""
    poll_id, amounts, client_id = msg.poll_id, msg.amounts, msg.id
    assert who.table_id is not None
    poll = await s.get(Poll, poll_id)
    if poll is None or poll.event_id != who.event_id:
        raise NotFound(f"poll {poll_id} does not exist")
    row = (
        await s.exec(
            select(TableAllocation).where(
                TableAllocation.poll_id == poll_id, TableAllocation.table_id == who.table_id
            )
        )
    ).first()
    if row is not None and row.client_id == client_id:
        return Outcome(ack={"poll_id": poll_id, "amounts": json.loads(row.amounts)})
    if poll.kind != "allocation":
        raise InvalidMessage("tables can only send allocations for an allocation poll")
    if poll.status == "draft":
        raise InvalidMessage("this poll has not been opened yet")
    try:
        bp = ballots.budget_poll(poll, await poll_options(s, poll_id))
        clean = budget.validate_amounts(bp, amounts)
    except tallying.BallotError as exc:
        raise InvalidMessage(exc.msgid, **exc.values) from exc
    if row is None:
        row = TableAllocation(poll_id=poll_id, table_id=who.table_id, amounts="", client_id="")
    row.amounts, row.client_id, row.updated_at = json.dumps(clean), client_id, utcnow()
    s.add(row)
    try:
        await s.commit()
    except IntegrityError as exc:
        # The same table sent from two laptops at once; the other one's write stands.
        await s.rollback()
        raise InvalidMessage("another allocation from this table arrived at once; resend") from exc
    return Outcome(ack={"poll_id": poll_id, "amounts": clean}, dirty_poll=poll_id)


async def set_question(s: AsyncSession, who: Principal, msg: p.SetQuestionMsg) -> Outcome:
    ev = await s.get(Event, who.event_id)
    assert ev is not None
    if msg.question_id is not None:
        q = await s.get(Question, msg.question_id)
        if q is None or q.event_id != who.event_id:
            raise NotFound(f"question {msg.question_id} does not exist")
    ev.current_question_id = msg.question_id
    s.add(ev)
    await s.commit()
    return Outcome(events=[(f"event:{who.event_id}", {"type": "question_changed"})])


async def open_poll(s: AsyncSession, who: Principal, msg: p.OpenPollMsg) -> Outcome:
    """Open a poll and close any other open poll of the event, in one commit.

    A room has one question on its phones at a time: a phone's ``hello`` shows
    "the open poll", so two open polls would leave votes going to one nobody sees.
    """
    poll = await _own_poll(s, who, msg.poll_id)
    now = utcnow()
    others = (
        await s.exec(
            select(Poll).where(
                Poll.event_id == who.event_id, Poll.status == "open", Poll.id != poll.id
            )
        )
    ).all()
    for other in others:
        other.status, other.closes_at = "closed", now
        s.add(other)
    poll.status = "open"
    poll.opened_at = now
    poll.closes_at = now + timedelta(seconds=msg.seconds) if msg.seconds else None
    closed = sorted(o.id for o in others if o.id is not None)
    outcome = await _poll_changed(s, who, poll, also=closed)
    outcome.ack = {"closed": closed}
    if poll.closes_at is not None and poll.id is not None:
        outcome.timer = (poll.id, poll.closes_at)
    return outcome


async def close_poll(s: AsyncSession, who: Principal, msg: p.ClosePollMsg) -> Outcome:
    poll = await _own_poll(s, who, msg.poll_id)
    poll.status = "closed"
    poll.closes_at = utcnow()
    return await _poll_changed(s, who, poll)


async def close_poll_if_due(s: AsyncSession, who: Principal, poll_id: int) -> Outcome | None:
    """Close a poll whose timer has run out, as the producer's Close would; None when
    it was closed, reopened without a timer or given more time meanwhile."""
    poll = await s.get(Poll, poll_id)
    if poll is None or poll.event_id != who.event_id or poll.status != "open":
        return None
    if poll.closes_at is None or poll.closes_at > utcnow():
        return None
    poll.status = "closed"  # closes_at stays: the moment the timer ran out
    return await _poll_changed(s, who, poll)


async def _poll_changed(
    s: AsyncSession, who: Principal, poll: Poll, also: list[int] | None = None
) -> Outcome:
    """Commit an opened or closed poll (and ``also`` the polls its opening closed);
    screens that follow the room show it (its votes coming in, then its result) in
    the same step."""
    ev = await s.get(Event, who.event_id)
    assert ev is not None and poll.id is not None
    followed = screen_state.follow(ev, "poll", poll_id=poll.id)
    s.add(poll)
    s.add(ev)
    await s.commit()
    changed = [
        (f"event:{who.event_id}", {"type": "poll_changed", "poll_id": pid})
        for pid in [*(also or []), poll.id]
    ]
    return Outcome(events=[*changed, *followed], dirty_poll=poll.id)


async def show_on_screen(s: AsyncSession, who: Principal, msg: p.ScreenMsg) -> Outcome:
    ev = await s.get(Event, who.event_id)
    assert ev is not None
    if msg.poll_id is not None:
        await _own_poll(s, who, msg.poll_id)
    if msg.question_id is not None:
        q = await s.get(Question, msg.question_id)
        if q is None or q.event_id != who.event_id:
            raise NotFound(f"question {msg.question_id} does not exist")
    notice = screen_state.show(ev, msg.mode, msg.poll_id, msg.question_id)
    s.add(ev)
    await s.commit()
    return Outcome(events=[notice])


async def screen_follow(s: AsyncSession, who: Principal, msg: p.ScreenFollowMsg) -> Outcome:
    ev = await s.get(Event, who.event_id)
    assert ev is not None
    ev.screen_follow = msg.follow
    s.add(ev)
    await s.commit()
    return Outcome(events=[screen_state.screen_changed(ev)])


async def _own_poll(s: AsyncSession, who: Principal, poll_id: int) -> Poll:
    poll = await s.get(Poll, poll_id)
    if poll is None or poll.event_id != who.event_id:
        raise NotFound(f"poll {poll_id} does not exist")
    return poll
