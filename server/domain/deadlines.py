"""Deadlines kept in a stream's state, and what happens when one passes. Pure.

A stream kind with deadlines declares a :class:`TimedKind`: how to fold its
events into a state, and which deadlines are due in that state at a given
time. Each due deadline names the events that fire it and an id unique within
its stream. The scheduler appends those events under the command key
:func:`timer_key` (``timer:<stream>:<deadline>``), which the store applies at
most once, so a deadline fires exactly once however many processes, restarts
or crashes see it due. A kind's fold must record that a deadline fired (from
the fired events), so it stops being due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .events import Event, EventBody

TIMER_ACTOR = "scheduler"
"""The actor of events a deadline appends, and the member part of its command key."""


class Due(NamedTuple):
    deadline: str
    """Unique within the stream: the same deadline always has the same id."""
    bodies: list[EventBody]
    """The events that fire it."""
    also: tuple[tuple[str, list[EventBody]], ...] = ()
    """Events for other streams, each new (appended at seq 1 or not at all), in the same
    transaction under the same command key: a series' lobby opens a live session."""


def timer_ref(stream: str, deadline: str) -> str:
    """The command ref under which a deadline fires: deterministic, so every process
    that sees it due names the same command and the store applies it once."""
    return f"timer:{stream}:{deadline}"


@dataclass(frozen=True)
class TimedKind:
    """A stream kind whose state holds deadlines."""

    prefix: str
    """Streams whose names start with this (``"session:"``)."""
    initial: Callable[[], Any]
    apply: Callable[[Any, Event], Any]
    """Fold one event into the state; returns the state (it may be the same object)."""
    due: Callable[[Any, int], list[Due]]
    """Deadlines due at ``now_ms`` (epoch milliseconds) that have not fired yet."""
    finished: Callable[[Any], bool] = lambda state: False
    """True when the state will never have a deadline again (an ended session): the
    scheduler stops reading its stream."""

    def fold(self, state: Any, events: list[Event]) -> Any:
        for event in events:
            state = self.apply(state, event)
        return state


TIMED_KINDS: list[TimedKind] = []
"""The kinds with deadlines: each registers here when its module is imported, and every
process's scheduler starts with them."""
