"""Pair-up history and practice: a projection of session streams for the matcher and for
the pairing-history pages.

- ``pair_sessions``: each session's community, room and title (``session_opened``), so
  that the later events of its stream, which name only the session, find them.
- ``pair_meetings``: two people shared a group in a round (``pairs_made``, and
  ``pairs_changed`` for whoever joins a group mid-round): one row per (session, round,
  a, b), a trio being three rows. Old streams paired at a segment's start (the
  ``pairs`` of ``session_started`` / ``segment_changed``): each is a round too,
  numbered in stream order (``pair_legacy_rounds`` marks them), as the fold numbers it.
- ``pair_attendance``: who attended which session (``attendee_arrived``) and whether
  they were on stage in it (``stage_changed`` on); the ``practice`` view counts them.

Every statement is keyed (``ON CONFLICT``), so applying an event twice, or two processes
applying the same events, changes nothing. Statements find a session's community in
``pair_sessions`` (``INSERT … SELECT``): a run after the cursor need not hold the
session's first event. An erased body (None) is skipped, as the folds skip it; a name
kept from an ``attendee_arrived`` erased later is forgotten by :meth:`reconcile`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.events import Event
from ..domain.session_events import (
    AttendeeArrived,
    SegmentChanged,
    SessionOpened,
    SessionStarted,
    StageChanged,
)
from ..domain.session_pair_events import PairsChanged, PairsMade
from ..store import EventStore
from . import Statement

_MEETING = (
    "INSERT INTO pair_meetings (community, session, round, a, b, ts)"
    " SELECT community, CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT),"
    " CAST(? AS TEXT), CAST(? AS BIGINT) FROM pair_sessions WHERE session = ?"
    " ON CONFLICT (session, round, a, b) DO NOTHING")
_LEGACY_ROUND = ("INSERT INTO pair_legacy_rounds (session, seq) VALUES (?, ?)"
                 " ON CONFLICT (session, seq) DO NOTHING")
_LEGACY_MEETING = (
    "INSERT INTO pair_meetings (community, session, round, a, b, ts)"
    " SELECT community, CAST(? AS TEXT), (SELECT count(*) FROM pair_legacy_rounds"
    " WHERE session = ? AND seq <= ?), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)"
    " FROM pair_sessions WHERE session = ? ON CONFLICT (session, round, a, b) DO NOTHING")
_ARRIVED = (
    "INSERT INTO pair_attendance (community, member, session, name, ts, presented, seq)"
    " SELECT community, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
    " CAST(? AS BIGINT), 0, CAST(? AS BIGINT) FROM pair_sessions WHERE session = ?"
    " ON CONFLICT (community, member, session) DO NOTHING")
_PRESENTED = (
    "INSERT INTO pair_attendance (community, member, session, name, ts, presented)"
    " SELECT community, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
    " CAST(? AS BIGINT), 1 FROM pair_sessions WHERE session = ?"
    " ON CONFLICT (community, member, session) DO UPDATE SET presented = 1")


def meetings_of(groups: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """Every two people sharing a group, as (a, b) with a < b (a trio: three)."""
    out: list[tuple[str, str]] = []
    for group in groups:
        members = sorted(set(group))
        out += [(members[i], members[j])
                for i in range(len(members)) for j in range(i + 1, len(members))]
    return out


class PairingsProjection:
    name = "pairings"
    prefix = "session:"

    def __init__(self) -> None:
        self._erased_seen: int | None = None
        """How many erased events the last reconcile saw (None: it has not run)."""

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        session = stream.removeprefix(self.prefix)
        out: list[Statement] = []
        for event in events:
            body = event.body
            if isinstance(body, SessionOpened):
                if body.community:  # named since sessions began
                    out.append((
                        "INSERT INTO pair_sessions (session, community, room, title)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (session) DO NOTHING",
                        (session, body.community, body.room, body.title)))
            elif isinstance(body, PairsMade | PairsChanged):
                out += [(_MEETING, (session, body.round, a, b, event.ts, session))
                        for a, b in meetings_of([g.members for g in body.groups])]
            elif isinstance(body, SessionStarted | SegmentChanged) and body.pairs:
                # An old stream's random pairs at a segment's start: a round numbered by
                # how many such events came before (as the session's fold numbers it).
                out.append((_LEGACY_ROUND, (session, event.seq)))
                out += [(_LEGACY_MEETING, (session, session, event.seq, a, b, event.ts,
                                           session))
                        for a, b in meetings_of(body.pairs)]
            elif isinstance(body, AttendeeArrived):
                out.append((_ARRIVED, (body.member, session, body.name, event.ts, event.seq,
                                      session)))
            elif isinstance(body, StageChanged) and body.on:
                out.append((_PRESENTED, (body.member, session, body.name, event.ts, session)))
        return out

    def reset(self) -> list[Statement]:
        self._erased_seen = None
        return [("DELETE FROM pair_meetings", ()), ("DELETE FROM pair_attendance", ()),
                ("DELETE FROM pair_legacy_rounds", ()), ("DELETE FROM pair_sessions", ())]

    async def reconcile(self, store: EventStore) -> int:
        """Forget the names kept from ``attendee_arrived`` bodies erased since (the row
        stays: it only counts attendance). Cheap when nothing was erased since the last
        look: erased events have an index of their own, counted first."""
        erased = (await store.fetch("SELECT count(*) FROM events WHERE body IS NULL"))[0][0]
        if erased == self._erased_seen:
            return 0
        (changed,) = await store.transact([(
            "UPDATE pair_attendance SET name = '' WHERE name <> '' AND EXISTS (SELECT 1"
            " FROM events e WHERE e.body IS NULL AND e.type = 'attendee_arrived'"
            " AND e.stream = 'session:' || pair_attendance.session"
            " AND e.seq = pair_attendance.seq)", ())])
        self._erased_seen = int(erased)
        return changed
