"""The decisions of the Q&A board's ops: ask, edit, withdraw, upvote, unvote, pin,
answer, dismiss. Pure; see :mod:`.session_decide`."""

from __future__ import annotations

import random
from typing import Any

from ..errors import Forbidden, NotFound, OutOfOrder
from .events import EventBody
from .session import Question, SessionState
from .session_events import (
    QuestionAnswered,
    QuestionAsked,
    QuestionDismissed,
    QuestionEdited,
    QuestionPinned,
    QuestionUnvoted,
    QuestionUpvoted,
    QuestionWithdrawn,
)
from .session_rules import Decided, SessionActor, clean, owner_key
from .session_rules import require_live as _live


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


def _ask(state: SessionState, actor: SessionActor, op: Any, now: int,
         rng: random.Random) -> Decided:
    _live(state, "ask")
    number = state.asked + 1  # never a number given before, erased or not
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


QA_DECIDERS: dict[str, Any] = {
    "ask": _ask, "edit_question": _edit_question, "withdraw": _withdraw, "upvote": _upvote,
    "unvote": _unvote, "pin": _pin, "answer": _answer, "dismiss": _dismiss,
}
