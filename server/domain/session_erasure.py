"""What erasing one line of a session's stream erases. Pure; no I/O.

A line is words someone said: chat, a note, a caption, a question (with its edits),
case prompts, a pair-up broadcast or takeaway. Erasing it nulls those events' bodies
and appends one :class:`~.session_events.WordsErased` naming them, so every fold can
forget what they held without reading the stream again: folding the stream afresh
(tombstones skipped, the marker applied) reaches the same state as applying the marker
to a live fold. That is why some lines take others with them:

- a question goes whole: its ``question_asked`` and every edit (erasing only an edit
  would leave the fold the previous text, which a live fold no longer has);
- case prompts go by segment: every ``case_prompts_set`` of it (the fold keeps the
  last one, and the one before it would come back).
"""

from __future__ import annotations

from collections.abc import Iterable

from .events import Event
from .session_events import (
    CaptionAdded,
    CasePromptsSet,
    ChatSaid,
    NoteAdded,
    QuestionAsked,
    QuestionEdited,
    WordsErased,
)
from .session_pair_events import PairsBroadcast, TakeawayShared

WORDS = (ChatSaid, NoteAdded, CaptionAdded, QuestionAsked, QuestionEdited, CasePromptsSet,
         PairsBroadcast, TakeawayShared)
"""The event bodies that hold someone's words (and only those may be erased)."""


def question_number(asked: int, stamped: int) -> int:
    """The number a ``question_asked`` stamped ``stamped`` gets after ``asked`` numbers
    were given: its own (decisions stamp ``asked + 1``), unless an old stream (folded
    before numbers were stamped this way) gave that number already, then the next."""
    return stamped if stamped > asked else asked + 1


def question_numbers(events: Iterable[Event]) -> dict[int, int]:
    """The number each ``question_asked`` of the stream has in the fold, by its seq."""
    asked, numbers = 0, {}
    for event in events:
        body = event.body
        if isinstance(body, QuestionAsked):
            asked = numbers[event.seq] = question_number(asked, body.question)
        elif isinstance(body, WordsErased):
            asked = max(asked, *body.questions, 0)
    return numbers


def asks_by_number(events: Iterable[Event]) -> dict[int, QuestionAsked]:
    """Each question's ``question_asked`` (still there), by its number in the fold."""
    events = list(events)
    numbers = question_numbers(events)
    return {numbers[e.seq]: e.body for e in events if isinstance(e.body, QuestionAsked)}


def erasure(events: list[Event], seq: int) -> WordsErased:
    """The marker for erasing the line at ``seq`` (an event of ``events`` whose body is
    one of :data:`WORDS`): every event whose body goes with it, first the line itself."""
    event = next(e for e in events if e.seq == seq)
    body = event.body
    if isinstance(body, QuestionAsked | QuestionEdited):
        numbers = question_numbers(events)
        number = numbers.get(seq) if isinstance(body, QuestionAsked) else body.question
        assert number is not None
        asked_at = next((s for s, n in numbers.items() if n == number), 0)
        seqs = [asked_at] if asked_at else []
        seqs += [e.seq for e in events if isinstance(e.body, QuestionEdited)
                 and e.body.question == number and e.seq > asked_at]
        return WordsErased(seqs=[seq, *(s for s in seqs if s != seq)], questions=[number])
    if isinstance(body, CasePromptsSet):
        same = [e.seq for e in events if isinstance(e.body, CasePromptsSet)
                and e.body.segment == body.segment and e.seq != seq]
        return WordsErased(seqs=[seq, *same], case_segments=[body.segment])
    return WordsErased(seqs=[seq])
