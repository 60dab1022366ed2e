"""A live session's state as a pure fold over its stream (``session:<id>``).

``apply`` folds one event into a :class:`SessionState` in place; ``snapshot`` is what
a late joiner loads before the tail of the stream. The decisions commands make are
in :mod:`.session_decide`; the deadlines the scheduler keeps in
:func:`.session_clock.due` (registered here). No I/O,
no clock: times come in with the events (``ts``) or from the caller (``now_ms``).

The Q&A board reads: open questions first, pinned before unpinned, then by votes
(most first), then in the order asked (:func:`board_order`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from .deadlines import TIMED_KINDS, TimedKind
from .events import Event, EventBody
from .session_clock import MINUTE_MS as MINUTE_MS
from .session_clock import WARNINGS as WARNINGS
from .session_clock import auto_advance as auto_advance
from .session_clock import due
from .session_clock import part_ms as part_ms
from .session_clock import segment_ms as segment_ms
from .session_erasure import question_number
from .session_events import (
    AgendaEdited,
    AttendeeArrived,
    CaptionAdded,
    CasePromptsSet,
    CaseRoundStarted,
    ChatSaid,
    HandLowered,
    HandRaised,
    NoteAdded,
    OffRecordEnded,
    OffRecordStarted,
    QuestionAnswered,
    QuestionAsked,
    QuestionDismissed,
    QuestionEdited,
    QuestionPinned,
    QuestionUnvoted,
    QuestionUpvoted,
    QuestionWithdrawn,
    ScribeNamed,
    Segment,
    SegmentChanged,
    SegmentExtended,
    SegmentWarned,
    SessionEnded,
    SessionOpened,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    StageChanged,
    WordsErased,
    round_count,
)
from .session_pair_fold import PAIR_HANDLERS, PairUps
from .session_types import Attendee as Attendee
from .session_types import CasePrompts as CasePrompts
from .session_types import OffRecord as OffRecord
from .session_types import Person as Person
from .session_types import Phase as Phase
from .session_types import Question as Question
from .session_types import QuestionState as QuestionState
from .session_types import SessionSnapshot as SessionSnapshot

_snapshot_decoder = msgspec.json.Decoder(SessionSnapshot)


class SessionState:
    """Mutable fold state of one session's stream (owned by one task at a time)."""

    def __init__(self, session: str = "") -> None:
        self.session = session
        self.room = ""
        self.community = ""
        self.title = ""
        self.seq = 0
        self.phase: Phase = "lobby"
        self.agenda: list[Segment] = []
        self.index = 0
        self.round = 0
        """In a case consultation: the round of peer advice running (0: the case part)."""
        self.deadline_ms: int | None = None
        self.remaining_ms: int | None = None
        self.stage: dict[str, str] = {}
        self.hands: dict[str, str] = {}
        self.questions: dict[int, Question] = {}
        self.asked = 0
        """The highest question number given (erased ones included): the next is one more."""
        self.off_record: OffRecord | None = None
        self.keep_transcript = True
        self.scribe: Person | None = None
        self.attendees: dict[str, Attendee] = {}
        self.case_prompts: dict[int, CasePrompts] = {}
        self.warned: set[str] = set()
        self.ups = PairUps()
        """Pair-up rounds (:mod:`.session_pair_fold`)."""
        self.started_ms: int | None = None
        self.ended_ms: int | None = None

    @property
    def opened(self) -> bool:
        return bool(self.room)

    @property
    def segment(self) -> Segment | None:
        return self.agenda[self.index] if 0 <= self.index < len(self.agenda) else None

    def snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(
            session=self.session, room=self.room, title=self.title, phase=self.phase,
            agenda=[msgspec.structs.replace(s) for s in self.agenda], index=self.index,
            round=self.round, deadline_ms=self.deadline_ms, remaining_ms=self.remaining_ms,
            stage=[Person(member=m, name=n) for m, n in self.stage.items()],
            hands=[Person(member=m, name=n) for m, n in self.hands.items()],
            questions=[msgspec.structs.replace(q, voters=list(q.voters))
                       for q in self.questions.values()],
            off_record=None if self.off_record is None else msgspec.structs.replace(
                self.off_record),
            keep_transcript=self.keep_transcript,
            scribe=None if self.scribe is None else msgspec.structs.replace(self.scribe),
            attendees=[msgspec.structs.replace(a) for a in self.attendees.values()],
            case_prompts=[msgspec.structs.replace(self.case_prompts[i])
                          for i in sorted(self.case_prompts)],
            warned=sorted(self.warned), **self.ups.snapshot_fields(),
            community=self.community, started_ms=self.started_ms, ended_ms=self.ended_ms,
            asked=self.asked,
        )

    @classmethod
    def from_snapshot(cls, snap: SessionSnapshot, seq: int) -> SessionState:
        """The state a snapshot was taken from (what a client starts its fold with)."""
        state = cls(snap.session)
        state.room, state.title, state.phase, state.seq = snap.room, snap.title, snap.phase, seq
        state.community = snap.community
        state.agenda = [msgspec.structs.replace(s) for s in snap.agenda]
        state.index, state.deadline_ms, state.remaining_ms = (
            snap.index, snap.deadline_ms, snap.remaining_ms)
        state.round = snap.round
        state.stage = {p.member: p.name for p in snap.stage}
        state.hands = {p.member: p.name for p in snap.hands}
        state.questions = {q.question: msgspec.structs.replace(q, voters=list(q.voters))
                           for q in snap.questions}
        state.asked = max(snap.asked, *state.questions, 0)  # 0: written before it was kept
        state.off_record = snap.off_record and msgspec.structs.replace(snap.off_record)
        state.keep_transcript = snap.keep_transcript
        state.scribe = snap.scribe and msgspec.structs.replace(snap.scribe)
        state.attendees = {a.member: msgspec.structs.replace(a) for a in snap.attendees}
        state.case_prompts = {c.segment: msgspec.structs.replace(c) for c in snap.case_prompts}
        state.warned = set(snap.warned)
        state.ups = PairUps.from_snapshot(snap)
        state.started_ms, state.ended_ms = snap.started_ms, snap.ended_ms
        return state


def _new_deadline(state: SessionState, deadline_ms: int) -> None:
    state.deadline_ms = deadline_ms
    state.remaining_ms = None
    state.warned = set()


def apply(state: SessionState, event: Event) -> SessionState:
    """Fold one event into ``state`` (in place) and return it."""
    state.seq = event.seq
    body = event.body
    if body is None:  # erased: the tombstone changes nothing we can still show
        return state
    handler = _HANDLERS.get(type(body))
    if handler is not None:
        handler(state, body, event)
    return state


def _opened(state: SessionState, body: Any, event: Event) -> None:
    assert isinstance(body, SessionOpened)
    state.session, state.room, state.title = body.session, body.room, body.title
    state.community = body.community
    state.agenda = list(body.agenda)
    state.keep_transcript = body.keep_transcript


def _agenda(state: SessionState, body: Any, event: Event) -> None:
    state.agenda = list(body.agenda)
    state.index = min(state.index, len(state.agenda) - 1)
    state.round = min(state.round, round_count(state.segment))  # rounds cut: the last one


def _started(state: SessionState, body: Any, event: Event) -> None:
    assert isinstance(body, SessionStarted)
    state.phase, state.index, state.round, state.started_ms = "running", 0, 0, event.ts
    state.ups.segment_changed(body.pairs)
    _new_deadline(state, body.deadline_ms)


def _changed(state: SessionState, body: Any, event: Event) -> None:
    assert isinstance(body, SegmentChanged)
    state.phase, state.index, state.round = "running", body.index, 0
    state.ups.segment_changed(body.pairs)
    _new_deadline(state, body.deadline_ms)


def _extended(state: SessionState, body: Any, event: Event) -> None:
    _new_deadline(state, body.deadline_ms)


def _round(state: SessionState, body: Any, event: Event) -> None:
    assert isinstance(body, CaseRoundStarted)
    if state.phase == "running" and body.segment == state.index:
        state.round = body.round
        _new_deadline(state, body.deadline_ms)


def _paused(state: SessionState, body: Any, event: Event) -> None:
    state.phase, state.deadline_ms, state.remaining_ms = "paused", None, body.remaining_ms


def _resumed(state: SessionState, body: Any, event: Event) -> None:
    state.phase = "running"
    _new_deadline(state, body.deadline_ms)


def _warned(state: SessionState, body: Any, event: Event) -> None:
    if body.index == state.index and body.round == state.round:
        state.warned.add(body.left)


def _ended(state: SessionState, body: Any, event: Event) -> None:
    state.phase, state.deadline_ms, state.remaining_ms = "ended", None, None
    state.ended_ms = event.ts
    state.hands.clear()
    state.ups.session_ended()
    if state.off_record is not None:  # a session ends on the record
        state.off_record = None


def _stage(state: SessionState, body: Any, event: Event) -> None:
    if body.on:
        state.stage[body.member] = body.name
        state.hands.pop(body.member, None)
    else:
        state.stage.pop(body.member, None)


def _hand_raised(state: SessionState, body: Any, event: Event) -> None:
    state.hands.setdefault(body.member, body.name)


def _hand_lowered(state: SessionState, body: Any, event: Event) -> None:
    state.hands.pop(body.member, None)


def _asked(state: SessionState, body: Any, event: Event) -> None:
    assert isinstance(body, QuestionAsked)
    number = state.asked = question_number(state.asked, body.question)
    state.questions[number] = Question(
        question=number, text=body.text, anonymous=body.anonymous,
        asker=None if body.anonymous else body.asker,
        asker_name="" if body.anonymous else body.asker_name,
        owner_key=body.owner_key, ts=event.ts)


def _question(state: SessionState, body: Any) -> Question | None:
    return state.questions.get(body.question)


def _edited(state: SessionState, body: Any, event: Event) -> None:
    question = _question(state, body)
    if question is not None and question.state == "open":
        question.text = body.text


def _settle(to: QuestionState) -> Any:
    def settle(state: SessionState, body: Any, event: Event) -> None:
        question = _question(state, body)
        if question is not None and question.state == "open":
            question.state, question.pinned = to, False
    return settle


def _upvoted(state: SessionState, body: Any, event: Event) -> None:
    question = _question(state, body)
    if question is not None and body.member not in question.voters:
        question.voters.append(body.member)
        question.votes = len(question.voters)


def _unvoted(state: SessionState, body: Any, event: Event) -> None:
    question = _question(state, body)
    if question is not None and body.member in question.voters:
        question.voters.remove(body.member)
        question.votes = len(question.voters)


def _pinned(state: SessionState, body: Any, event: Event) -> None:
    question = _question(state, body)
    if question is not None and question.state == "open":
        question.pinned = body.pinned


def _off_started(state: SessionState, body: Any, event: Event) -> None:
    state.off_record = OffRecord(by=event.actor, since_ms=event.ts)


def _off_ended(state: SessionState, body: Any, event: Event) -> None:
    state.off_record = None


def _scribe(state: SessionState, body: Any, event: Event) -> None:
    state.scribe = Person(member=body.member, name=body.name)


def _case(state: SessionState, body: Any, event: Event) -> None:
    state.case_prompts[body.segment] = CasePrompts(
        segment=body.segment, situation=body.situation, tried=body.tried,
        question=body.question)


def _arrived(state: SessionState, body: Any, event: Event) -> None:
    state.attendees.setdefault(body.member, Attendee(member=body.member, name=body.name,
                                                     guest=body.guest))


def _kept(state: SessionState, body: Any, event: Event) -> None:
    """Chat, notes and captions are the transcript: read from the stream, not the state."""


def _erased(state: SessionState, body: Any, event: Event) -> None:
    """Forget what the erased bodies held, as if never folded (:mod:`.session_erasure`)."""
    assert isinstance(body, WordsErased)
    for number in body.questions:
        state.questions.pop(number, None)
        state.asked = max(state.asked, number)
    for segment in body.case_segments:
        state.case_prompts.pop(segment, None)
    state.ups.erased(set(body.seqs))


_HANDLERS: dict[type[EventBody], Any] = {
    SessionOpened: _opened, AgendaEdited: _agenda, SessionStarted: _started,
    SegmentChanged: _changed, SegmentExtended: _extended, SessionPaused: _paused,
    SessionResumed: _resumed, SegmentWarned: _warned, CaseRoundStarted: _round,
    SessionEnded: _ended,
    StageChanged: _stage, HandRaised: _hand_raised, HandLowered: _hand_lowered,
    QuestionAsked: _asked, QuestionEdited: _edited,
    QuestionWithdrawn: _settle("withdrawn"), QuestionAnswered: _settle("answered"),
    QuestionDismissed: _settle("dismissed"), QuestionUpvoted: _upvoted,
    QuestionUnvoted: _unvoted, QuestionPinned: _pinned, OffRecordStarted: _off_started,
    OffRecordEnded: _off_ended, ScribeNamed: _scribe, CasePromptsSet: _case,
    AttendeeArrived: _arrived, NoteAdded: _kept, ChatSaid: _kept, CaptionAdded: _kept,
    WordsErased: _erased,
    **{kind: lambda state, body, event: state.ups.apply(body, event)
       for kind in PAIR_HANDLERS},
}


def board_order(questions: Iterable[Question]) -> list[Question]:
    """The Q&A board: open first, pinned first, most votes first, then asked first."""
    return sorted(questions, key=lambda q: (q.state != "open", not q.pinned, -q.votes,
                                            q.question))


# --- deadlines ---------------------------------------------------------------


SESSION_TIMERS = TimedKind(prefix="session:", initial=SessionState, apply=apply, due=due,
                           finished=lambda state: state.phase == "ended")
TIMED_KINDS.append(SESSION_TIMERS)


# --- what a client folds, in a form to compare ------------------------------------


def fold(snapshot: SessionSnapshot, seq: int, events: Iterable[Event]) -> SessionState:
    """A client's fold: the state at ``seq`` and the events after it (duplicates and
    events from before the snapshot change nothing)."""
    state = SessionState.from_snapshot(snapshot, seq)
    for event in events:
        if event.seq > state.seq:
            apply(state, event)
    return state


def normal_form(state: SessionState) -> dict[str, Any]:
    """The state as plain data, to compare two folds."""
    data: dict[str, Any] = msgspec.to_builtins(state.snapshot())
    data["seq"] = state.seq
    return data


def restore(session: str, body: bytes, seq: int) -> SessionState:
    """The state a kept snapshot (JSON of :class:`SessionSnapshot`) says it was at ``seq``;
    a ``msgspec`` error when the body is not one (written by another version)."""
    return SessionState.from_snapshot(_snapshot_decoder.decode(body), seq)
