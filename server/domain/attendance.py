"""Who attended a live session, when, and for how long: read from the session's events
and its room's presence events. Pure.

The session runs from its first event (the lobby opening) to ``session_ended`` (or
``now`` while it runs). A person attended if they were present in the room during
that time, or arrived in the session (``attendee_arrived``). Their row: when they
first came (no earlier than the opening), when they last went (None when still there
at the end), and the time present within the session, stays added up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import Event, MemberJoined, MemberLeft, MembersChanged
from .session_events import AttendeeArrived, SessionEnded


@dataclass(slots=True)
class Row:
    member: str
    name: str
    joined_ms: int
    left_ms: int | None = None
    duration_ms: int = 0


@dataclass(slots=True)
class _Presence:
    name: str
    since: int | None = None
    stays: list[tuple[int, int | None]] = field(default_factory=list)


def attendance_rows(session_events: list[Event], room_events: list[Event], opened_ms: int,
                    now_ms: int) -> list[Row]:
    """The attendance of the session whose events are ``session_events`` (opened at
    ``opened_ms``), in the order people first came."""
    end_ms = now_ms
    arrived: dict[str, tuple[str, int]] = {}
    for event in session_events:
        if isinstance(event.body, SessionEnded):
            end_ms = event.ts
        elif isinstance(event.body, AttendeeArrived):
            arrived.setdefault(event.body.member, (event.body.name, event.ts))
    people: dict[str, _Presence] = {}

    def came(member: str, name: str, ts: int) -> None:
        person = people.setdefault(member, _Presence(name=name))
        person.name = name or person.name
        if person.since is None:
            person.since = ts

    def went(member: str, ts: int) -> None:
        person = people.get(member)
        if person is not None and person.since is not None:
            person.stays.append((person.since, ts))
            person.since = None

    for event in room_events:
        if event.ts > end_ms:
            break
        body = event.body
        if isinstance(body, MemberJoined):
            came(body.member, body.name, event.ts)
        elif isinstance(body, MemberLeft):
            went(body.member, event.ts)
        elif isinstance(body, MembersChanged):
            for arrival in body.joined:
                came(arrival.member, arrival.name, event.ts)
            for departure in body.left:
                went(departure.member, event.ts)
    rows: list[Row] = []
    for member, person in people.items():
        stays = [*person.stays, (person.since, None)] if person.since is not None else (
            person.stays)
        inside = [(max(a, opened_ms), b if b is None else min(b, end_ms)) for a, b in stays
                  if (b is None or b > opened_ms) and a <= end_ms]
        if not inside:
            continue
        last = inside[-1][1]
        left = None if last is None or last >= end_ms else last
        duration = sum((end_ms if b is None else b) - a for a, b in inside)
        rows.append(Row(member=member, name=person.name, joined_ms=inside[0][0],
                        left_ms=left, duration_ms=max(0, duration)))
    for member, (name, ts) in arrived.items():
        if member not in {row.member for row in rows} and ts <= end_ms:
            rows.append(Row(member=member, name=name, joined_ms=ts, left_ms=None,
                            duration_ms=max(0, end_ms - ts)))
    return sorted(rows, key=lambda row: (row.joined_ms, row.member))
