"""A test-only stream kind with deadlines, for the scheduler's tests.

A room message ``timer <id> <at_ms>`` sets a deadline; when it passes the
scheduler posts ``fired <id>`` as the scheduler, which the fold records.
"""

from __future__ import annotations

from typing import Any

from server.domain.deadlines import TIMER_ACTOR, Due, TimedKind
from server.domain.events import Event, MessagePosted


def _initial() -> dict[str, Any]:
    return {"deadlines": {}, "fired": set()}


def _apply(state: dict[str, Any], event: Event) -> dict[str, Any]:
    body = event.body
    if isinstance(body, MessagePosted):
        words = body.text.split()
        if len(words) == 3 and words[0] == "timer" and words[2].isdigit():
            state["deadlines"][words[1]] = int(words[2])
        elif len(words) == 2 and words[0] == "fired" and event.actor == TIMER_ACTOR:
            state["fired"].add(words[1])
    return state


def fired_message(deadline: str) -> MessagePosted:
    return MessagePosted(author=TIMER_ACTOR, author_name="Timer", text=f"fired {deadline}")


def _due(state: dict[str, Any], now_ms: int) -> list[Due]:
    return [Due(deadline, [fired_message(deadline)])
            for deadline, at in sorted(state["deadlines"].items())
            if at <= now_ms and deadline not in state["fired"]]


REMINDERS = TimedKind(prefix="room:", initial=_initial, apply=_apply, due=_due)


def count_fired(events: list[Event], deadline: str) -> int:
    return sum(1 for e in events if isinstance(e.body, MessagePosted)
               and e.body.text == f"fired {deadline}")
