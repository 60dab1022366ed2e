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

import random
from typing import Any

from ..errors import Forbidden, InvalidCommand, NotFound, OutOfOrder
from .events import EventBody
from .policy import Action as Action
from .session import SessionState
from .session_clock import part_ms, segment_ms
from .session_events import (
    AgendaEdited,
    CaptionAdded,
    CasePromptsSet,
    CaseRoundStarted,
    ChatSaid,
    HandLowered,
    HandRaised,
    NoteAdded,
    OffRecordEnded,
    OffRecordStarted,
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
    round_count,
)
from .session_pairs import NO_CONTEXT, PAIR_DECIDERS, PairContext, ended_by_host
from .session_qa import QA_DECIDERS
from .session_rules import MINUTE_MS as MINUTE_MS
from .session_rules import Decided as Decided
from .session_rules import SessionActor as SessionActor
from .session_rules import clean as clean
from .session_rules import owner_key as owner_key
from .session_rules import require_live as _live
from .session_rules import require_phase as _phase
from .session_rules import required_action as required_action
from .session_signal import SIGNAL_DECIDERS


def decide_open(session: str, community: str, room: str, title: str, agenda: list[Segment],
                keep_transcript: bool, state: SessionState) -> list[EventBody]:
    if state.opened:
        raise OutOfOrder(f"session {session!r} is already open")
    return [SessionOpened(session=session, community=community, room=room,
                          title=clean(title, "title"), agenda=agenda,
                          keep_transcript=keep_transcript)]


def _attendee(state: SessionState, member: str) -> str:
    attendee = state.attendees.get(member)
    if attendee is None:
        raise NotFound(f"{member} has not come to this session")
    return attendee.name


def _segment_start(state: SessionState, index: int, now_ms: int, how: Any) -> list[EventBody]:
    """A segment begins (a pair-up round running is ended first)."""
    return [*ended_by_host(state), SegmentChanged(
        index=index, deadline_ms=now_ms + segment_ms(state.agenda[index]), how=how)]


def _kept_or_relayed(state: SessionState, body: EventBody, kind: str,
                     data: dict[str, Any]) -> Decided:
    """Chat, notes and captions: kept, or relayed (never stored) off the record."""
    if state.off_record is not None:
        return Decided([], relay={"what": kind, **data})
    return Decided([body])


def decide(state: SessionState, actor: SessionActor, op: Any, now_ms: int,
           rng: random.Random, context: PairContext = NO_CONTEXT) -> Decided:
    """The events ``op`` (a :mod:`server.session_protocol` op) appends to ``state``;
    a pair-up op (and ``attend``) reads ``context`` (who is present in the room, the
    matching inputs, the seed: see :mod:`.session_pairs`)."""
    if not state.opened:
        raise NotFound(f"no session {state.session!r}")
    name = type(op).__struct_config__.tag
    result: Decided | list[EventBody]
    if name in PAIR_DECIDERS:
        result = PAIR_DECIDERS[name](state, actor, op, now_ms, rng, context)
    elif name in _DECIDERS:
        result = _DECIDERS[name](state, actor, op, now_ms, rng)
    else:
        raise InvalidCommand(f"{name!r} is not decided here")
    return result if isinstance(result, Decided) else Decided(result)


def _start(state: SessionState, actor: SessionActor, op: Any, now: int,
           rng: random.Random) -> list[EventBody]:
    _phase(state, "lobby", doing="start")
    return [SessionStarted(deadline_ms=now + segment_ms(state.agenda[0]))]


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
    return _segment_start(state, state.index + 1, now, "advance")


def _back(state: SessionState, actor: SessionActor, op: Any, now: int,
          rng: random.Random) -> list[EventBody]:
    _phase(state, "running", doing="go back")
    _moved_on(state, op)
    if state.index == 0:
        raise OutOfOrder("this is the first segment")
    return _segment_start(state, state.index - 1, now, "back")


def _rounds_here(state: SessionState, op: Any, doing: str) -> int:
    """The current case segment's number of rounds, after the checks every round op
    shares: running, a case consultation with rounds, and at the round the host saw."""
    _phase(state, "running", doing=doing)
    segment = state.segment
    assert segment is not None
    if segment.kind != "case":
        raise OutOfOrder(f"cannot {doing}: segment {state.index + 1} is not a case "
                         "consultation")
    rounds = round_count(segment)
    if rounds == 0:
        raise OutOfOrder(f"cannot {doing}: this case consultation has no timed rounds")
    if op.round is not None and op.round != state.round:
        raise OutOfOrder(f"the case is at round {state.round} now, not {op.round}: "
                         "someone moved it already")
    return rounds


def _next_round(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random) -> list[EventBody]:
    rounds = _rounds_here(state, op, "start the next round")
    if state.round >= rounds:
        raise OutOfOrder(f"round {rounds} is the last: advance to the next segment instead")
    segment = state.segment
    assert segment is not None
    return [CaseRoundStarted(segment=state.index, round=state.round + 1,
                             deadline_ms=now + part_ms(segment, state.round + 1), how="next")]


def _round_back(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random) -> list[EventBody]:
    _rounds_here(state, op, "go back a round")
    if state.round == 0:
        raise OutOfOrder("the case is being presented: no round to go back from")
    segment = state.segment
    assert segment is not None
    return [CaseRoundStarted(segment=state.index, round=state.round - 1,
                             deadline_ms=now + part_ms(segment, state.round - 1), how="back")]


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
    return [*ended_by_host(state), *closing, SessionEnded()]


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


_DECIDERS: dict[str, Any] = {
    "start": _start, "advance": _advance, "back": _back, "extend": _extend,
    "next_round": _next_round, "round_back": _round_back, "pause": _pause,
    "resume": _resume, "end": _end, "edit_agenda": _edit_agenda,
    "stage": _stage, "raise_hand": _raise_hand, "lower_hand": _lower_hand,
    "bring_up": _bring_up, **QA_DECIDERS, "off_record": _off_record,
    "name_scribe": _name_scribe, "note": _note, "say": _say, "caption": _caption,
    "case_prompts": _case_prompts, **SIGNAL_DECIDERS,
}
