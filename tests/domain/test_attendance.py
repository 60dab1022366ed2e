"""Attendance read from a session's and its room's events: first joined, last left,
time present within the session, stays added up."""

from __future__ import annotations

from server.domain.attendance import attendance_rows
from server.domain.events import (
    Arrival,
    Departure,
    Event,
    MemberJoined,
    MemberLeft,
    MembersChanged,
)
from server.domain.session_events import AttendeeArrived, Segment, SessionEnded, SessionOpened

OPEN = 1_000_000


def ev(stream: str, seq: int, ts: int, body) -> Event:
    return Event(stream=stream, seq=seq, ts=OPEN + ts, actor=None, body=body)


def test_stays_within_the_session_add_up():
    session = [ev("session:s", 1, 0, SessionOpened(session="s", room="r", title="T", agenda=[
        Segment(kind="qa", title="Q", minutes=5)])),
        ev("session:s", 2, 95_000, AttendeeArrived(member="g-x", name="Guest X")),
        ev("session:s", 3, 100_000, SessionEnded())]
    room = [
        ev("room:r", 1, -50_000, MemberJoined(member="early", name="Early")),  # before
        ev("room:r", 2, 10_000, MembersChanged(joined=[Arrival(member="ann", name="Ann")])),
        ev("room:r", 3, 30_000, MemberLeft(member="ann")),
        ev("room:r", 4, 40_000, MemberJoined(member="ann", name="Ann")),
        ev("room:r", 5, 60_000, MembersChanged(left=[Departure(member="ann")])),
        ev("room:r", 6, 70_000, MemberLeft(member="early")),
        ev("room:r", 7, 80_000, MemberJoined(member="late", name="Late")),
        ev("room:r", 8, 200_000, MemberJoined(member="after", name="After")),  # after end
        ev("room:r", 9, -90_000, MemberJoined(member="gone", name="Gone")),
        ev("room:r", 10, -80_000, MemberLeft(member="gone")),  # left before it opened
    ]
    rows = {r.member: r for r in attendance_rows(session, room, OPEN, OPEN + 10**9)}
    assert set(rows) == {"early", "ann", "late", "g-x"}
    assert (rows["early"].joined_ms, rows["early"].left_ms, rows["early"].duration_ms) == (
        OPEN, OPEN + 70_000, 70_000)
    assert (rows["ann"].joined_ms, rows["ann"].left_ms, rows["ann"].duration_ms) == (
        OPEN + 10_000, OPEN + 60_000, 40_000)
    # Still there when the session ended: no left time, present to the end.
    assert (rows["late"].left_ms, rows["late"].duration_ms) == (None, 20_000)
    assert (rows["g-x"].name, rows["g-x"].duration_ms) == ("Guest X", 5_000)


def test_a_session_under_way_counts_to_now():
    room = [ev("room:r", 1, 5_000, MemberJoined(member="ann", name="Ann"))]
    (row,) = attendance_rows([], room, OPEN, OPEN + 65_000)
    assert (row.joined_ms, row.left_ms, row.duration_ms) == (OPEN + 5_000, None, 60_000)
