"""Pair-up history and practice: a projection of session streams for the matcher and for
the pairing-history pages.

- ``pair_sessions``: each session's community, room and title (``session_opened``), so
  that the later events of its stream, which name only the session, find them.
- ``pair_meetings``: two people shared a group in a round (``pairs_made``, and
  ``pairs_changed`` for whoever joins a group mid-round): one row per (session, round,
  a, b), a trio being three rows.
- ``pair_attendance``: who attended which session (``attendee_arrived``) and whether
  they were on stage in it (``stage_changed`` on); the ``practice`` view counts them.

Every statement is keyed (``ON CONFLICT``), so applying an event twice, or two processes
applying the same events, changes nothing. Statements find a session's community in
``pair_sessions`` (``INSERT … SELECT``): a run after the cursor need not hold the
session's first event. An erased body (None) is skipped, as the folds skip it; nothing
here holds text, so erasures need no reconcile.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.events import Event
from ..domain.session_events import AttendeeArrived, SessionOpened, StageChanged
from ..domain.session_pair_events import PairsChanged, PairsMade
from ..store import EventStore
from . import Statement

_MEETING = (
    "INSERT INTO pair_meetings (community, session, round, a, b, ts)"
    " SELECT community, CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT),"
    " CAST(? AS TEXT), CAST(? AS BIGINT) FROM pair_sessions WHERE session = ?"
    " ON CONFLICT (session, round, a, b) DO NOTHING")
_ARRIVED = (
    "INSERT INTO pair_attendance (community, member, session, name, ts, presented)"
    " SELECT community, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
    " CAST(? AS BIGINT), 0 FROM pair_sessions WHERE session = ?"
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
            elif isinstance(body, AttendeeArrived):
                out.append((_ARRIVED, (body.member, session, body.name, event.ts, session)))
            elif isinstance(body, StageChanged) and body.on:
                out.append((_PRESENTED, (body.member, session, body.name, event.ts, session)))
        return out

    def reset(self) -> list[Statement]:
        return [("DELETE FROM pair_meetings", ()), ("DELETE FROM pair_attendance", ()),
                ("DELETE FROM pair_sessions", ())]

    async def reconcile(self, store: EventStore) -> int:
        """Nothing to repair: no row holds text from a body that may be erased (an
        erased ``attendee_arrived`` keeps its row, which only counts attendance)."""
        return 0
