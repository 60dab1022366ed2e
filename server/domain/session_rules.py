"""What every session decision shares: who acts, what a decision is, which action
each op needs, and the phase checks. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import InvalidCommand, OutOfOrder
from .events import Event, EventBody
from .policy import Action
from .session import SessionState
from .session_events import QuestionAsked, QuestionEdited

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
    to: list[str] | None = None
    """With ``relay``: only these members receive it (a breakout room's talk)."""
    kind: str = "breakout"
    """With ``relay`` and ``to``: the relay kind they receive it as (``breakout``: talk;
    ``signal``: a breakout call's WebRTC signalling)."""


def owner_key(key: str, question: int) -> str:
    """The per-question owner key: unlinkable across questions without ``key``."""
    return hashlib.sha256(f"{key}:{question}".encode()).hexdigest()[:32]


def said_by(event: Event, member: str, key: str, asks: Mapping[int, QuestionAsked]) -> bool:
    """Did ``member`` (``key``: their asker key in this session) say ``event``'s words?
    An anonymous question and its edits name nobody: its owner key recognises the
    asker (``asks``: each question's ``question_asked`` by number)."""
    if event.actor is not None:
        return event.actor == member
    body = event.body
    if isinstance(body, QuestionEdited):
        body = asks.get(body.question)
    return (isinstance(body, QuestionAsked) and bool(body.owner_key)
            and body.owner_key == owner_key(key, body.question))


_ACTIONS: dict[str, Action] = {
    "open": Action.OPEN_SESSION, "start": Action.RUN_SESSION, "advance": Action.RUN_SESSION,
    "back": Action.RUN_SESSION, "next_round": Action.RUN_SESSION,
    "round_back": Action.RUN_SESSION, "extend": Action.RUN_SESSION, "pause": Action.RUN_SESSION,
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
    "pair": Action.RUN_SESSION, "end_pairs": Action.RUN_SESSION,
    "broadcast": Action.RUN_SESSION, "visit": Action.RUN_SESSION,
    "leave_visit": Action.RUN_SESSION, "clear_help": Action.RUN_SESSION,
    "sit_out": Action.TAKE_PART, "call_help": Action.TAKE_PART,
    "leave_pair": Action.TAKE_PART, "partner_choice": Action.TAKE_PART,
    "rejoin_pairs": Action.TAKE_PART,
    "takeaway": Action.SPEAK_IN_SESSION, "breakout_say": Action.SPEAK_IN_SESSION,
    "signal": Action.SPEAK_IN_SESSION,
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


def require_phase(state: SessionState, *phases: str, doing: str) -> None:
    if state.phase not in phases:
        hint = {"lobby": "the session has not started", "paused": "the session is paused",
                "ended": "the session has ended",
                "running": "the session is running"}[state.phase]
        raise OutOfOrder(f"cannot {doing}: {hint}")


def require_live(state: SessionState, doing: str) -> None:
    require_phase(state, "lobby", "running", "paused", doing=doing)


