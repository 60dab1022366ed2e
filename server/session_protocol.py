"""The ``session`` client frame: every command of a live session, one frame type.

``{"type": "session", "ref": "r1", "session": "<id>", "op": {"op": "advance"}}``

``op`` is a tagged union (tag field ``op``). ``open`` has no ``session`` (the server
picks the id: the ack's ``stream`` is ``session:<id>``); every other op names one.
A command that does not fit the session's state now (advance before ``start``,
upvote twice, answer a withdrawn question) is refused with ``out_of_order`` and
changes nothing; one the sender's role does not allow with ``forbidden``.

Following a session: put ``session:<id>`` in ``resume.streams`` (its snapshot, or the
events missed, come in ``ready``), and send ``attend`` once to be counted present.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .domain.events import Id
from .domain.session_events import Agenda, Prose, SessionText, Title

Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
QuestionNo = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
MemberId = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
TimeMs = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class SessionOp(msgspec.Struct, tag_field="op", kw_only=True, forbid_unknown_fields=True,
                omit_defaults=True):
    """Base of every session op."""


class OpenOp(SessionOp, tag="open"):
    """Open a session in ``room`` (needs ``open_session``); members wait in the lobby
    until ``start``. The agenda is ``agenda`` if given, else the saved ``template`` of
    that name (``GET /api/communities/{id}/templates``), else "community hour"."""

    room: Id
    title: Title
    template: Annotated[str, msgspec.Meta(max_length=80)] | None = None
    agenda: Agenda | None = None
    keep_transcript: bool = True


class StartOp(SessionOp, tag="start"):
    """Segment 0 begins (from the lobby)."""


class AdvanceOp(SessionOp, tag="advance"):
    """The next segment begins (not on the last one: ``end`` it)."""

    index: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """The segment you are advancing from; refused (``out_of_order``) when the session is
    no longer there, so two hosts pressing at once move it one segment. When absent,
    the server takes the segment it sees when the command arrives."""


class BackOp(SessionOp, tag="back"):
    """The previous segment begins again, with its full time."""

    index: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """As for ``advance``: the segment you are going back from."""


class NextRoundOp(SessionOp, tag="next_round"):
    """In a case consultation segment: the next timed round of peer advice begins
    (from the case part, round 1), with ``round_minutes``; refused (``out_of_order``)
    outside a running case segment with rounds, and after the last round (``advance``
    then). Event: ``case_round_started``."""

    round: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """The round you are moving on from (0: the case part); refused when the case is no
    longer there, so two hosts pressing at once move it one round."""


class RoundBackOp(SessionOp, tag="round_back"):
    """In a case consultation segment: the previous round (round 1: the case part)
    begins again, with its full time."""

    round: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """As for ``next_round``: the round you are going back from."""


class ExtendOp(SessionOp, tag="extend"):
    minutes: Literal[1, 5]


class PauseOp(SessionOp, tag="pause"):
    pass


class ResumeOp(SessionOp, tag="resume"):
    """Resume a paused session: the deadline is now + what was left."""


class EndOp(SessionOp, tag="end"):
    pass


class EditAgendaOp(SessionOp, tag="edit_agenda"):
    """Replace the agenda (segments already past may not be removed while running)."""

    agenda: Agenda


class StageOp(SessionOp, tag="stage"):
    """Put an attendee on stage, or take them off."""

    member: MemberId
    on: bool


class RaiseHandOp(SessionOp, tag="raise_hand"):
    pass


class LowerHandOp(SessionOp, tag="lower_hand"):
    """Lower your hand, or (a host) someone else's."""

    member: MemberId | None = None


class BringUpOp(SessionOp, tag="bring_up"):
    """Bring a raised hand on stage (it leaves the queue)."""

    member: MemberId


class AskOp(SessionOp, tag="ask"):
    """Ask a question; ``anonymous`` hides you from everyone but the audit log."""

    text: SessionText
    anonymous: bool = False


class EditQuestionOp(SessionOp, tag="edit_question"):
    question: QuestionNo
    text: SessionText


class WithdrawOp(SessionOp, tag="withdraw"):
    question: QuestionNo


class UpvoteOp(SessionOp, tag="upvote"):
    """Once per member per question; not your own question."""

    question: QuestionNo


class UnvoteOp(SessionOp, tag="unvote"):
    question: QuestionNo


class PinOp(SessionOp, tag="pin"):
    question: QuestionNo
    pinned: bool = True


class AnswerOp(SessionOp, tag="answer"):
    question: QuestionNo


class DismissOp(SessionOp, tag="dismiss"):
    question: QuestionNo


class OffRecordOp(SessionOp, tag="off_record"):
    """Take the session off the record (``on``) or back on it."""

    on: bool


class NameScribeOp(SessionOp, tag="name_scribe"):
    member: MemberId


class NoteOp(SessionOp, tag="note"):
    """A note by the scribe or a host (relayed, not kept, while off the record)."""

    text: SessionText


class SayOp(SessionOp, tag="say"):
    """Chat in the session (relayed, not kept, while off the record)."""

    text: SessionText


class CaptionOp(SessionOp, tag="caption"):
    """A caption line; times default to when it arrives."""

    text: SessionText
    start_ms: TimeMs | None = None
    end_ms: TimeMs | None = None
    speaker: Annotated[str, msgspec.Meta(max_length=200)] = ""


class CasePromptsOp(SessionOp, tag="case_prompts"):
    """The presenter's prompts for a case consultation segment (shown during it)."""

    segment: Annotated[int, msgspec.Meta(ge=0, le=100)]
    situation: Prose
    tried: Prose
    question: Prose


class AttendOp(SessionOp, tag="attend"):
    """Follow the session on this socket and count yourself present (each person's
    first arrival is recorded; none after the end). As ``join`` does for a room, the
    ack carries the session's ``sync`` (its snapshot); events follow from
    ``sync.seq + 1``. After a reconnect, ``resume`` with ``session:<id>``."""


AnySessionOp = (
    OpenOp | StartOp | AdvanceOp | BackOp | NextRoundOp | RoundBackOp | ExtendOp | PauseOp
    | ResumeOp | EndOp
    | EditAgendaOp | StageOp | RaiseHandOp | LowerHandOp | BringUpOp | AskOp
    | EditQuestionOp | WithdrawOp | UpvoteOp | UnvoteOp | PinOp | AnswerOp | DismissOp
    | OffRecordOp | NameScribeOp | NoteOp | SayOp | CaptionOp | CasePromptsOp | AttendOp
)


def op_name(op: SessionOp) -> str:
    tag = type(op).__struct_config__.tag
    assert isinstance(tag, str)
    return tag
