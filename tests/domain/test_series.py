"""A series' fold and occurrences (eras, EXDATE-like cancellations, moves, hosts), the
decisions that change it and their refusals, and the lobbies and reminders it keeps."""

from __future__ import annotations

import itertools

import pytest

from server.domain import community as community_fold
from server.domain.community import CommunityState
from server.domain.events import (
    CommunityCreated,
    Event,
    EventBody,
    MemberAdmitted,
    RoomCreated,
)
from server.domain.recurrence import key_of, local_ms
from server.domain.series import MINUTE_MS, SeriesState, apply
from server.domain.series_clock import SERIES_TIMERS, due, session_of
from server.domain.series_decide import (
    decide_cancel,
    decide_create,
    decide_edit,
    decide_end,
    decide_host,
    decide_move,
    decide_rsvp,
    decide_title,
    decide_volunteer,
    decide_vote,
    make_rules,
)
from server.domain.series_events import LobbyOpened, ReminderDue, TopicProposed
from server.domain.session_events import SessionOpened, community_hour
from server.errors import Conflict, InvalidCommand, NotFound, OutOfOrder

BERLIN = "Europe/Berlin"
T0 = local_ms("2026-03-01T00:00", BERLIN)


def a_community() -> CommunityState:
    state = CommunityState("circle")
    bodies: list[EventBody] = [
        CommunityCreated(community="circle", name="Circle", domain="d", purpose="p"),
        MemberAdmitted(member="conv", name="Conny", role="convener", via="seed"),
        MemberAdmitted(member="host2", name="Hosta", role="host", via="seed"),
        MemberAdmitted(member="mem", name="Mem", role="member", via="seed"),
        RoomCreated(room="clinic", name="Clinic")]
    for seq, body in enumerate(bodies, 1):
        community_fold.apply(state, Event(stream="community:circle", seq=seq, ts=T0,
                                          actor=None, body=body))
    return state


class Series:
    """A series state and its stream, appended to as decisions say."""

    def __init__(self, rule: str = "FREQ=WEEKLY;BYDAY=TU", start: str = "2026-03-17T18:00",
                 zone: str = BERLIN, **more: object) -> None:
        self.community = a_community()
        self.state = SeriesState("clinic-weekly")
        self.seq = itertools.count(1)
        rules = self.rules(rule=rule, start=start, zone=zone, **more)
        self.add(decide_create("clinic-weekly", self.community, "clinic", rules, self.state))

    def rules(self, **given: object):
        fields: dict[str, object] = dict(
            title="Case clinic", rule="FREQ=WEEKLY;BYDAY=TU", start="2026-03-17T18:00",
            zone=BERLIN, duration_min=60, lobby_min=10, reminder_min=60, host="conv",
            agenda=community_hour(), template="community hour")
        fields.update(given)
        return make_rules(self.community, **fields)  # type: ignore[arg-type]

    def add(self, bodies: list[EventBody], ts: int = T0) -> None:
        for body in bodies:
            apply(self.state, Event(stream="series:clinic-weekly", seq=next(self.seq), ts=ts,
                                    actor="conv", body=body))

    def starts(self, since: str, until: str, *, all_: bool = False) -> list[str]:
        return [key_of(o.start_ms) for o in self.state.occurrences(
            local_ms(since, BERLIN), local_ms(until, BERLIN)) if all_ or not o.cancelled]


def test_cancelled_and_moved_occurrences_across_a_dst_change():
    s = Series()
    s.add(decide_cancel(s.state, "20260324T170000Z", "Easter break", T0))
    s.add(decide_move(s.state, "20260407T160000Z", "2026-04-09T18:30", T0))
    assert s.starts("2026-03-15T00:00", "2026-04-15T00:00") == [
        "20260317T170000Z", "20260331T160000Z", "20260409T163000Z", "20260414T160000Z"]
    moved = s.state.occurrence("20260407T160000Z")
    assert moved is not None and moved.moved and moved.local_start == "2026-04-09T18:30"
    cancelled = s.state.occurrence("20260324T170000Z")
    assert cancelled is not None and cancelled.cancelled and cancelled.reason == "Easter break"
    # A window that holds only the moved occurrence's new time finds it; its old one not.
    assert s.starts("2026-04-09T00:00", "2026-04-10T00:00") == ["20260409T163000Z"]
    assert s.starts("2026-04-07T00:00", "2026-04-08T00:00") == []


def test_an_edit_holds_from_its_time_and_keeps_exceptions_the_new_rule_still_gives():
    s = Series()
    s.add(decide_cancel(s.state, "20260421T160000Z", "", T0))
    edit_at = local_ms("2026-04-01T00:00", BERLIN)
    s.add(decide_edit(s.state, s.rules(rule="FREQ=WEEKLY;BYDAY=TU,TH"), edit_at))
    assert s.starts("2026-03-15T00:00", "2026-04-25T00:00") == [
        "20260317T170000Z", "20260324T170000Z", "20260331T160000Z",  # before: Tuesdays
        "20260402T160000Z", "20260407T160000Z", "20260409T160000Z", "20260414T160000Z",
        "20260416T160000Z", "20260423T160000Z"]  # the 21st stays cancelled
    assert decide_edit(s.state, s.state.rules, edit_at) == []  # nothing new: nothing


def test_an_ended_series_has_no_occurrence_from_then_on():
    s = Series()
    s.add(decide_end(s.state, local_ms("2026-04-01T00:00", BERLIN), T0))
    assert s.starts("2026-03-15T00:00", "2026-05-01T00:00") == [
        "20260317T170000Z", "20260324T170000Z", "20260331T160000Z"]
    with pytest.raises(OutOfOrder):
        decide_end(s.state, None, local_ms("2026-04-02T00:00", BERLIN))


def test_bad_changes_are_refused():
    s = Series()
    with pytest.raises(Conflict, match="overlap"):  # onto the next week's occurrence
        decide_move(s.state, "20260317T170000Z", "2026-03-24T18:30", T0)
    with pytest.raises(Conflict, match="overlap"):
        decide_move(s.state, "20260317T170000Z", "2026-03-24T18:00", T0)
    with pytest.raises(InvalidCommand, match="in the past"):
        decide_move(s.state, "20260317T170000Z", "2026-02-01T18:00", T0)
    with pytest.raises(NotFound):  # the rule gives no occurrence then
        decide_cancel(s.state, "20260318T170000Z", "", T0)
    with pytest.raises(InvalidCommand, match="before it starts"):
        decide_end(s.state, local_ms("2026-03-10T00:00", BERLIN), T0)
    with pytest.raises(InvalidCommand, match="cannot host"):
        decide_host(s.state, s.community, "20260317T170000Z", "mem", T0)
    with pytest.raises(InvalidCommand, match="cannot host"):
        s.rules(host="nobody")
    with pytest.raises(InvalidCommand, match="ends before it starts"):
        s.rules(rule="FREQ=WEEKLY;UNTIL=20260101T000000Z")
    with pytest.raises(InvalidCommand, match="unknown time zone"):
        s.rules(zone="Europe/Atlantis")
    with pytest.raises(Conflict):
        decide_create("clinic-weekly", s.community, "clinic", s.state.rules, s.state)
    with pytest.raises(NotFound):
        decide_create("other", s.community, "no-room", s.state.rules, SeriesState("other"))
    with pytest.raises(InvalidCommand):
        decide_create("x" * 41, s.community, "clinic", s.state.rules, SeriesState("x"))
    after = local_ms("2026-03-17T20:00", BERLIN)
    with pytest.raises(OutOfOrder, match="over"):
        decide_rsvp(s.state, "20260317T170000Z", "mem", "Mem", "yes", after)


def test_hosts_titles_topics_rsvps_presenters():
    s = Series()
    key = "20260331T160000Z"
    s.add(decide_host(s.state, s.community, key, "host2", T0))
    s.add([TopicProposed(title="Syncope", member="mem", name="Mem")])
    topic = max(s.state.topics)
    s.add(decide_vote(s.state, topic, "mem", True))
    assert decide_vote(s.state, topic, "mem", True) == []
    s.add(decide_title(s.state, key, "", topic, T0))
    s.add(decide_rsvp(s.state, key, "mem", "Mem", "yes", T0))
    s.add(decide_volunteer(s.state, key, "mem", "Mem", "presenter", True, T0))
    with pytest.raises(Conflict, match="two people"):
        decide_volunteer(s.state, key, "mem", "Mem", "backup", True, T0)
    with pytest.raises(Conflict, match="already"):
        decide_volunteer(s.state, key, "host2", "Hosta", "presenter", True, T0)
    with pytest.raises(InvalidCommand, match="not the backup"):
        decide_volunteer(s.state, key, "mem", "Mem", "backup", False, T0)
    s.add(decide_volunteer(s.state, key, "host2", "Hosta", "backup", True, T0))
    occurrence = s.state.occurrence(key)
    assert occurrence is not None
    assert (occurrence.host, occurrence.title, occurrence.topic) == ("host2", "Syncope", topic)
    assert (occurrence.presenter, occurrence.backup) == ("mem", "host2")
    assert occurrence.rsvps == {"mem": "yes"}
    assert s.state.topics[topic].voters == {"mem"}
    s.add(decide_volunteer(s.state, key, "mem", "Mem", "presenter", False, T0))
    assert s.state.occurrence(key).presenter is None  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        decide_title(s.state, key, "", 999, T0)


def test_the_lobby_opens_once_lobby_min_before_the_start_and_reminders_fire_before():
    s = Series(lobby_min=15, reminder_min=60)
    key = "20260331T160000Z"
    start = local_ms("2026-03-31T18:00", BERLIN)
    s.add(decide_rsvp(s.state, key, "mem", "Mem", "yes", T0))
    assert due(s.state, start - 61 * MINUTE_MS) == []
    (reminder,) = due(s.state, start - 60 * MINUTE_MS)
    assert reminder.deadline == f"remind:{key}"
    assert reminder.bodies == [ReminderDue(occurrence=key, minutes=60, members=["mem"])]
    s.add(reminder.bodies, start - 60 * MINUTE_MS)
    assert due(s.state, start - 16 * MINUTE_MS) == []
    (lobby,) = due(s.state, start - 15 * MINUTE_MS)
    session = session_of("clinic-weekly", key)
    assert session == "clinic-weekly-20260331t160000z"
    assert lobby.deadline == f"lobby:{key}"
    assert lobby.bodies == [LobbyOpened(occurrence=key, session=session)]
    ((stream, (opened,)),) = lobby.also
    assert stream == f"session:{session}"
    assert isinstance(opened, SessionOpened)
    assert (opened.room, opened.community, opened.title) == ("clinic", "circle", "Case clinic")
    s.add(lobby.bodies)
    assert due(s.state, start) == []
    assert s.state.occurrence(key).session == session  # type: ignore[union-attr]
    with pytest.raises(OutOfOrder, match="lobby has opened"):
        decide_cancel(s.state, key, "", start - 10 * MINUTE_MS)
    # A cancelled occurrence opens no lobby; one missed while no process ran opens late.
    s.add(decide_cancel(s.state, "20260407T160000Z", "", T0))
    assert due(s.state, local_ms("2026-04-07T17:55", BERLIN)) == []
    late = local_ms("2026-04-14T18:30", BERLIN)
    assert [d.deadline for d in due(s.state, late)] == ["lobby:20260414T160000Z"]
    assert SERIES_TIMERS.prefix == "series:"


def test_an_edit_or_end_leaves_an_occurrence_whose_lobby_opened_as_it_is():
    s = Series(lobby_min=30, reminder_min=0)
    key = "20260331T160000Z"
    lobby_time = local_ms("2026-03-31T17:30", BERLIN)
    (lobby,) = due(s.state, lobby_time)
    s.add(lobby.bodies)
    s.add(decide_edit(s.state, s.rules(rule="FREQ=WEEKLY;BYDAY=WE", title="New"), lobby_time))
    running = s.state.occurrence(key)
    assert running is not None and running.title == "Case clinic" and running.session
    assert s.starts("2026-03-31T00:00", "2026-04-09T00:00") == [
        "20260331T160000Z", "20260401T160000Z", "20260408T160000Z"]  # then Wednesdays
    s.add(decide_end(s.state, None, lobby_time + MINUTE_MS))
    assert s.starts("2026-03-31T00:00", "2026-04-09T00:00") == ["20260331T160000Z"]

