"""Request and response bodies of the recurring-rooms API (:mod:`server.http.series_api`)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..domain.event_base import Id
from ..domain.series_events import (
    DurationMin,
    LobbyMin,
    LocalTime,
    OccurrenceKey,
    PresenterRole,
    ReminderMin,
    RsvpAnswer,
    Rule,
    TopicTitle,
    Zone,
)
from ..domain.series_events import Reason as Reason
from ..domain.session_events import Agenda, Segment, Title
from .api_types import Body

MemberId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TemplateName = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
EpochMs = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class CreateSeries(Body):
    """A recurring room: the room it meets in (one of the community's) and its rule."""

    room: Id
    title: Title
    rule: Rule
    start: LocalTime
    """The first occurrence, wall-clock in ``zone`` (the rule's ``DTSTART``)."""
    zone: Zone
    duration_min: DurationMin = 60
    lobby_min: LobbyMin = 10
    reminder_min: ReminderMin = 60
    host: MemberId | None = None
    """The default host (host role or above); you if not given."""
    template: TemplateName | None = None
    """The run-of-show template each occurrence opens with (``community hour`` if not
    given); ``agenda`` instead gives one outright."""
    agenda: Agenda | None = None
    series: Id | None = None
    """The series id; a new one is made if not given."""


class EditSeries(Body):
    """New rules from now on (fields not given stay). Occurrences already started keep
    theirs."""

    title: Title | None = None
    rule: Rule | None = None
    start: LocalTime | None = None
    zone: Zone | None = None
    duration_min: DurationMin | None = None
    lobby_min: LobbyMin | None = None
    reminder_min: ReminderMin | None = None
    host: MemberId | None = None
    template: TemplateName | None = None
    agenda: Agenda | None = None


class EndSeries(Body):
    at_ms: EpochMs | None = None
    """No occurrence starts at or after this instant (now if not given)."""


class CancelOccurrence(Body):
    reason: Reason = ""


class MoveOccurrence(Body):
    start: LocalTime
    """The new wall-clock start, in the series' zone."""


class SetHost(Body):
    host: MemberId


class SetTitle(Body):
    title: Title
    topic: int | None = None
    """Take the title from this topic (``title`` is then ignored when empty)."""


class Rsvp(Body):
    answer: RsvpAnswer


class Volunteer(Body):
    role: PresenterRole


class ProposeTopic(Body):
    title: TopicTitle


class SeriesView(msgspec.Struct, kw_only=True):
    """A series as it is now: its current rules. Follow ``series:<id>`` from ``seq + 1``
    for changes (``lobby_opened``, ``reminder_due``, RSVPs...)."""

    series: Id
    community: Id
    room: Id
    title: str
    rule: str
    start: str
    zone: str
    duration_min: int
    lobby_min: int
    reminder_min: int
    host: str
    host_name: str
    template: str
    agenda: list[Segment]
    ended_ms: int | None = None
    seq: int


class OccurrenceView(msgspec.Struct, kw_only=True):
    """One occurrence. Times are epoch milliseconds (show them in the reader's zone);
    ``local_start`` is the wall-clock start in the series' zone."""

    series: Id
    occurrence: OccurrenceKey
    community: Id
    room: Id
    title: str
    start_ms: int
    end_ms: int
    original_start_ms: int
    """Where the rule put it (differs from ``start_ms`` when moved)."""
    zone: str
    local_start: str
    cancelled: bool
    moved: bool
    reason: str = ""
    host: str
    host_name: str
    presenter: str | None = None
    presenter_name: str | None = None
    backup: str | None = None
    backup_name: str | None = None
    topic: int | None = None
    lobby_opens_ms: int
    session: Id | None = None
    """The live session, once the lobby opened: ``GET /api/sessions/{session}``."""
    rsvps: dict[str, RsvpAnswer]
    """member -> answer."""
    my_rsvp: RsvpAnswer | None = None


class TopicView(msgspec.Struct, kw_only=True):
    topic: int
    title: str
    member: str
    name: str
    votes: int
    voted: bool
    """You upvoted it."""
    used_for: list[OccurrenceKey]
    """The occurrences titled after it."""


class AttendanceRow(msgspec.Struct, kw_only=True):
    """One person's attendance of an occurrence's live session (from the session's and
    the room's events)."""

    member: str
    name: str
    joined_ms: int
    """When they first came."""
    left_ms: int | None
    """When they last went (None: still there when the session ended or now)."""
    duration_s: int
    """Time present, in seconds (several stays added up)."""
    rsvp: RsvpAnswer | None = None


class Attendance(msgspec.Struct, kw_only=True):
    series: Id
    occurrence: OccurrenceKey
    session: Id | None
    rows: list[AttendanceRow]


class FeedLinks(msgspec.Struct, kw_only=True):
    """Your secret calendar feed URLs (paths on this server): anyone with one can read
    it, so keep them private; ``POST /api/feeds/reset`` makes new ones."""

    community: str
    series: dict[str, str]
    """series id -> its feed."""


class Reminder(msgspec.Struct, kw_only=True):
    """An in-app reminder: an occurrence you answered yes or maybe to starts soon."""

    series: Id
    occurrence: OccurrenceKey
    title: str
    start_ms: int
    minutes: int
    session: Id | None = None
