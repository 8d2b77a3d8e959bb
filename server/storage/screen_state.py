"""What the big screens show, and how they follow the producer.

The screens show one view (a poll's results, its results by group, a
question's published themes, the room against the census, the join QR code)
for one poll or question. By default they follow what happens in the room: a
poll opened or closed brings that poll up, a theme set published brings up its
themes. The producer can pin the screens instead, and then only the console's
own screen buttons change them.
"""

from __future__ import annotations

from typing import Any

from server.storage.models import Event

MODES = ("poll", "breakdown", "themes", "demographics", "join")


def screen_state(ev: Event) -> dict[str, Any]:
    """The screens' state as clients see it (in the event view and ``screen_changed``)."""
    return {
        "mode": ev.screen_mode,
        "poll_id": ev.screen_poll_id,
        "question_id": ev.screen_question_id,
        "follow": ev.screen_follow,
    }


def screen_changed(ev: Event) -> tuple[str, dict[str, Any]]:
    """The notice every screen, console and phone of the event gets after a change."""
    return (f"event:{ev.id}", {"type": "screen_changed", **screen_state(ev)})


def show(
    ev: Event, mode: str, poll_id: int | None = None, question_id: int | None = None
) -> tuple[str, dict[str, Any]]:
    """Put ``mode`` on the screens (the producer's choice); the caller commits."""
    ev.screen_mode = mode
    if poll_id is not None:
        ev.screen_poll_id = poll_id
    if question_id is not None:
        ev.screen_question_id = question_id
    return screen_changed(ev)


def follow(
    ev: Event, mode: str, poll_id: int | None = None, question_id: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """What happened in the room reaches the screens unless the producer pinned them.
    Returns the notice to publish (none when pinned); the caller commits."""
    if not ev.screen_follow:
        return []
    return [show(ev, mode, poll_id, question_id)]
