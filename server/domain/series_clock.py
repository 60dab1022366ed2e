"""A series' deadlines: its occurrences' lobbies and reminders (registered with the
scheduler as a :class:`~server.domain.deadlines.TimedKind`). Pure.

``lobby_min`` before an occurrence starts, its lobby opens: ``lobby_opened`` in the
series and ``session_opened`` in the new session's stream, together, once. A lobby
that should have opened while no process ran opens late, up to the occurrence's
end. ``reminder_min`` before the start (and not after it), ``reminder_due``.
"""

from __future__ import annotations

import re

from .deadlines import TIMED_KINDS, Due, TimedKind
from .events import session_stream
from .series import MINUTE_MS, Occurrence, SeriesState, apply
from .series_events import LobbyOpened, ReminderDue
from .session_events import SessionOpened

LOOK_BACK_MS = 720 * MINUTE_MS
"""The longest an occurrence runs: one that started this long ago has ended."""


def session_of(series: str, occurrence: str) -> str:
    """The id of an occurrence's live session (an :data:`~server.domain.events.Id`)."""
    return f"{series}-{occurrence.lower()}"


OCCURRENCE_SESSION = re.compile(r"[a-z0-9-]+-\d{8}t\d{6}z")
"""Session ids of this form are the scheduler's (:func:`session_of`): nobody else opens
one, so no one can take an occurrence's session before its lobby opens."""


def open_lobby(state: SeriesState, occurrence: Occurrence) -> Due:
    session = session_of(state.series, occurrence.key)
    opened = SessionOpened(session=session, community=state.community, room=state.room,
                           title=occurrence.title, agenda=list(occurrence.rules.agenda))
    return Due(f"lobby:{occurrence.key}",
               [LobbyOpened(occurrence=occurrence.key, session=session)],
               ((session_stream(session), [opened]),))


def remind(state: SeriesState, occurrence: Occurrence) -> Due:
    members = sorted(m for m, answer in occurrence.rsvps.items() if answer != "no")
    return Due(f"remind:{occurrence.key}",
               [ReminderDue(occurrence=occurrence.key, minutes=occurrence.rules.reminder_min,
                            members=members)])


def due(state: SeriesState, now_ms: int) -> list[Due]:
    """The lobbies and reminders due at ``now_ms`` that have not fired."""
    if not state.created:
        return []
    ahead = max(max(era.rules.lobby_min, era.rules.reminder_min) for era in state.eras)
    found: list[Due] = []
    for occurrence in state.occurrences(now_ms - LOOK_BACK_MS,
                                        now_ms + (ahead + 1) * MINUTE_MS):
        if occurrence.cancelled:
            continue
        key = occurrence.key
        if key not in state.lobbies and occurrence.lobby_ms <= now_ms < occurrence.end_ms:
            found.append(open_lobby(state, occurrence))
        reminder = occurrence.rules.reminder_min
        if (reminder > 0 and key not in state.reminded
                and occurrence.start_ms - reminder * MINUTE_MS <= now_ms < occurrence.start_ms):
            found.append(remind(state, occurrence))
    return found


SERIES_TIMERS = TimedKind(prefix="series:", initial=lambda: SeriesState(""), apply=apply,
                          due=due)
TIMED_KINDS.append(SERIES_TIMERS)
