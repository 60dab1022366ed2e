"""Random sequences of legal and illegal session commands (and the scheduler's
deadlines) never break the fold's invariants, and a refused command changes nothing."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from server.domain import session_decide as sd
from server.domain.events import Event, EventBody
from server.domain.session import SessionState, apply, due, normal_form
from server.domain.session_events import (
    AgendaEdited,
    CaseRoundStarted,
    Segment,
    SegmentChanged,
    SegmentExtended,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    round_count,
)
from server.errors import CommandError
from server.session_protocol import (
    AdvanceOp,
    AnswerOp,
    AskOp,
    AttendOp,
    BackOp,
    BringUpOp,
    DismissOp,
    EditAgendaOp,
    EditQuestionOp,
    EndOp,
    ExtendOp,
    LowerHandOp,
    NextRoundOp,
    OffRecordOp,
    PauseOp,
    PinOp,
    RaiseHandOp,
    ResumeOp,
    RoundBackOp,
    SayOp,
    StageOp,
    StartOp,
    UnvoteOp,
    UpvoteOp,
    WithdrawOp,
)

PEOPLE = [sd.SessionActor(id="m-host", name="Host", key="k0", runs=True),
          *(sd.SessionActor(id=f"m-{i}", name=f"P{i}", key=f"k{i}") for i in range(1, 5))]
person = st.sampled_from(PEOPLE)
member_id = st.sampled_from([p.id for p in PEOPLE] + ["m-stranger"])
question = st.integers(min_value=1, max_value=6)
segment = st.builds(Segment,
                    kind=st.sampled_from(["pairs", "presentation", "qa", "open", "case"]),
                    title=st.just("S"), minutes=st.integers(1, 3),
                    auto_advance=st.booleans(), rounds=st.integers(0, 3),
                    round_minutes=st.integers(0, 2))
round_seen = st.none() | st.integers(0, 4)

ops = st.one_of(
    st.builds(StartOp), st.builds(AdvanceOp, index=st.none() | st.integers(0, 3)),
    st.builds(BackOp, index=st.none() | st.integers(0, 3)),
    st.builds(NextRoundOp, round=round_seen), st.builds(RoundBackOp, round=round_seen),
    st.builds(ExtendOp, minutes=st.sampled_from([1, 5])), st.builds(PauseOp),
    st.builds(ResumeOp), st.builds(EndOp),
    st.builds(EditAgendaOp, agenda=st.lists(segment, min_size=1, max_size=4)),
    st.builds(StageOp, member=member_id, on=st.booleans()), st.builds(RaiseHandOp),
    st.builds(LowerHandOp, member=st.none() | member_id),
    st.builds(BringUpOp, member=member_id),
    st.builds(AskOp, text=st.sampled_from(["Why?", "  ", "How?"]), anonymous=st.booleans()),
    st.builds(EditQuestionOp, question=question, text=st.sampled_from(["New?", "Why?"])),
    st.builds(WithdrawOp, question=question), st.builds(UpvoteOp, question=question),
    st.builds(UnvoteOp, question=question),
    st.builds(PinOp, question=question, pinned=st.booleans()),
    st.builds(AnswerOp, question=question), st.builds(DismissOp, question=question),
    st.builds(OffRecordOp, on=st.booleans()), st.builds(SayOp, text=st.just("hi")),
    st.builds(AttendOp),
)

DEADLINE_SETTERS = (SessionStarted, SegmentChanged, SegmentExtended, SessionPaused,
                    SessionResumed, CaseRoundStarted)


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = SessionState("s-1")
        self.now = 1_800_000_000_000
        self.seq = 0
        self.settled: dict[int, str] = {}
        self.append(sd.decide_open("s-1", "g", "hall", "Hour", [
            Segment(kind="case", title="Case", minutes=1, rounds=3, round_minutes=1,
                    auto_advance=True),
            Segment(kind="pairs", title="Pairs", minutes=2, auto_advance=True),
            Segment(kind="presentation", title="Talk", minutes=3),
            Segment(kind="qa", title="Q&A", minutes=2, auto_advance=True)], True, self.state),
            "m-host")

    def append(self, bodies: list[EventBody], actor: str | None) -> None:
        for body in bodies:
            before = self.state.deadline_ms
            before_index = self.state.index
            before_round = self.state.round
            self.seq += 1
            apply(self.state, Event(stream="session:s-1", seq=self.seq, ts=self.now,
                                    actor=actor, body=body))
            if not isinstance(body, DEADLINE_SETTERS):  # only these move the deadline
                assert self.state.deadline_ms == before or self.state.phase == "ended"
            if not isinstance(body, SessionStarted | SegmentChanged | AgendaEdited):
                assert self.state.index == before_index  # one segment moves only so
            if not isinstance(body, SessionStarted | SegmentChanged | AgendaEdited
                              | CaseRoundStarted):
                assert self.state.round == before_round  # and a case's round only so
            if isinstance(body, CaseRoundStarted):  # one round at a time
                assert abs(self.state.round - before_round) <= 1
            if isinstance(body, SegmentExtended):
                assert before is not None and self.state.deadline_ms is not None
                assert self.state.deadline_ms > before

    @rule(actor=person, op=ops)
    def command(self, actor: sd.SessionActor, op: Any) -> None:
        before = normal_form(self.state)
        try:
            decided = sd.decide(self.state, actor, op, self.now, random.Random(1))
        except CommandError:
            assert normal_form(self.state) == before  # refused: nothing changed
            return
        self.append(decided.bodies, None if decided.anonymous else actor.id)

    @rule(op=st.one_of(st.builds(StartOp), st.builds(AdvanceOp), st.builds(BackOp),
                       st.builds(NextRoundOp, round=round_seen), st.builds(NextRoundOp),
                       st.builds(RoundBackOp, round=round_seen), st.builds(PauseOp),
                       st.builds(ResumeOp)))
    def host_runs_the_agenda(self, op: Any) -> None:
        """The host's timer commands, often: a case's rounds are reached and moved
        through, not only drawn among every op now and then."""
        self.command(PEOPLE[0], op)

    @rule(ms=st.integers(min_value=0, max_value=200_000))
    def time_passes(self, ms: int) -> None:
        self.now += ms
        for fired in due(self.state, self.now):
            self.append(fired.bodies, None)
        assert due(self.state, self.now) == [] or self.state.phase == "running"

    @invariant()
    def one_current_segment(self) -> None:
        assert 0 <= self.state.index < len(self.state.agenda)
        running = self.state.phase == "running"
        assert (self.state.deadline_ms is not None) == running
        assert (self.state.remaining_ms is not None) == (self.state.phase == "paused")
        assert 0 <= self.state.round <= round_count(self.state.segment)

    @invariant()
    def one_vote_per_member_and_one_outcome_per_question(self) -> None:
        for number, q in self.state.questions.items():
            assert len(set(q.voters)) == len(q.voters) == q.votes
            assert not (q.anonymous and (q.asker or q.asker_name))
            if q.state != "open":
                assert self.settled.setdefault(number, q.state) == q.state  # never changes
                assert not q.pinned

    @invariant()
    def hands_are_a_queue_apart_from_the_stage(self) -> None:
        assert len(set(self.state.hands)) == len(self.state.hands)
        assert not set(self.state.hands) & set(self.state.stage)


SessionMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                            deadline=None)
test_session_machine = SessionMachine.TestCase
