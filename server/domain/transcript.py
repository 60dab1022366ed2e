"""The transcript: a session's stream read as what was said, segment by segment.

The session stream is the transcript (one stream, see the README): this module folds
its events into lines grouped by the segment they happened in: chat, questions and
answers, the scribe's and host's notes, stage and segment changes, captions,
off-the-record stretches, and pair-up rounds with the host's broadcasts and what
people took away (what pairs said in their breakout rooms was never stored). It is
pure and never names an anonymous asker (it reads neither ``asker`` nor the event's
actor for an anonymous question). What was said off the record was never stored;
the transcript shows only that a stretch happened, by whom, from when to when. Words
erased for privacy leave a line of kind ``erased`` at their seq (no text, no who), so a
link to where they were said still lands; the ``words_erased`` marker says no line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from .events import Event
from .session_erasure import question_number
from .session_events import (
    AgendaEdited,
    AttendeeArrived,
    CaptionAdded,
    CasePromptsSet,
    CaseRoundStarted,
    ChatSaid,
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
    SegmentChanged,
    SegmentExtended,
    SessionEnded,
    SessionOpened,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    StageChanged,
    WordsErased,
)
from .session_pair_events import PairsBroadcast, PairsEnded, PairsMade, TakeawayShared

LineKind = Literal["session", "segment", "chat", "question", "answer", "note", "stage",
                   "caption", "off_record", "case", "pairs", "broadcast", "takeaway",
                   "erased"]
ANONYMOUS = "Anonymous"
SOMEONE = "Someone"
OFF_RECORD = "Off the record"


class TranscriptLine(msgspec.Struct, kw_only=True):
    """One thing said or done. ``at_ms`` is its offset from the session's start (a
    caption's own cue time; negative before the start), ``ts`` when it was recorded."""

    seq: int
    """The seq of the event that said it: the link back to where it was said."""
    ts: int
    at_ms: int
    end_ms: int | None = None
    """Captions: where the cue ends (offset from the session's start)."""
    until: int | None = None
    """Off the record: when the stretch ended (ms since the epoch); None while it lasts."""
    kind: LineKind
    """``erased``: words erased for privacy; its text and who are empty, and it keeps
    its seq, so a link to where it was said still lands."""
    who: str = ""
    """Who said or did it, by name; ``Anonymous`` for an anonymous question."""
    text: str
    question: int | None = None
    votes: int | None = None
    status: str = ""
    """Questions: open, answered, dismissed or withdrawn; edited questions read as edited."""
    erasable: bool = False
    """This reader may erase this line (they said it, an anonymous question they asked
    included, or they may erase anyone's words). Per reader; JSON only."""


class TranscriptSegment(msgspec.Struct, kw_only=True):
    """The lines of one stretch of the agenda (``index`` None: before the start)."""

    index: int | None
    title: str
    kind: str
    started: int | None
    lines: list[TranscriptLine]


class Transcript(msgspec.Struct, kw_only=True):
    """A session's transcript, as exported to JSON."""

    session: str
    room: str
    room_name: str
    community: str
    title: str
    keep_transcript: bool
    scribe: str | None
    """The member the host named scribe (who may add notes and captions), if any."""
    opened: int
    started: int | None
    ended: int | None
    segments: list[TranscriptSegment]
    seq: int = 0
    """The session stream's head it was read at: ``follow`` ``session:<id>`` from here to
    hear of what changes it (an erasure, a new line)."""


class _Reader:
    """Folds events into segments; knows names from what the stream says."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)
        self.transcript: Transcript | None = None
        self.agenda: list[tuple[str, str]] = []
        self.questions: dict[int, TranscriptLine] = {}
        self.asked = 0
        """Questions are numbered as the session's fold numbers them."""
        self.voters: dict[int, set[str]] = {}
        self.off_record: TranscriptLine | None = None
        self.erased: dict[int, TranscriptLine] = {}

    def name(self, member: str | None) -> str:
        return self.names.get(member or "", SOMEONE)

    def segment(self) -> TranscriptSegment:
        assert self.transcript is not None
        return self.transcript.segments[-1]

    def add(self, event: Event, kind: LineKind, text: str, who: str = "", **more: object
            ) -> TranscriptLine:
        line = TranscriptLine(seq=event.seq, ts=event.ts, at_ms=0, kind=kind, who=who,
                              text=text)
        for field, value in more.items():
            setattr(line, field, value)
        self.segment().lines.append(line)
        return line

    def begin(self, event: Event, index: int) -> None:
        title, kind = self.agenda[index] if 0 <= index < len(self.agenda) else ("", "open")
        assert self.transcript is not None
        self.transcript.segments.append(TranscriptSegment(
            index=index, title=title, kind=kind, started=event.ts, lines=[]))

    def read(self, event: Event) -> None:
        body = event.body
        if body is None:  # erased for privacy: the line stays, its words do not
            if self.transcript is not None:
                self.erased[event.seq] = self.add(event, "erased", "")
            return
        if isinstance(body, SessionOpened):
            self.transcript = Transcript(
                session=body.session, room=body.room, room_name="", community="",
                title=body.title, keep_transcript=body.keep_transcript, scribe=None,
                opened=event.ts, started=None,
                ended=None, segments=[TranscriptSegment(
                    index=None, title="Before the start", kind="lobby", started=None,
                    lines=[])])
            self.agenda = [(s.title, s.kind) for s in body.agenda]
            return
        if self.transcript is None:
            return
        if isinstance(body, AgendaEdited):
            self.agenda = [(s.title, s.kind) for s in body.agenda]
        elif isinstance(body, AttendeeArrived):
            self.names[body.member] = body.name
        elif isinstance(body, ScribeNamed):
            self.names[body.member] = body.name
            self.transcript.scribe = body.member
            self.add(event, "session", f"{body.name} is the scribe", self.name(event.actor))
        elif isinstance(body, SessionStarted):
            self.transcript.started = event.ts
            self.begin(event, 0)
            self.add(event, "segment", "The session started", self.name(event.actor))
        elif isinstance(body, SegmentChanged):
            self.begin(event, body.index)
            how = {"advance": "moved on", "back": "went back", "auto": "moved on (time)"}
            self.add(event, "segment", f"Segment {body.index + 1}: {how[body.how]}",
                     "" if body.how == "auto" else self.name(event.actor))
        elif isinstance(body, CaseRoundStarted):
            what = (f"Round {body.round}: peer advice" if body.round
                    else "Back to the case")
            self.add(event, "segment", what,
                     "" if body.how == "auto" else self.name(event.actor))
        elif isinstance(body, SegmentExtended):
            self.add(event, "segment", f"Extended by {body.minutes} min",
                     self.name(event.actor))
        elif isinstance(body, SessionPaused):
            self.add(event, "segment", "Paused", self.name(event.actor))
        elif isinstance(body, SessionResumed):
            self.add(event, "segment", "Resumed", self.name(event.actor))
        elif isinstance(body, SessionEnded):
            self.transcript.ended = event.ts
            self.add(event, "session", "The session ended", self.name(event.actor))
        elif isinstance(body, StageChanged):
            self.names[body.member] = body.name
            self.add(event, "stage", f"{body.name} {'is on' if body.on else 'left'} the stage",
                     self.name(event.actor))
        elif isinstance(body, HandRaised):
            self.names[body.member] = body.name
        elif isinstance(body, ChatSaid):
            if event.actor:
                self.names.setdefault(event.actor, body.name)
            self.add(event, "chat", body.text, body.name)
        elif isinstance(body, TakeawayShared):
            if event.actor:
                self.names.setdefault(event.actor, body.name)
            self.add(event, "takeaway", body.text, body.name)
        elif isinstance(body, PairsBroadcast):
            self.add(event, "broadcast", body.text, body.name)
        elif isinstance(body, PairsMade):
            size = sum(len(g.members) for g in body.groups)
            self.add(event, "pairs", f"Pair-ups, round {body.round}: {size} people in "
                     f"{len(body.groups)} breakout rooms", self.name(event.actor))
        elif isinstance(body, PairsEnded):
            self.add(event, "pairs", f"Pair-ups, round {body.round}: back in the main room"
                     + (" (time)" if body.how == "time" else ""),
                     "" if body.how == "time" else self.name(event.actor))
        elif isinstance(body, NoteAdded):
            self.add(event, "note", body.text, body.name or self.name(event.actor))
        elif isinstance(body, CaptionAdded):
            # Cue times are ms since the epoch (live: when said; uploaded: the session's
            # start plus the file's cue time); made relative to the start at the end.
            self.add(event, "caption", body.text, body.speaker,
                     at_ms=body.start_ms, end_ms=body.end_ms)
        elif isinstance(body, CasePromptsSet):
            self.add(event, "case", f"Situation: {body.situation}\nWhat was tried: "
                     f"{body.tried}\nQuestion for the group: {body.question}",
                     self.name(event.actor))
        elif isinstance(body, QuestionAsked):
            who = ANONYMOUS if body.anonymous else body.asker_name
            number = self.asked = question_number(self.asked, body.question)
            self.questions[number] = self.add(
                event, "question", body.text, who, question=number, votes=0, status="open")
            self.voters[number] = set()
        elif isinstance(body, WordsErased):
            self.words_erased(body)
        elif isinstance(body, QuestionUpvoted | QuestionUnvoted):
            voters = self.voters.get(body.question)
            if voters is not None:
                (voters.add if isinstance(body, QuestionUpvoted) else voters.discard)(
                    body.member)
                self.questions[body.question].votes = len(voters)
        elif isinstance(body, QuestionEdited):
            if (line := self.questions.get(body.question)) is not None:
                line.text, line.status = body.text, "open, edited"
        elif isinstance(body, QuestionWithdrawn | QuestionDismissed):
            if (line := self.questions.get(body.question)) is not None:
                line.status = ("withdrawn" if isinstance(body, QuestionWithdrawn)
                               else "dismissed")
        elif isinstance(body, QuestionAnswered):
            if (line := self.questions.get(body.question)) is not None:
                line.status = "answered"
                self.add(event, "answer", f"Answered question {body.question}: {line.text}",
                         self.name(event.actor), question=body.question)
        elif isinstance(body, QuestionPinned):
            pass  # a pin orders the board; it says nothing
        elif isinstance(body, OffRecordStarted):
            self.off_record = self.add(event, "off_record", OFF_RECORD, self.name(event.actor))
        elif isinstance(body, OffRecordEnded):
            line = self.off_record
            if line is None:  # the start was erased: still say it happened
                line = self.add(event, "off_record", OFF_RECORD, self.name(event.actor))
                line.ts = body.started_ms
            line.until = event.ts
            self.off_record = None


    def words_erased(self, body: WordsErased) -> None:
        """The marker says no line itself. A question's edits were never lines of their
        own: their tombstones go, its first (its asking) stays as the erased line."""
        self.asked = max(self.asked, *body.questions, 0)
        if not body.questions:
            return
        edits = {s for s in body.seqs if s != min(body.seqs) and s in self.erased}
        for segment in self.transcript.segments if self.transcript else []:
            segment.lines = [line for line in segment.lines if line.seq not in edits
                             or line is not self.erased[line.seq]]


def transcript_of(events: Iterable[Event], names: Mapping[str, str] | None = None,
                  ) -> Transcript | None:
    """The transcript of a session's events (None before its ``session_opened``).
    ``names`` names members the stream itself does not (the community's members)."""
    reader = _Reader(names or {})
    head = 0
    for event in events:
        reader.read(event)
        head = event.seq
    transcript = reader.transcript
    if transcript is None:
        return None
    transcript.seq = head
    _place_captions(transcript)
    if transcript.segments[0].index is None and not transcript.segments[0].lines:
        del transcript.segments[0]  # an empty lobby says nothing
    return transcript


def said_at(transcript: Transcript, line: TranscriptLine) -> int:
    """When a line was said (ms since the epoch): a caption at its cue's time in the
    session, anything else when it was recorded."""
    if line.kind == "caption":
        return (transcript.started or transcript.opened) + line.at_ms
    return line.ts


def _place_captions(transcript: Transcript) -> None:
    """Time every line from the start, and put each caption (uploaded after the session,
    perhaps) in the segment that was running at its cue's time, in time order."""
    start = transcript.started or transcript.opened
    for segment in transcript.segments:
        for line in segment.lines:
            if line.kind != "caption":
                line.at_ms = line.ts - start
            else:  # cue times were absolute
                line.at_ms -= start
                line.end_ms = None if line.end_ms is None else line.end_ms - start
    started = [s for s in transcript.segments if s.started is not None]
    for segment in transcript.segments:
        kept: list[TranscriptLine] = []
        for line in segment.lines:
            when = said_at(transcript, line)
            home = segment if line.kind != "caption" else next(
                (s for s in reversed(started) if s.started is not None and s.started <= when),
                segment)
            (kept if home is segment else home.lines).append(line)
        segment.lines = kept
    for segment in transcript.segments:
        segment.lines.sort(key=lambda line: (said_at(transcript, line), line.seq))
