"""The bodies of a recurring room's events (stream ``series:<id>``).

A series is a recurring room: a room of a community that meets on a rule (RFC 5545
``RRULE``, expanded in an IANA time zone), with a default agenda and host. Its
stream holds the rule and every change to it, one-occurrence exceptions (cancelled,
moved, another host, a title), members' RSVPs, topics and their votes, presenters
and backups, and what the scheduler did (``lobby_opened``, ``reminder_due``).

An occurrence is named by the instant the rule gave it, in UTC
(``20261208T170000Z``, the iCalendar ``RECURRENCE-ID``), so a moved occurrence keeps
its name. Wall-clock times are ``YYYY-MM-DDTHH:MM`` in the series' zone.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .event_base import EventBody, Id
from .names import DisplayName
from .patterns import whole
from .session_events import Agenda, Title

LocalTime = Annotated[str, msgspec.Meta(
    pattern=whole(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?"),
    examples=["2026-12-08T18:00"])]
"""A wall-clock time in the series' zone (no offset): ``YYYY-MM-DDTHH:MM``."""
OccurrenceKey = Annotated[str, msgspec.Meta(
    pattern=whole(r"\d{8}T\d{6}Z"), examples=["20261208T170000Z"])]
"""An occurrence: the UTC instant its rule gave it (iCalendar ``RECURRENCE-ID``)."""
Rule = Annotated[str, msgspec.Meta(min_length=1, max_length=500,
                                   examples=["FREQ=WEEKLY;BYDAY=TH"])]
"""An RFC 5545 ``RRULE`` value (``RRULE:`` prefix optional): FREQ DAILY, WEEKLY,
MONTHLY or YEARLY. ``UNTIL`` without ``Z`` is read in the series' zone."""
Zone = Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                   examples=["Europe/Berlin"])]
"""An IANA time zone name."""
DurationMin = Annotated[int, msgspec.Meta(ge=5, le=720)]
LobbyMin = Annotated[int, msgspec.Meta(ge=0, le=240)]
ReminderMin = Annotated[int, msgspec.Meta(ge=0, le=10080)]
RsvpAnswer = Literal["yes", "maybe", "no"]
PresenterRole = Literal["presenter", "backup"]
TopicTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(max_length=300)]


class SeriesRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a series' occurrences follow from a given instant on."""

    title: Title
    rule: Rule
    start: LocalTime
    """The first occurrence's wall-clock time (the rule's ``DTSTART``)."""
    zone: Zone
    duration_min: DurationMin
    lobby_min: LobbyMin = 10
    """The lobby (the live session) opens this many minutes before the start."""
    reminder_min: ReminderMin = 60
    """A ``reminder_due`` event this many minutes before the start (0: none)."""
    host: str
    """The default host (a member with the host role or above)."""
    agenda: Agenda
    template: str = ""
    """The template ``agenda`` was taken from (shown; the agenda is what counts)."""


class SeriesCreated(EventBody, tag="series_created"):
    """The first event of a series: the room it meets in, and its rules."""

    series: Id
    community: Id
    room: Id
    rules: SeriesRules


class SeriesEdited(EventBody, tag="series_edited"):
    """New rules for occurrences starting at or after ``from_ms`` (the edit's time):
    earlier ones keep the rules they had. Exceptions of occurrences the new rule
    still gives stay."""

    rules: SeriesRules
    from_ms: int


class SeriesEnded(EventBody, tag="series_ended"):
    """No occurrence starts at or after ``from_ms``."""

    from_ms: int


class OccurrenceCancelled(EventBody, tag="occurrence_cancelled"):
    occurrence: OccurrenceKey
    reason: Reason = ""


class OccurrenceRestored(EventBody, tag="occurrence_restored"):
    """A cancelled occurrence takes place after all."""

    occurrence: OccurrenceKey


class OccurrenceMoved(EventBody, tag="occurrence_moved"):
    occurrence: OccurrenceKey
    start: LocalTime
    """Its new wall-clock start, in the series' zone."""


class OccurrenceHostSet(EventBody, tag="occurrence_host_set"):
    occurrence: OccurrenceKey
    host: str


class OccurrenceTitled(EventBody, tag="occurrence_titled"):
    occurrence: OccurrenceKey
    title: Title
    topic: int | None = None
    """The topic it was taken from, if any."""


class RsvpGiven(EventBody, tag="rsvp_given"):
    occurrence: OccurrenceKey
    member: str
    name: DisplayName
    answer: RsvpAnswer


class TopicProposed(EventBody, tag="topic_proposed"):
    """A topic a member would like a session on. Its id is this event's seq."""

    title: TopicTitle
    member: str
    name: DisplayName


class TopicVoted(EventBody, tag="topic_voted"):
    topic: int
    member: str
    up: bool
    """True: an upvote; False: the member takes their vote back."""


class PresenterVolunteered(EventBody, tag="presenter_volunteered"):
    occurrence: OccurrenceKey
    member: str
    name: DisplayName
    role: PresenterRole


class PresenterWithdrawn(EventBody, tag="presenter_withdrawn"):
    occurrence: OccurrenceKey
    member: str
    role: PresenterRole


class LobbyOpened(EventBody, tag="lobby_opened"):
    """The scheduler opened the occurrence's live session (``session:<session>``),
    ``lobby_min`` before its start, once."""

    occurrence: OccurrenceKey
    session: Id


class ReminderDue(EventBody, tag="reminder_due"):
    """An occurrence starts in ``minutes``: shown in the app to those who answered yes
    or maybe. The seam a mail or push adapter would consume (it follows ``series:``
    streams for this event; none is built)."""

    occurrence: OccurrenceKey
    minutes: int
    members: list[str] = msgspec.field(default_factory=list)
    """Who answered yes or maybe when it fired."""


class AttendanceEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    member: str
    name: DisplayName
    joined_ms: int
    left_ms: int | None = None
    duration_s: int


class AttendanceRecorded(EventBody, tag="attendance_recorded"):
    """The attendance of an occurrence held without a live session here (imported from
    elsewhere, or the seeded demo's past ones): shown instead of the one read from the
    session's and room's events."""

    occurrence: OccurrenceKey
    rows: list[AttendanceEntry]


SeriesEventBody = (
    SeriesCreated | SeriesEdited | SeriesEnded | OccurrenceCancelled | OccurrenceRestored
    | OccurrenceMoved | OccurrenceHostSet | OccurrenceTitled | RsvpGiven | TopicProposed
    | TopicVoted | PresenterVolunteered | PresenterWithdrawn | LobbyOpened | ReminderDue
    | AttendanceRecorded
)
