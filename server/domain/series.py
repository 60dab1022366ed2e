"""A recurring room's state as a pure fold over its stream (``series:<id>``), and its
occurrences in any window.

The rules a series follows change over time: each ``series_created`` or
``series_edited`` starts an *era* that holds from its ``from_ms`` until the next
one's (or the series' end). An occurrence belongs to the era its rule instant falls
in; exceptions (cancelled, moved, host, title), RSVPs and presenters are kept by
occurrence name (:func:`~server.domain.recurrence.key_of` of the rule instant), so
they stay with an occurrence however its rule is edited, as long as the rule still
gives it. No I/O, no clock: the caller says which window, and when now is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidCommand
from .events import Event, EventBody
from .recurrence import Recurrence, key_of, local_ms, local_text, ms_of_key
from .series_events import (
    AttendanceEntry,
    AttendanceRecorded,
    LobbyOpened,
    OccurrenceCancelled,
    OccurrenceHostSet,
    OccurrenceMoved,
    OccurrenceRestored,
    OccurrenceTitled,
    PresenterVolunteered,
    PresenterWithdrawn,
    ReminderDue,
    RsvpGiven,
    SeriesCreated,
    SeriesEdited,
    SeriesEnded,
    SeriesRules,
    TopicProposed,
    TopicVoted,
)

MINUTE_MS = 60_000
NEVER = 2**62


@dataclass(slots=True)
class Era:
    from_ms: int
    rules: SeriesRules

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(self.rules.rule, self.rules.start, self.rules.zone)


@dataclass(slots=True)
class Topic:
    topic: int
    title: str
    member: str
    name: str
    voters: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Occurrence:
    """One occurrence as the rules and its exceptions make it."""

    key: str
    original_ms: int
    start_ms: int
    rules: SeriesRules
    cancelled: bool = False
    reason: str = ""
    moved: bool = False
    host: str = ""
    title: str = ""
    topic: int | None = None
    presenter: str | None = None
    backup: str | None = None
    session: str | None = None
    rsvps: dict[str, str] = field(default_factory=dict)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.rules.duration_min * MINUTE_MS

    @property
    def lobby_ms(self) -> int:
        return self.start_ms - self.rules.lobby_min * MINUTE_MS

    @property
    def local_start(self) -> str:
        return local_text(self.start_ms, self.rules.zone)


@dataclass(slots=True)
class SeriesState:
    series: str
    seq: int = 0
    community: str = ""
    room: str = ""
    created_ms: int = 0
    eras: list[Era] = field(default_factory=list)
    ended_ms: int | None = None
    cancelled: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    """occurrence -> its new wall-clock start (in the zone of its era)."""
    hosts: dict[str, str] = field(default_factory=dict)
    titles: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    rsvps: dict[str, dict[str, str]] = field(default_factory=dict)
    presenters: dict[str, dict[str, str]] = field(default_factory=dict)
    """occurrence -> role (presenter, backup) -> member."""
    names: dict[str, str] = field(default_factory=dict)
    """Display names of the members the stream names."""
    topics: dict[int, Topic] = field(default_factory=dict)
    lobbies: dict[str, str] = field(default_factory=dict)
    """occurrence -> the live session its lobby opened."""
    reminded: set[str] = field(default_factory=set)
    attendance: dict[str, list[AttendanceEntry]] = field(default_factory=dict)
    """Attendance recorded as such (``attendance_recorded``), by occurrence."""

    @property
    def created(self) -> bool:
        return bool(self.eras)

    @property
    def rules(self) -> SeriesRules:
        """The rules in force now (the latest era's)."""
        return self.eras[-1].rules

    # --- occurrences ---------------------------------------------------------------

    def eras_bounded(self) -> list[tuple[int, Era, int, int]]:
        """Each era that holds for some time: its index, the era, and the instants it
        holds in, ``[lo, hi)`` (``hi`` is :data:`NEVER` for the last of a series that
        has not ended)."""
        end = NEVER if self.ended_ms is None else self.ended_ms
        bounds = []
        for i, era in enumerate(self.eras):
            upto = self.eras[i + 1].from_ms if i + 1 < len(self.eras) else NEVER
            lo, hi = era.from_ms, min(upto, end)
            if hi > lo:
                bounds.append((i, era, lo, hi))
        return bounds

    def era_of(self, original_ms: int) -> Era | None:
        """The era whose rule gives ``original_ms`` (None: no rule gives it)."""
        for _, era, lo, hi in self.eras_bounded():
            if lo <= original_ms < hi and era.recurrence.gives(original_ms):
                return era
        return None

    def occurrence(self, key: str) -> Occurrence | None:
        """The occurrence named ``key``; None when no rule of the series gives it."""
        try:
            original = ms_of_key(key)
        except InvalidCommand:  # no name of an occurrence: there is none such
            return None
        era = self.era_of(original)
        return None if era is None else self._make(key, original, era)

    def occurrences(self, from_ms: int, to_ms: int) -> list[Occurrence]:
        """The occurrences that start in ``[from_ms, to_ms)`` (moved ones where they
        went; cancelled ones too, flagged), soonest first."""
        found: dict[str, Occurrence] = {}
        for _, era, lo, hi in self.eras_bounded():
            for ms in era.recurrence.between(max(lo, from_ms), min(hi, to_ms)):
                key = key_of(ms)
                found[key] = self._make(key, ms, era)
        for key in self.moved:
            if key not in found:
                moved = self.occurrence(key)
                if moved is not None:
                    found[key] = moved
        return sorted((o for o in found.values() if from_ms <= o.start_ms < to_ms),
                      key=lambda o: (o.start_ms, o.key))

    def _make(self, key: str, original_ms: int, era: Era) -> Occurrence:
        rules = era.rules
        moved = self.moved.get(key)
        title, topic = self.titles.get(key, (rules.title, None))
        roles = self.presenters.get(key, {})
        return Occurrence(
            key=key, original_ms=original_ms, rules=rules,
            start_ms=original_ms if moved is None else local_ms(moved, rules.zone),
            cancelled=key in self.cancelled, reason=self.cancelled.get(key, ""),
            moved=moved is not None, host=self.hosts.get(key, rules.host), title=title,
            topic=topic, presenter=roles.get("presenter"), backup=roles.get("backup"),
            session=self.lobbies.get(key), rsvps=dict(self.rsvps.get(key, {})))

    def name_of(self, member: str | None) -> str:
        return "" if member is None else self.names.get(member, member)


# --- the fold ------------------------------------------------------------------------


def _created(state: SeriesState, body: Any, event: Event) -> None:
    state.series, state.community, state.room = body.series, body.community, body.room
    state.created_ms = event.ts
    state.eras = [Era(from_ms=0, rules=body.rules)]


def _edited(state: SeriesState, body: Any, event: Event) -> None:
    state.eras.append(Era(from_ms=body.from_ms, rules=body.rules))


def _ended(state: SeriesState, body: Any, event: Event) -> None:
    state.ended_ms = body.from_ms


def _cancelled(state: SeriesState, body: Any, event: Event) -> None:
    state.cancelled[body.occurrence] = body.reason


def _restored(state: SeriesState, body: Any, event: Event) -> None:
    state.cancelled.pop(body.occurrence, None)


def _moved(state: SeriesState, body: Any, event: Event) -> None:
    state.moved[body.occurrence] = body.start


def _host(state: SeriesState, body: Any, event: Event) -> None:
    state.hosts[body.occurrence] = body.host


def _titled(state: SeriesState, body: Any, event: Event) -> None:
    state.titles[body.occurrence] = (body.title, body.topic)


def _rsvp(state: SeriesState, body: Any, event: Event) -> None:
    state.names[body.member] = body.name
    state.rsvps.setdefault(body.occurrence, {})[body.member] = body.answer


def _proposed(state: SeriesState, body: Any, event: Event) -> None:
    state.names[body.member] = body.name
    state.topics[event.seq] = Topic(topic=event.seq, title=body.title, member=body.member,
                                    name=body.name)


def _voted(state: SeriesState, body: Any, event: Event) -> None:
    topic = state.topics.get(body.topic)
    if topic is not None:
        (topic.voters.add if body.up else topic.voters.discard)(body.member)


def _volunteered(state: SeriesState, body: Any, event: Event) -> None:
    state.names[body.member] = body.name
    state.presenters.setdefault(body.occurrence, {})[body.role] = body.member


def _withdrawn(state: SeriesState, body: Any, event: Event) -> None:
    roles = state.presenters.get(body.occurrence, {})
    if roles.get(body.role) == body.member:
        del roles[body.role]


def _lobby(state: SeriesState, body: Any, event: Event) -> None:
    state.lobbies[body.occurrence] = body.session


def _reminded(state: SeriesState, body: Any, event: Event) -> None:
    state.reminded.add(body.occurrence)


def _attendance(state: SeriesState, body: Any, event: Event) -> None:
    state.attendance[body.occurrence] = list(body.rows)


_HANDLERS: dict[type[EventBody], Any] = {
    SeriesCreated: _created, SeriesEdited: _edited, SeriesEnded: _ended,
    OccurrenceCancelled: _cancelled, OccurrenceRestored: _restored,
    OccurrenceMoved: _moved, OccurrenceHostSet: _host, OccurrenceTitled: _titled,
    RsvpGiven: _rsvp, TopicProposed: _proposed, TopicVoted: _voted,
    PresenterVolunteered: _volunteered, PresenterWithdrawn: _withdrawn,
    LobbyOpened: _lobby, ReminderDue: _reminded, AttendanceRecorded: _attendance,
}


def apply(state: SeriesState, event: Event) -> SeriesState:
    """Fold one committed event into ``state`` (in place); returns it."""
    body = event.body
    handler = _HANDLERS.get(type(body)) if body is not None else None
    if handler is not None:
        handler(state, body, event)
    state.seq = event.seq
    return state
