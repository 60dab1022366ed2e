"""The pure parts of deadlines: command keys and a kind's fold."""

from __future__ import annotations

from server.domain.deadlines import TIMER_ACTOR, timer_ref
from server.domain.events import Event, MessagePosted
from tests.timers import REMINDERS


def event(seq: int, text: str, actor: str = "m-1") -> Event:
    return Event(stream="room:r", seq=seq, ts=0, actor=actor,
                 body=MessagePosted(author=actor, author_name="Ann", text=text))


def test_a_deadline_has_one_command_ref_wherever_it_is_computed():
    assert timer_ref("room:r", "d1") == timer_ref("room:r", "d1") == "timer:room:r:d1"
    assert timer_ref("room:r", "d1") != timer_ref("room:s", "d1")


def test_a_deadline_is_due_from_its_time_until_it_fired():
    state = REMINDERS.fold(REMINDERS.initial(), [event(1, "timer d1 1000")])
    assert REMINDERS.due(state, 999) == []
    assert [d.deadline for d in REMINDERS.due(state, 1000)] == ["d1"]
    state = REMINDERS.fold(state, [event(2, "fired d1", actor=TIMER_ACTOR)])
    assert REMINDERS.due(state, 5000) == []


def test_only_the_scheduler_can_mark_a_deadline_fired():
    state = REMINDERS.fold(REMINDERS.initial(), [event(1, "timer d1 1000"),
                                                 event(2, "fired d1")])
    assert [d.deadline for d in REMINDERS.due(state, 1000)] == ["d1"]
