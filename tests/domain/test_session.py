"""The session fold and the decisions of every op: each good path, and each bad path
refused with its typed error and nothing decided."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from server.domain import session_decide as sd
from server.domain.events import Event, EventBody
from server.domain.session import (
    SessionState,
    apply,
    board_order,
    due,
    fold,
    normal_form,
)
from server.domain.session_events import (
    QuestionAsked,
    Segment,
    SegmentChanged,
    SegmentWarned,
    SessionEnded,
    community_hour,
)
from server.errors import ErrorCode, Forbidden, InvalidCommand, NotFound, OutOfOrder
from server.session_protocol import (
    AdvanceOp,
    AnswerOp,
    AskOp,
    AttendOp,
    BackOp,
    BringUpOp,
    CaptionOp,
    CasePromptsOp,
    DismissOp,
    EditAgendaOp,
    EditQuestionOp,
    EndOp,
    ExtendOp,
    LowerHandOp,
    NameScribeOp,
    NoteOp,
    OffRecordOp,
    PauseOp,
    PinOp,
    RaiseHandOp,
    ResumeOp,
    SayOp,
    StageOp,
    StartOp,
    UnvoteOp,
    UpvoteOp,
    WithdrawOp,
)

T0 = 1_800_000_000_000
HOST = sd.SessionActor(id="m-host", name="Hana Host", key="k-host", runs=True)
ANN = sd.SessionActor(id="m-ann", name="Ann", key="k-ann")
BOB = sd.SessionActor(id="m-bob", name="Bob", key="k-bob")


class Session:
    """A session's state with a clock, applying what each decision appends."""

    def __init__(self, agenda: list[Segment] | None = None) -> None:
        self.state = SessionState("s-1")
        self.now = T0
        self.seq = 0
        self.events: list[Event] = []
        self.append(sd.decide_open("s-1", "guild", "hall", "Hour", agenda or community_hour(),
                                   True, self.state), "m-host")

    def append(self, bodies: list[EventBody], actor: str | None) -> None:
        for body in bodies:
            self.seq += 1
            event = Event(stream="session:s-1", seq=self.seq, ts=self.now, actor=actor,
                          body=body)
            self.events.append(event)
            apply(self.state, event)

    def do(self, actor: sd.SessionActor, op: Any) -> sd.Decided:
        decided = sd.decide(self.state, actor, op, self.now, random.Random(7))
        self.append(decided.bodies, None if decided.anonymous else actor.id)
        return decided

    def refused(self, actor: sd.SessionActor, op: Any, error: type[Exception]) -> str:
        before = normal_form(self.state)
        with pytest.raises(error) as caught:
            sd.decide(self.state, actor, op, self.now, random.Random(7))
        assert normal_form(self.state) == before
        return str(caught.value)


def running(*people: sd.SessionActor) -> Session:
    s = Session()
    for person in (HOST, ANN, BOB, *people):
        s.do(person, AttendOp())
    s.do(HOST, StartOp())
    return s


def test_open_and_the_default_template():
    s = Session()
    snap = s.state.snapshot()
    assert (snap.phase, snap.index, snap.deadline_ms) == ("lobby", 0, None)
    assert [(x.kind, x.minutes) for x in snap.agenda] == [
        ("pairs", 10), ("presentation", 50), ("qa", 15)]
    with pytest.raises(OutOfOrder):
        sd.decide_open("s-1", "guild", "hall", "Again", community_hour(), True, s.state)
    with pytest.raises(InvalidCommand):
        sd.decide_open("s-2", "guild", "hall", "  ", community_hour(), True, SessionState())


def test_a_session_that_is_not_open_is_not_found():
    with pytest.raises(NotFound):
        sd.decide(SessionState("nope"), HOST, StartOp(), T0, random.Random())


def test_start_sets_the_deadline_and_pairs_nobody_until_the_host_does():
    s = running()
    assert s.state.phase == "running"
    assert s.state.deadline_ms == T0 + 10 * 60_000
    assert (s.state.ups.round, s.state.ups.groups) == (0, {})
    assert s.state.snapshot().pairs == []
    assert s.refused(HOST, StartOp(), OutOfOrder) == "cannot start: the session is running"


def test_advance_back_and_the_ends_of_the_agenda():
    s = Session()
    assert "not started" in s.refused(HOST, AdvanceOp(), OutOfOrder)
    s.do(HOST, StartOp())
    s.refused(HOST, BackOp(), OutOfOrder)
    s.now += 1000
    s.do(HOST, AdvanceOp())
    assert (s.state.index, s.state.deadline_ms) == (1, s.now + 50 * 60_000)
    assert s.state.snapshot().groups == []
    s.do(HOST, AdvanceOp(index=1))
    assert "last segment" in s.refused(HOST, AdvanceOp(), OutOfOrder)
    s.do(HOST, BackOp())
    assert s.state.index == 1
    assert "someone moved it" in s.refused(HOST, AdvanceOp(index=0), OutOfOrder)
    assert "someone moved it" in s.refused(HOST, BackOp(index=2), OutOfOrder)


def test_extend_pause_resume_end():
    s = running()
    deadline = s.state.deadline_ms
    assert deadline is not None
    s.do(HOST, ExtendOp(minutes=5))
    assert s.state.deadline_ms == deadline + 5 * 60_000
    s.now += 60_000
    s.do(HOST, PauseOp())
    assert (s.state.phase, s.state.deadline_ms, s.state.remaining_ms) == (
        "paused", None, deadline + 4 * 60_000 - T0)
    for op in (PauseOp(), AdvanceOp(), BackOp(), ExtendOp(minutes=1)):
        assert "paused" in s.refused(HOST, op, OutOfOrder)
    s.now += 3_600_000
    s.do(HOST, ResumeOp())
    assert s.state.deadline_ms == s.now + deadline + 4 * 60_000 - T0
    s.refused(HOST, ResumeOp(), OutOfOrder)
    s.do(HOST, EndOp())
    assert s.state.phase == "ended" and s.state.deadline_ms is None
    for op in (EndOp(), StartOp(), AskOp(text="late?"), RaiseHandOp()):
        assert "ended" in s.refused(HOST, op, OutOfOrder)


def test_edit_agenda_keeps_the_current_segment():
    s = running()
    s.do(HOST, AdvanceOp())
    short = [Segment(kind="open", title="Only", minutes=5)]
    assert "current segment" in s.refused(HOST, EditAgendaOp(agenda=short), OutOfOrder)
    longer = [*community_hour(), Segment(kind="break", title="Tea", minutes=5)]
    s.do(HOST, EditAgendaOp(agenda=longer))
    assert len(s.state.agenda) == 4
    assert s.do(HOST, EditAgendaOp(agenda=longer)).bodies == []


def test_stage_hands_and_bringing_up():
    s = running()
    s.do(ANN, RaiseHandOp())
    s.do(BOB, RaiseHandOp())
    assert list(s.state.hands) == ["m-ann", "m-bob"]
    assert "already" in s.refused(ANN, RaiseHandOp(), OutOfOrder)
    assert "someone else" in s.refused(ANN, LowerHandOp(member="m-bob"), Forbidden)
    s.do(HOST, BringUpOp(member="m-bob"))
    assert list(s.state.hands) == ["m-ann"] and list(s.state.stage) == ["m-bob"]
    assert "on stage" in s.refused(BOB, RaiseHandOp(), OutOfOrder)
    s.refused(HOST, BringUpOp(member="m-bob"), OutOfOrder)
    s.do(ANN, LowerHandOp())
    s.refused(ANN, LowerHandOp(), OutOfOrder)
    s.do(HOST, StageOp(member="m-ann", on=True))
    s.refused(HOST, StageOp(member="m-ann", on=True), OutOfOrder)
    s.refused(HOST, StageOp(member="m-nobody", on=True), NotFound)
    s.do(HOST, StageOp(member="m-ann", on=False))
    s.refused(HOST, StageOp(member="m-ann", on=False), OutOfOrder)
    s.do(ANN, RaiseHandOp())
    s.do(HOST, LowerHandOp(member="m-ann"))
    assert s.state.hands == {}
    stranger = sd.SessionActor(id="m-x", name="X", key="k-x")
    assert "has not come" in s.refused(stranger, RaiseHandOp(), NotFound)


def test_questions_votes_and_moderation():
    s = running()
    s.do(ANN, AskOp(text="  First?  "))
    s.do(BOB, AskOp(text="Second?"))
    assert [q.text for q in s.state.questions.values()] == ["First?", "Second?"]
    s.refused(ANN, AskOp(text="   "), InvalidCommand)
    s.do(BOB, UpvoteOp(question=1))
    assert "already" in s.refused(BOB, UpvoteOp(question=1), OutOfOrder)
    assert "own question" in s.refused(ANN, UpvoteOp(question=1), OutOfOrder)
    s.do(HOST, UpvoteOp(question=2))
    s.do(ANN, UpvoteOp(question=2))
    assert [q.question for q in board_order(s.state.questions.values())] == [2, 1]
    s.do(HOST, PinOp(question=1))
    assert [q.question for q in board_order(s.state.questions.values())] == [1, 2]
    assert s.do(HOST, PinOp(question=1)).bodies == []
    s.do(ANN, UnvoteOp(question=2))
    s.refused(ANN, UnvoteOp(question=2), OutOfOrder)
    assert s.state.questions[2].votes == 1
    s.refused(BOB, EditQuestionOp(question=1, text="Mine now"), Forbidden)
    s.do(ANN, EditQuestionOp(question=1, text="First, reworded?"))
    assert s.do(ANN, EditQuestionOp(question=1, text="First, reworded?")).bodies == []
    s.do(HOST, AnswerOp(question=1))
    assert s.state.questions[1].state == "answered" and not s.state.questions[1].pinned
    assert "answered" in s.refused(HOST, DismissOp(question=1), OutOfOrder)
    s.do(BOB, WithdrawOp(question=2))
    assert "withdrawn" in s.refused(HOST, AnswerOp(question=2), OutOfOrder)
    s.refused(BOB, UpvoteOp(question=2), OutOfOrder)
    s.refused(BOB, WithdrawOp(question=2), OutOfOrder)
    s.refused(HOST, AnswerOp(question=9), NotFound)
    s.do(ANN, AskOp(text="Third"))
    s.do(HOST, DismissOp(question=3))
    s.refused(ANN, EditQuestionOp(question=3, text="x"), OutOfOrder)


def test_an_anonymous_question_names_no_one_but_its_asker_may_change_it():
    s = running()
    decided = s.do(ANN, AskOp(text="Is it safe?", anonymous=True))
    assert decided.anonymous
    (body,) = decided.bodies
    assert isinstance(body, QuestionAsked)
    assert body.asker is None and body.asker_name == ""
    assert "m-ann" not in msgspec.json.encode(s.events[-1]).decode()
    assert s.events[-1].actor is None
    snap = msgspec.json.encode(s.state.snapshot()).decode()
    assert "m-ann" not in snap.split('"attendees"')[0]
    s.refused(BOB, EditQuestionOp(question=1, text="Hijack"), Forbidden)
    assert s.do(ANN, EditQuestionOp(question=1, text="Is it safe now?")).anonymous
    assert s.do(ANN, WithdrawOp(question=1)).anonymous
    # the same asker's two questions carry unrelated keys
    s.do(ANN, AskOp(text="Another", anonymous=True))
    s.do(ANN, AskOp(text="And another", anonymous=True))
    assert s.state.questions[2].owner_key != s.state.questions[3].owner_key


def test_off_the_record_relays_chat_notes_and_captions_instead_of_keeping_them():
    s = running()
    s.do(ANN, SayOp(text="on the record"))
    assert s.events[-1].body.__struct_config__.tag == "chat_said"  # type: ignore[union-attr]
    s.refused(ANN, OffRecordOp(on=False), OutOfOrder)
    s.do(HOST, OffRecordOp(on=True))
    s.refused(HOST, OffRecordOp(on=True), OutOfOrder)
    assert s.state.off_record is not None and s.state.off_record.by == "m-host"
    head = s.seq
    said = s.do(ANN, SayOp(text="candid"))
    assert said.bodies == [] and said.relay == {"what": "say", "text": "candid", "name": "Ann"}
    assert s.do(HOST, NoteOp(text="private")).relay is not None
    assert s.do(HOST, CaptionOp(text="spoken")).relay is not None
    assert s.seq == head
    s.now += 5000
    s.do(HOST, OffRecordOp(on=False))
    assert s.state.off_record is None
    assert s.events[-1].body == msgspec.convert(
        {"type": "off_record_ended", "started_ms": T0}, type=type(s.events[-1].body))


def test_ending_off_the_record_closes_the_stretch():
    s = running()
    s.do(HOST, OffRecordOp(on=True))
    decided = s.do(HOST, EndOp())
    assert [type(b).__name__ for b in decided.bodies] == ["OffRecordEnded", "SessionEnded"]


def test_scribe_notes_and_captions():
    s = running()
    assert "scribe" in s.refused(ANN, NoteOp(text="x"), Forbidden)
    s.refused(HOST, NameScribeOp(member="m-nobody"), NotFound)
    s.do(HOST, NameScribeOp(member="m-ann"))
    assert s.do(HOST, NameScribeOp(member="m-ann")).bodies == []
    s.do(ANN, NoteOp(text="Key point"))
    s.do(ANN, CaptionOp(text="Hello all", start_ms=T0, end_ms=T0 + 900, speaker="Hana"))
    s.refused(ANN, CaptionOp(text="Backwards", start_ms=T0 + 5, end_ms=T0), InvalidCommand)
    s.refused(BOB, CaptionOp(text="x"), Forbidden)
    s.refused(ANN, NoteOp(text=" "), InvalidCommand)


def test_case_prompts_by_the_presenter_on_stage():
    agenda = [Segment(kind="case", title="A case", minutes=30, rounds=3, round_minutes=5),
              Segment(kind="qa", title="Q&A", minutes=10)]
    s = Session(agenda)
    for person in (HOST, ANN, BOB):
        s.do(person, AttendOp())
    prompts = CasePromptsOp(segment=0, situation="S", tried="T", question="Q")
    s.refused(ANN, prompts, Forbidden)
    s.do(HOST, StageOp(member="m-ann", on=True))
    s.do(ANN, prompts)
    assert s.state.case_prompts[0].question == "Q"
    s.refused(ANN, CasePromptsOp(segment=1, situation="", tried="", question=""),
              InvalidCommand)


def test_attend_once_and_not_counted_after_the_end():
    s = Session()
    s.do(ANN, AttendOp())
    assert s.do(ANN, AttendOp()).bodies == []
    s.do(HOST, EndOp())
    assert s.do(BOB, AttendOp()).bodies == []
    assert list(s.state.attendees) == ["m-ann"]


def test_required_actions():
    assert sd.required_action("advance") is sd.Action.RUN_SESSION
    assert sd.required_action("lower_hand", None, "m-a") is sd.Action.TAKE_PART
    assert sd.required_action("lower_hand", "m-a", "m-a") is sd.Action.TAKE_PART
    assert sd.required_action("lower_hand", "m-b", "m-a") is sd.Action.RUN_SESSION
    assert sd.required_action("answer") is sd.Action.MODERATE_QUESTIONS
    assert sd.required_action("ask") is sd.Action.SPEAK_IN_SESSION


def test_errors_are_typed():
    assert OutOfOrder("x").code is ErrorCode.OUT_OF_ORDER


# --- deadlines --------------------------------------------------------------------


def test_warnings_at_two_minutes_and_thirty_seconds_then_nothing_without_auto_advance():
    s = running()
    deadline = s.state.deadline_ms
    assert deadline is not None
    assert due(s.state, deadline - 121_000) == []
    (warn,) = due(s.state, deadline - 119_000)
    assert warn.bodies == [SegmentWarned(index=0, left="2m")]
    s.append(warn.bodies, None)
    assert due(s.state, deadline - 60_000) == []
    (warn30,) = due(s.state, deadline - 29_000)
    assert warn30.bodies == [SegmentWarned(index=0, left="30s")]
    assert warn30.deadline != warn.deadline
    s.append(warn30.bodies, None)
    assert due(s.state, deadline + 60_000) == []


def test_a_late_sweep_gives_only_the_most_urgent_warning():
    s = running()
    assert s.state.deadline_ms is not None
    (only,) = due(s.state, s.state.deadline_ms - 10_000)
    assert only.bodies == [SegmentWarned(index=0, left="30s")]


def test_a_short_segment_does_not_warn_at_two_minutes():
    s = Session([Segment(kind="open", title="Quick", minutes=1)])
    s.do(HOST, StartOp())
    assert s.state.deadline_ms is not None
    assert due(s.state, s.state.deadline_ms - 100_000) == []
    assert len(due(s.state, s.state.deadline_ms - 20_000)) == 1


def test_auto_advance_moves_on_once_and_ends_after_the_last_segment():
    agenda = [Segment(kind="open", title="A", minutes=5, auto_advance=True),
              Segment(kind="pairs", title="B", minutes=5, auto_advance=True)]
    s = Session(agenda)
    s.do(ANN, AttendOp())
    s.do(BOB, AttendOp())
    s.do(HOST, StartOp())
    deadline = s.state.deadline_ms
    assert deadline is not None
    (auto,) = due(s.state, deadline + 10)
    (changed,) = auto.bodies
    assert isinstance(changed, SegmentChanged)
    assert (changed.index, changed.how, changed.deadline_ms) == (1, "auto", deadline + 10 + 300_000)
    assert changed.pairs == []  # the host pairs, with one click
    s.append(auto.bodies, None)
    assert due(s.state, deadline + 20) == []
    (last,) = due(s.state, changed.deadline_ms)
    assert last.bodies == [SessionEnded()]
    s.do(HOST, PauseOp())
    assert due(s.state, changed.deadline_ms + 1) == []


def test_a_client_fold_from_any_snapshot_equals_the_whole_fold():
    s = running()
    s.do(ANN, AskOp(text="Q?", anonymous=True))
    s.do(BOB, UpvoteOp(question=1))
    s.do(ANN, RaiseHandOp())
    s.do(HOST, OffRecordOp(on=True))
    s.do(HOST, NameScribeOp(member="m-bob"))
    for cut in range(1, len(s.events) + 1):
        partial = SessionState("s-1")
        for event in s.events[:cut]:
            apply(partial, event)
        resumed = fold(partial.snapshot(), partial.seq, s.events[max(0, cut - 3):])
        assert normal_form(resumed) == normal_form(s.state)
