"""The shapes of a live session's state as snapshots and clients see them (the fold
is :mod:`.session`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from .session_events import Segment
from .session_pair_events import Broadcast, HelpCall, PairGroup, Visit

Phase = Literal["lobby", "running", "paused", "ended"]
QuestionState = Literal["open", "answered", "dismissed", "withdrawn"]


class Person(msgspec.Struct, kw_only=True):
    member: str
    name: str


class Attendee(msgspec.Struct, kw_only=True):
    member: str
    name: str
    guest: bool = False


class Question(msgspec.Struct, kw_only=True):
    question: int
    text: str
    anonymous: bool
    asker: str | None
    """None when anonymous: never in what members receive."""
    asker_name: str
    votes: int = 0
    voters: list[str] = msgspec.field(default_factory=list)
    """Who upvoted, in the order they did (each at most once)."""
    pinned: bool = False
    state: QuestionState = "open"
    owner_key: str = ""
    """The keyed hash that lets the server recognise the asker (unlinkable otherwise)."""
    ts: int = 0
    """When it was asked (ms since the Unix epoch)."""


class OffRecord(msgspec.Struct, kw_only=True):
    by: str | None
    since_ms: int


class CasePrompts(msgspec.Struct, kw_only=True):
    segment: int
    situation: str
    tried: str
    question: str


class SessionSnapshot(msgspec.Struct, tag="session", tag_field="kind", kw_only=True):
    """Everything a late joiner needs to draw a session; events after ``seq`` follow."""

    session: str
    room: str
    title: str
    phase: Phase
    agenda: list[Segment]
    index: int
    """The current segment (0 in the lobby)."""
    deadline_ms: int | None
    """When the current segment's (in a case consultation's rounds: the current
    round's) time is up (running only); count down from it with
    your clock corrected by ``hello.server_time_ms``."""
    remaining_ms: int | None
    """What was left of the segment when it was paused (paused only)."""
    stage: list[Person]
    """Who is on stage, in the order they came up."""
    hands: list[Person]
    """Raised hands, in the order raised (the queue)."""
    questions: list[Question]
    """Every question in the order asked (``question`` 1, 2, …; an erased one leaves a
    gap); the board order is:
    open first, pinned first, most votes first, then asked first."""
    off_record: OffRecord | None
    keep_transcript: bool
    scribe: Person | None
    attendees: list[Attendee]
    """Everyone who came, in order of first arrival."""
    case_prompts: list[CasePrompts]
    """Structured prompts of case consultation segments, by segment index."""
    warned: list[str] = msgspec.field(default_factory=list)
    """Warnings given for the current deadline (``"2m"``, ``"30s"``)."""
    pairs: list[list[str]] = msgspec.field(default_factory=list)
    """The members of each of ``groups`` (kept for older clients; read ``groups``)."""
    community: str = ""
    started_ms: int | None = None
    ended_ms: int | None = None
    round: int = 0
    """In a case consultation segment: the round of peer advice running (1..``rounds``;
    0 while the case itself is presented). ``deadline_ms`` is that round's."""
    pair_round: int = 0
    """Pair-up rounds made so far in this session (the last one's number; 0: none)."""
    pairs_active: bool = False
    """A pair-up round is running: those in ``groups`` are in their breakout rooms until
    ``deadline_ms`` (the ``pairs`` segment's)."""
    groups: list[PairGroup] = msgspec.field(default_factory=list)
    """The running round's breakout rooms (empty when nobody is in one)."""
    waiting: list[str] = msgspec.field(default_factory=list)
    """In the running round, present but in no group (waiting for a partner)."""
    alone: list[str] = msgspec.field(default_factory=list)
    """Whose partner left and who has not chosen yet (``partner_choice``)."""
    sitting_out: list[str] = msgspec.field(default_factory=list)
    """Who opted out of the next pairing (cleared when the pairs segment is left)."""
    help: list[HelpCall] = msgspec.field(default_factory=list)
    """Calls for help not yet cleared, in the order called."""
    visits: list[Visit] = msgspec.field(default_factory=list)
    """Hosts visiting a breakout room now."""
    broadcasts: list[Broadcast] = msgspec.field(default_factory=list)
    """The last round's broadcasts, in order."""
    host_joins: bool = False
    """The host who pressed pair takes part in the last round."""
    paired: list[str] = msgspec.field(default_factory=list)
    """Everyone who was in a group of the last round (round ``pair_round``): who may
    share a takeaway for it, and who the browser asks for one after ``pairs_ended``."""
    asked: int = 0
    """The highest question number given so far (erased questions included): the next
    question is ``asked + 1``. A question's number is the one its ``question_asked``
    says; ``words_erased`` raises ``asked`` to the questions it names. Snapshots
    written before it was kept read 0: the highest number in ``questions`` stands."""
