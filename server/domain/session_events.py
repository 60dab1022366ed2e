"""The bodies of a live session's events (stream ``session:<id>``).

A session's stream is also its transcript: segment changes, stage changes, questions,
chat, notes and captions are all events here, so the transcript is a read of one
stream in order (and an off-the-record stretch leaves only its start and end).
Members never see who asked an anonymous question: ``question_asked`` then has
``asker`` None and an ``owner_key`` that only the server can link to the asker (the
audit entry, in the community's audit stream, names them).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .event_base import EventBody, Id
from .names import DisplayName

SegmentKind = Literal["pairs", "presentation", "qa", "case", "open", "break"]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=240)]
Title = Annotated[str, msgspec.Meta(max_length=200)]
Prose = Annotated[str, msgspec.Meta(max_length=4000)]
SessionText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
MAX_SEGMENTS = 50


class Segment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One item of a session's agenda."""

    kind: SegmentKind
    title: Title
    minutes: Minutes
    auto_advance: bool = False
    """When its time is up, move on without the host (the scheduler does it, once)."""
    rounds: Annotated[int, msgspec.Meta(ge=0, le=20)] = 0
    """Case consultation: how many timed rounds of peer advice follow the case part
    (``minutes``); each runs ``round_minutes``. Both must be set for a case to have
    rounds; other kinds ignore them."""
    round_minutes: Annotated[int, msgspec.Meta(ge=0, le=60)] = 0


def round_count(segment: Segment | None) -> int:
    """How many timed rounds of peer advice ``segment`` has (0: none)."""
    if segment is None or segment.kind != "case" or segment.round_minutes <= 0:
        return 0
    return segment.rounds


Agenda = Annotated[list[Segment], msgspec.Meta(min_length=1, max_length=MAX_SEGMENTS)]


def community_hour() -> list[Segment]:
    """The default template: the classic community hour."""
    return [
        Segment(kind="pairs", title="Random pair-ups", minutes=10),
        Segment(kind="presentation", title="Presentation", minutes=50),
        Segment(kind="qa", title="Open Q&A", minutes=15),
    ]


DEFAULT_TEMPLATE = "community hour"


class SessionOpened(EventBody, tag="session_opened"):
    """The first event of a session's stream: the room it belongs to and its agenda."""

    session: Id
    room: Id
    title: Title
    agenda: Agenda
    keep_transcript: bool = True
    """False: the session keeps no transcript (members see this on joining)."""
    community: str = ""
    """The community of ``room`` (to decide who may read the stream without a lookup)."""


class AgendaEdited(EventBody, tag="agenda_edited"):
    agenda: Agenda


class SessionStarted(EventBody, tag="session_started"):
    """Segment 0 begins; it ends at ``deadline_ms`` (epoch milliseconds)."""

    deadline_ms: int
    pairs: list[list[str]] = msgspec.field(default_factory=list)
    """Old streams only (a ``pairs`` segment no longer pairs at its start: the host
    pairs with ``pair``): a non-empty one folds as pair-up round with these groups."""


class SegmentChanged(EventBody, tag="segment_changed"):
    index: int
    deadline_ms: int
    """When the new segment's time is up (a paused session resumes with a new one)."""
    how: Literal["advance", "back", "auto"]
    pairs: list[list[str]] = msgspec.field(default_factory=list)
    """Old streams only, as for ``session_started``."""


class SegmentExtended(EventBody, tag="segment_extended"):
    minutes: int
    deadline_ms: int


class SessionPaused(EventBody, tag="session_paused"):
    remaining_ms: int


class SessionResumed(EventBody, tag="session_resumed"):
    deadline_ms: int


class SegmentWarned(EventBody, tag="segment_warned"):
    """Fired by the scheduler when the current segment (or round) has this long left."""

    index: int
    left: Literal["2m", "1m", "30s"]
    """``1m``: only in a ``pairs`` segment while a pair-up round runs (the breakouts end
    at the deadline)."""
    round: int = 0
    """In a case consultation: the round it warns for (0: the case part)."""


class CaseRoundStarted(EventBody, tag="case_round_started"):
    """A round of peer advice in the current case consultation segment begins (``round``
    1..``rounds``, each ``round_minutes`` long); ``round`` 0 is the case part again
    (after ``how`` "back" from round 1). The segment's deadline becomes ``deadline_ms``."""

    segment: int
    round: int
    deadline_ms: int
    how: Literal["next", "back", "auto"]


class SessionEnded(EventBody, tag="session_ended"):
    pass


class StageChanged(EventBody, tag="stage_changed"):
    member: str
    name: DisplayName
    on: bool


class HandRaised(EventBody, tag="hand_raised"):
    member: str
    name: DisplayName


class HandLowered(EventBody, tag="hand_lowered"):
    member: str


class QuestionAsked(EventBody, tag="question_asked"):
    question: int
    """Questions are numbered 1, 2, 3… in the order they are asked; the fold gives a
    question this number (an erased one's number is never given again)."""
    text: SessionText
    anonymous: bool = False
    asker: str | None = None
    """None when anonymous."""
    asker_name: str = ""
    """"" when anonymous."""
    owner_key: str = ""
    """A keyed hash (server secret, session, asker, question) that lets the server
    recognise the asker without naming them; unlinkable across questions."""


class QuestionEdited(EventBody, tag="question_edited"):
    question: int
    text: SessionText


class QuestionWithdrawn(EventBody, tag="question_withdrawn"):
    question: int


class QuestionUpvoted(EventBody, tag="question_upvoted"):
    question: int
    member: str


class QuestionUnvoted(EventBody, tag="question_unvoted"):
    question: int
    member: str


class QuestionPinned(EventBody, tag="question_pinned"):
    question: int
    pinned: bool


class QuestionAnswered(EventBody, tag="question_answered"):
    question: int


class QuestionDismissed(EventBody, tag="question_dismissed"):
    question: int


class OffRecordStarted(EventBody, tag="off_record_started"):
    """From now (the event's ts) until ``off_record_ended``, chat and notes reach those
    present through the relay and are not kept. ``actor``: who took it off the record."""


class OffRecordEnded(EventBody, tag="off_record_ended"):
    started_ms: int


class ScribeNamed(EventBody, tag="scribe_named"):
    member: str
    name: DisplayName


class NoteAdded(EventBody, tag="note_added"):
    text: SessionText
    name: DisplayName | None = None
    """Who wrote it (the scribe or a host), as shown."""


class ChatSaid(EventBody, tag="chat_said"):
    text: SessionText
    name: DisplayName


class CaptionAdded(EventBody, tag="caption_added"):
    text: SessionText
    start_ms: int
    end_ms: int
    speaker: Annotated[str, msgspec.Meta(max_length=200)] = ""


class CasePromptsSet(EventBody, tag="case_prompts_set"):
    segment: int
    situation: Prose
    tried: Prose
    question: Prose


class WordsErased(EventBody, tag="words_erased"):
    """Words said in this session were erased for privacy (actor None; who erased which
    line is in the audit log only). Folds drop what those words held, so a live page
    and every process forget them without folding the stream again."""

    seqs: list[int]
    """The events of this session whose bodies were just erased (now tombstones)."""
    questions: list[int] = msgspec.field(default_factory=list)
    """Numbers of the questions erased: they leave the Q&A board entirely (numbers are
    never given again)."""
    case_segments: list[int] = msgspec.field(default_factory=list)
    """Agenda indexes whose case prompts were erased (every ``case_prompts_set`` of it)."""


class AttendeeArrived(EventBody, tag="attendee_arrived"):
    member: str
    name: DisplayName
    guest: bool = False


class TemplateSaved(EventBody, tag="template_saved"):
    """A run-of-show template saved in a community (stream ``community:<id>``)."""

    name: DisplayName
    agenda: Agenda


SessionEventBody = (
    SessionOpened | AgendaEdited | SessionStarted | SegmentChanged | SegmentExtended
    | SessionPaused | SessionResumed | SegmentWarned | CaseRoundStarted | SessionEnded
    | StageChanged
    | HandRaised | HandLowered | QuestionAsked | QuestionEdited | QuestionWithdrawn
    | QuestionUpvoted | QuestionUnvoted | QuestionPinned | QuestionAnswered
    | QuestionDismissed | OffRecordStarted | OffRecordEnded | ScribeNamed | NoteAdded
    | ChatSaid | CaptionAdded | CasePromptsSet | AttendeeArrived | WordsErased
)
