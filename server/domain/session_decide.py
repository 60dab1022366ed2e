"""What each session command decides: the events to append, or a typed refusal. Pure.

:func:`decide` takes the session's folded state, who asks (:class:`SessionActor`,
built at the edge from their role and a keyed hash), the op, the time and a random
source (for pair-ups), and returns a :class:`Decided`, or raises a
:class:`~server.errors.CommandError` and changes nothing:

- ``out_of_order``: the op does not fit the session now (advance before start or
  while paused, upvote twice, answer a withdrawn question, raise a raised hand);
- ``forbidden``: not yours (edit someone else's question, a note by a non-scribe);
- ``not_found``: no such session, question or attendee;
- ``invalid``: bad input the frame's types could not catch (blank text).

Which role an op needs is :func:`required_action` (checked at the edge with
``allowed()``, like every command); the checks that need the state (is this the
asker, the scribe, the presenter on stage) are here.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, NamedTuple

from ..errors import Forbidden, InvalidCommand, NotFound, OutOfOrder
from .events import EventBody
from .policy import Action
from .session import Question, SessionState, pairs_for, segment_ms
from .session_events import (
    AgendaEdited,
    AttendeeArrived,
    CaptionAdded,
    CasePromptsSet,
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
    SessionEnded,
    SessionOpened,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    StageChanged,
)

MINUTE_MS = 60_000


class SessionActor(NamedTuple):
    """Who sends a session command, as the pure decision needs them."""

    id: str
    name: str
    key: str
    """A keyed hash of (server secret, session, member), computed at the edge: the
    decision recognises an anonymous asker by it without the event naming them."""
    runs: bool = False
    """May run the session (``run_session``): act on others' hands, write notes."""
    guest: bool = False


class Decided(NamedTuple):
    bodies: list[EventBody]
    """To append (none: nothing needed to change)."""
    relay: dict[str, Any] | None = None
    """Off the record: not appended; sent to those present through the relay instead."""
    anonymous: bool = False
    """Append without an actor: the event must not name who sent it."""


def owner_key(key: str, question: int) -> str:
    """The per-question owner key: unlinkable across questions without ``key``."""
    return hashlib.sha256(f"{key}:{question}".encode()).hexdigest()[:32]


_ACTIONS: dict[str, Action] = {
    "open": Action.OPEN_SESSION, "start": Action.RUN_SESSION, "advance": Action.RUN_SESSION,
    "back": Action.RUN_SESSION, "extend": Action.RUN_SESSION, "pause": Action.RUN_SESSION,
    "resume": Action.RUN_SESSION, "end": Action.RUN_SESSION,
    "edit_agenda": Action.RUN_SESSION, "stage": Action.RUN_SESSION,
    "bring_up": Action.RUN_SESSION, "off_record": Action.RUN_SESSION,
    "name_scribe": Action.RUN_SESSION, "pin": Action.MODERATE_QUESTIONS,
    "answer": Action.MODERATE_QUESTIONS, "dismiss": Action.MODERATE_QUESTIONS,
    "ask": Action.SPEAK_IN_SESSION, "edit_question": Action.SPEAK_IN_SESSION,
    "say": Action.SPEAK_IN_SESSION, "withdraw": Action.TAKE_PART,
    "upvote": Action.TAKE_PART, "unvote": Action.TAKE_PART, "raise_hand": Action.TAKE_PART,
    "lower_hand": Action.TAKE_PART, "attend": Action.TAKE_PART, "note": Action.TAKE_PART,
    "caption": Action.TAKE_PART, "case_prompts": Action.TAKE_PART,
}
"""The action each op needs on the session's room. ``note`` and ``caption`` also need
the sender to be the scribe or able to run the session; ``case_prompts`` the presenter
on stage or a host; ``lower_hand`` for someone else ``run_session`` (all decided here)."""


def required_action(op: str, member: str | None = None, sender: str = "") -> Action:
    if op == "lower_hand" and member is not None and member != sender:
        return Action.RUN_SESSION
    return _ACTIONS[op]


def clean(text: str, what: str = "text") -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidCommand(f"the {what} is empty")
    return cleaned


def decide_open(session: str, community: str, room: str, title: str, agenda: list[Segment],
                keep_transcript: bool, state: SessionState) -> list[EventBody]:
    if state.opened:
        raise OutOfOrder(f"session {session!r} is already open")
    return [SessionOpened(session=session, community=community, room=room,
                          title=clean(title, "title"), agenda=agenda,
                          keep_transcript=keep_transcript)]


def _phase(state: SessionState, *phases: str, doing: str) -> None:
    if state.phase not in phases:
        hint = {"lobby": "the session has not started", "paused": "the session is paused",
                "ended": "the session has ended",
                "running": "the session is running"}[state.phase]
        raise OutOfOrder(f"cannot {doing}: {hint}")


def _live(state: SessionState, doing: str) -> None:
    _phase(state, "lobby", "running", "paused", doing=doing)


def _question(state: SessionState, number: int) -> Question:
    question = state.questions.get(number)
    if question is None:
        raise NotFound(f"no question {number}")
    return question


def _open_question(state: SessionState, number: int, doing: str) -> Question:
    question = _question(state, number)
    if question.state != "open":
        raise OutOfOrder(f"cannot {doing} question {number}: it was {question.state}")
    return question


def _own_question(state: SessionState, actor: SessionActor, number: int,
                  doing: str) -> Question:
    question = _question(state, number)
    if question.owner_key != owner_key(actor.key, number):
        raise Forbidden(f"only the asker may {doing} question {number}")
    if question.state != "open":
        raise OutOfOrder(f"cannot {doing} question {number}: it was {question.state}")
    return question


def _attendee(state: SessionState, member: str) -> str:
    attendee = state.attendees.get(member)
    if attendee is None:
        raise NotFound(f"{member} has not come to this session")
    return attendee.name


def _segment_start(state: SessionState, index: int, now_ms: int, rng: random.Random,
                   how: Any) -> SegmentChanged:
    return SegmentChanged(index=index, deadline_ms=now_ms + segment_ms(state.agenda[index]),
                          how=how, pairs=pairs_for(state, index, rng))


def _kept_or_relayed(state: SessionState, body: EventBody, kind: str,
                     data: dict[str, Any]) -> Decided:
    """Chat, notes and captions: kept, or relayed (never stored) off the record."""
    if state.off_record is not None:
        return Decided([], relay={"what": kind, **data})
    return Decided([body])


def decide(state: SessionState, actor: SessionActor, op: Any, now_ms: int,
           rng: random.Random) -> Decided:
    """The events ``op`` (a :mod:`server.session_protocol` op) appends to ``state``."""
    if not state.opened:
        raise NotFound(f"no session {state.session!r}")
    name = type(op).__struct_config__.tag
    handler = _DECIDERS.get(name)
    if handler is None:
        raise InvalidCommand(f"{name!r} is not decided here")
    result: Decided | list[EventBody] = handler(state, actor, op, now_ms, rng)
    return result if isinstance(result, Decided) else Decided(result)


def _start(state: SessionState, actor: SessionActor, op: Any, now: int,
           rng: random.Random) -> list[EventBody]:
    _phase(state, "lobby", doing="start")
    return [SessionStarted(deadline_ms=now + segment_ms(state.agenda[0]),
                           pairs=pairs_for(state, 0, rng))]


def _moved_on(state: SessionState, op: Any) -> None:
    if op.index is not None and op.index != state.index:
        raise OutOfOrder(f"the session is at segment {state.index + 1} now, not "
                         f"{op.index + 1}: someone moved it already")


def _advance(state: SessionState, actor: SessionActor, op: Any, now: int,
             rng: random.Random) -> list[EventBody]:
    _phase(state, "running", doing="advance")
    _moved_on(state, op)
    if state.index + 1 >= len(state.agenda):
        raise OutOfOrder("this is the last segment: end the session instead")
    return [_segment_start(state, state.index + 1, now, rng, "advance")]


def _back(state: SessionState, actor: SessionActor, op: Any, now: int,
          rng: random.Random) -> list[EventBody]:
    _phase(state, "running", doing="go back")
    _moved_on(state, op)
    if state.index == 0:
        raise OutOfOrder("this is the first segment")
    return [_segment_start(state, state.index - 1, now, rng, "back")]


def _extend(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    _phase(state, "running", doing="extend")
    assert state.deadline_ms is not None
    return [SegmentExtended(minutes=op.minutes,
                            deadline_ms=max(state.deadline_ms, now) + op.minutes * MINUTE_MS)]


def _pause(state: SessionState, actor: SessionActor, op: Any, now: int,
           rng: random.Random) -> list[EventBody]:
    _phase(state, "running", doing="pause")
    assert state.deadline_ms is not None
    return [SessionPaused(remaining_ms=max(0, state.deadline_ms - now))]


def _resume(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    _phase(state, "paused", doing="resume")
    return [SessionResumed(deadline_ms=now + (state.remaining_ms or 0))]


def _end(state: SessionState, actor: SessionActor, op: Any, now: int,
         rng: random.Random) -> list[EventBody]:
    _live(state, "end")
    closing: list[EventBody] = []
    if state.off_record is not None:  # the record shows where the stretch ended
        closing.append(OffRecordEnded(started_ms=state.off_record.since_ms))
    return [*closing, SessionEnded()]


def _edit_agenda(state: SessionState, actor: SessionActor, op: Any, now: int,
                 rng: random.Random) -> list[EventBody]:
    _live(state, "edit the agenda")
    if state.phase != "lobby" and len(op.agenda) <= state.index:
        raise OutOfOrder(f"the agenda must keep the current segment ({state.index + 1})")
    if op.agenda == state.agenda:
        return []
    return [AgendaEdited(agenda=list(op.agenda))]


def _stage(state: SessionState, actor: SessionActor, op: Any, now: int,
           rng: random.Random) -> list[EventBody]:
    _live(state, "change the stage")
    if op.on:
        name = _attendee(state, op.member)
        if op.member in state.stage:
            raise OutOfOrder(f"{name} is on stage already")
        return [StageChanged(member=op.member, name=name, on=True)]
    if op.member not in state.stage:
        raise OutOfOrder(f"{op.member} is not on stage")
    return [StageChanged(member=op.member, name=state.stage[op.member], on=False)]


def _raise_hand(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random) -> list[EventBody]:
    _live(state, "raise a hand")
    _attendee(state, actor.id)
    if actor.id in state.hands:
        raise OutOfOrder("your hand is raised already")
    if actor.id in state.stage:
        raise OutOfOrder("you are on stage")
    return [HandRaised(member=actor.id, name=actor.name)]


def _lower_hand(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random) -> list[EventBody]:
    _live(state, "lower a hand")
    member = op.member or actor.id
    if member != actor.id and not actor.runs:
        raise Forbidden("only a host may lower someone else's hand")
    if member not in state.hands:
        raise OutOfOrder("that hand is not raised")
    return [HandLowered(member=member)]


def _bring_up(state: SessionState, actor: SessionActor, op: Any, now: int,
              rng: random.Random) -> list[EventBody]:
    _live(state, "bring someone up")
    if op.member not in state.hands:
        raise OutOfOrder(f"{op.member} has not raised a hand")
    return [StageChanged(member=op.member, name=state.hands[op.member], on=True)]


def _ask(state: SessionState, actor: SessionActor, op: Any, now: int,
         rng: random.Random) -> Decided:
    _live(state, "ask")
    number = len(state.questions) + 1
    anonymous = bool(op.anonymous)
    body = QuestionAsked(question=number, text=clean(op.text, "question"), anonymous=anonymous,
                         asker=None if anonymous else actor.id,
                         asker_name="" if anonymous else actor.name,
                         owner_key=owner_key(actor.key, number))
    return Decided([body], anonymous=anonymous)


def _edit_question(state: SessionState, actor: SessionActor, op: Any, now: int,
                   rng: random.Random) -> Decided:
    _live(state, "edit a question")
    question = _own_question(state, actor, op.question, "edit")
    text = clean(op.text, "question")
    bodies: list[EventBody] = (
        [] if text == question.text else [QuestionEdited(question=op.question, text=text)])
    return Decided(bodies, anonymous=question.anonymous)


def _withdraw(state: SessionState, actor: SessionActor, op: Any, now: int,
              rng: random.Random) -> Decided:
    _live(state, "withdraw a question")
    question = _own_question(state, actor, op.question, "withdraw")
    return Decided([QuestionWithdrawn(question=op.question)], anonymous=question.anonymous)


def _upvote(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    _live(state, "upvote")
    question = _open_question(state, op.question, "upvote")
    if question.owner_key == owner_key(actor.key, op.question):
        raise OutOfOrder("you may not upvote your own question")
    if actor.id in question.voters:
        raise OutOfOrder(f"you upvoted question {op.question} already")
    return [QuestionUpvoted(question=op.question, member=actor.id)]


def _unvote(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    _live(state, "take back a vote")
    question = _open_question(state, op.question, "take back a vote on")
    if actor.id not in question.voters:
        raise OutOfOrder(f"you have not upvoted question {op.question}")
    return [QuestionUnvoted(question=op.question, member=actor.id)]


def _pin(state: SessionState, actor: SessionActor, op: Any, now: int,
         rng: random.Random) -> list[EventBody]:
    _live(state, "pin")
    question = _open_question(state, op.question, "pin")
    if question.pinned == op.pinned:
        return []
    return [QuestionPinned(question=op.question, pinned=op.pinned)]


def _answer(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    _live(state, "answer")
    _open_question(state, op.question, "answer")
    return [QuestionAnswered(question=op.question)]


def _dismiss(state: SessionState, actor: SessionActor, op: Any, now: int,
             rng: random.Random) -> list[EventBody]:
    _live(state, "dismiss")
    _open_question(state, op.question, "dismiss")
    return [QuestionDismissed(question=op.question)]


def _off_record(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random) -> list[EventBody]:
    _live(state, "go off the record")
    if op.on:
        if state.off_record is not None:
            raise OutOfOrder("the session is off the record already")
        return [OffRecordStarted()]
    if state.off_record is None:
        raise OutOfOrder("the session is on the record")
    return [OffRecordEnded(started_ms=state.off_record.since_ms)]


def _name_scribe(state: SessionState, actor: SessionActor, op: Any, now: int,
                 rng: random.Random) -> list[EventBody]:
    _live(state, "name a scribe")
    name = _attendee(state, op.member)
    if state.scribe is not None and state.scribe.member == op.member:
        return []
    return [ScribeNamed(member=op.member, name=name)]


def _may_write(state: SessionState, actor: SessionActor, what: str) -> None:
    if not actor.runs and (state.scribe is None or state.scribe.member != actor.id):
        raise Forbidden(f"only the scribe or a host may add {what}")


def _note(state: SessionState, actor: SessionActor, op: Any, now: int,
          rng: random.Random) -> Decided:
    _may_write(state, actor, "notes")
    text = clean(op.text, "note")
    return _kept_or_relayed(state, NoteAdded(text=text, name=actor.name), "note",
                            {"text": text, "name": actor.name})


def _say(state: SessionState, actor: SessionActor, op: Any, now: int,
         rng: random.Random) -> Decided:
    _live(state, "chat")
    text = clean(op.text, "message")
    return _kept_or_relayed(state, ChatSaid(text=text, name=actor.name), "say",
                            {"text": text, "name": actor.name})


def _caption(state: SessionState, actor: SessionActor, op: Any, now: int,
             rng: random.Random) -> Decided:
    _may_write(state, actor, "captions")
    start = now if op.start_ms is None else op.start_ms
    end = start if op.end_ms is None else op.end_ms
    if end < start:
        raise InvalidCommand("a caption cannot end before it starts")
    text = clean(op.text, "caption")
    body = CaptionAdded(text=text, start_ms=start, end_ms=end, speaker=op.speaker.strip())
    return _kept_or_relayed(state, body, "caption", {"text": text, "speaker": body.speaker})


def _case_prompts(state: SessionState, actor: SessionActor, op: Any, now: int,
                  rng: random.Random) -> list[EventBody]:
    _live(state, "set case prompts")
    if not (0 <= op.segment < len(state.agenda)) or state.agenda[op.segment].kind != "case":
        raise InvalidCommand(f"segment {op.segment} is not a case consultation")
    if not actor.runs and actor.id not in state.stage:
        raise Forbidden("only the presenter on stage or a host may set the case prompts")
    return [CasePromptsSet(segment=op.segment, situation=op.situation.strip(),
                           tried=op.tried.strip(), question=op.question.strip())]


def _attend(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random) -> list[EventBody]:
    if actor.id in state.attendees or state.phase == "ended":  # follows it, not counted

        return []
    return [AttendeeArrived(member=actor.id, name=actor.name, guest=actor.guest)]


_DECIDERS: dict[str, Any] = {
    "start": _start, "advance": _advance, "back": _back, "extend": _extend,
    "pause": _pause, "resume": _resume, "end": _end, "edit_agenda": _edit_agenda,
    "stage": _stage, "raise_hand": _raise_hand, "lower_hand": _lower_hand,
    "bring_up": _bring_up, "ask": _ask, "edit_question": _edit_question,
    "withdraw": _withdraw, "upvote": _upvote, "unvote": _unvote, "pin": _pin,
    "answer": _answer, "dismiss": _dismiss, "off_record": _off_record,
    "name_scribe": _name_scribe, "note": _note, "say": _say, "caption": _caption,
    "case_prompts": _case_prompts, "attend": _attend,
}
