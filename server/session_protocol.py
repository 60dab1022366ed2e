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
from .signal_protocol import AnySignal

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


# --- pair-ups (see README "Pair-ups"; events in server/domain/session_pair_events.py) ---

GroupNo = Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class PairOp(SessionOp, tag="pair"):
    """(A host.) Pair everyone present now in a running ``pairs`` segment: the session's
    attendees who are present in its room, minus those sitting out, minus who is on
    stage (unless ``host_joins``: then the host pressing takes part). Pressing again
    reshuffles (the next round). Event: ``pairs_made``. Refused ``out_of_order``
    outside a running pairs segment or when ``round`` is past; ``conflict`` when fewer
    than two are there to pair."""

    round: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """The round you are pairing from (the ``pair_round`` your screen shows; 0: none
    yet); refused when it is past, so two hosts pressing at once make one round. When
    absent, the server takes the one it sees when the command arrives."""
    host_joins: bool = False


class EndPairsOp(SessionOp, tag="end_pairs"):
    """(A host.) Everyone back to the main room now (``pairs_ended`` ``how: "host"``)."""

    round: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """The round you are ending; refused when another one runs."""


class SitOutOp(SessionOp, tag="sit_out"):
    """Opt out of (``out``) or back into the next pairing (``sat_out``)."""

    out: bool = True


class BroadcastOp(SessionOp, tag="broadcast"):
    """(A host, while a round runs.) A message to every breakout room (``pairs_broadcast``)."""

    text: SessionText


class CallHelpOp(SessionOp, tag="call_help"):
    """(A member in a group.) Call the host to your breakout room (``help_called``);
    once per group until a host visits or dismisses it."""


class VisitOp(SessionOp, tag="visit"):
    """(A host.) Go into ``group``'s breakout room (``host_visited``; clears its call
    for help with ``help_cleared`` ``how: "visit"``). One visit at a time."""

    group: GroupNo


class LeaveVisitOp(SessionOp, tag="leave_visit"):
    """(A host.) Leave the breakout room you are visiting (``host_left``)."""


class ClearHelpOp(SessionOp, tag="clear_help"):
    """(A host.) Dismiss ``group``'s call for help (``help_cleared`` ``how: "dismiss"``)."""

    group: GroupNo


class LeavePairOp(SessionOp, tag="leave_pair"):
    """(A member in a group or waiting.) Back to the main room mid-round
    (``pairs_changed`` ``why: "leave"``); a partner left alone then chooses."""


class PartnerChoiceOp(SessionOp, tag="partner_choice"):
    """(A member in ``alone``: their partner left.) ``wait`` for a late arrival,
    ``join_pair`` (``group``: one of the pairs, not a trio; else the pair the server
    places you in as it places ``rejoin_pairs``, joining a pair only), or back to the
    ``main_room`` (``pairs_changed`` with ``why`` = the choice)."""

    choice: Literal["wait", "join_pair", "main_room"]
    group: GroupNo | None = None


class RejoinPairsOp(SessionOp, tag="rejoin_pairs"):
    """(A member in the main room while a round runs: went back to it, or was not placed.)
    Into round ``round``, placed as a late arrival is: paired with someone waiting, else
    a third in a pair, else waiting (``pairs_changed`` ``why: "rejoin"``). Refused
    (``out_of_order``) when that round is not the one running, or you are in a group,
    waiting, alone, sitting out, on stage, not in the room, or a host who took no part."""

    round: Annotated[int, msgspec.Meta(ge=1)]
    """The round you are rejoining (the ``pair_round`` your screen shows)."""


class TakeawayOp(SessionOp, tag="takeaway"):
    """(A member who was in a group of round ``round``, the last one.) "One thing I took
    away" (``takeaway_shared``; joins the transcript). Skipping sends nothing."""

    round: Annotated[int, msgspec.Meta(ge=1)]
    text: SessionText


class BreakoutSayOp(SessionOp, tag="breakout_say"):
    """Chat in your breakout room: never stored; relayed (``relayed`` kind ``breakout``,
    ``data`` {group, round, text}) to the other members of your group and the hosts
    visiting it, nobody else. Refused outside a group (``out_of_order``)."""

    text: SessionText


class SignalOp(SessionOp, tag="signal"):
    """WebRTC signalling to ``to``, a member of your breakout room (the call between the
    members of a pair or trio; see :mod:`server.signal_protocol`): never stored; relayed
    (``relayed`` kind ``signal``, ``data`` {group, round, signal}) to ``to`` alone.
    Refused ``forbidden`` when ``to`` is not in your group, ``out_of_order`` outside a
    group, ``invalid`` when a description or candidate is too large or malformed."""

    to: MemberId
    signal: AnySignal


AnySessionOp = (
    OpenOp | StartOp | AdvanceOp | BackOp | NextRoundOp | RoundBackOp | ExtendOp | PauseOp
    | ResumeOp | EndOp
    | EditAgendaOp | StageOp | RaiseHandOp | LowerHandOp | BringUpOp | AskOp
    | EditQuestionOp | WithdrawOp | UpvoteOp | UnvoteOp | PinOp | AnswerOp | DismissOp
    | OffRecordOp | NameScribeOp | NoteOp | SayOp | CaptionOp | CasePromptsOp | AttendOp
    | PairOp | EndPairsOp | SitOutOp | BroadcastOp | CallHelpOp | VisitOp | LeaveVisitOp
    | ClearHelpOp | LeavePairOp | PartnerChoiceOp | RejoinPairsOp | TakeawayOp | BreakoutSayOp
    | SignalOp
)


def op_name(op: SessionOp) -> str:
    tag = type(op).__struct_config__.tag
    assert isinstance(tag, str)
    return tag
