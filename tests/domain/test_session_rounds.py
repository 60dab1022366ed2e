"""Case consultation rounds: the case part, then timed rounds of peer advice, moved on
by the host (``next_round``, ``round_back``) or, when the segment auto-advances, by the
scheduler; each bad path refused with its typed error and nothing decided."""

from __future__ import annotations

import msgspec

from server.domain.session import SessionState, apply, due, fold, normal_form
from server.domain.session_events import (
    CaseRoundStarted,
    Segment,
    SegmentChanged,
    SegmentWarned,
    SessionEnded,
)
from server.errors import OutOfOrder
from server.session_protocol import (
    AdvanceOp,
    AttendOp,
    BackOp,
    EditAgendaOp,
    ExtendOp,
    NextRoundOp,
    PauseOp,
    ResumeOp,
    RoundBackOp,
    StartOp,
)

from .test_session import ANN, HOST, Session

MINUTE = 60_000


def case_session(auto: bool = False, rounds: int = 3) -> Session:
    s = Session([Segment(kind="open", title="Welcome", minutes=5),
                 Segment(kind="case", title="A case", minutes=10, rounds=rounds,
                         round_minutes=4, auto_advance=auto),
                 Segment(kind="qa", title="Q&A", minutes=10)])
    s.do(ANN, AttendOp())
    return s


def at_the_case(auto: bool = False, rounds: int = 3) -> Session:
    s = case_session(auto, rounds)
    s.do(HOST, StartOp())
    s.do(HOST, AdvanceOp())
    return s


def test_the_case_part_then_each_round_with_its_own_deadline():
    s = at_the_case()
    assert (s.state.index, s.state.round, s.state.deadline_ms) == (1, 0, s.now + 10 * MINUTE)
    for expected in (1, 2, 3):
        s.now += 30_000
        decided = s.do(HOST, NextRoundOp(round=expected - 1))
        assert decided.bodies == [CaseRoundStarted(segment=1, round=expected,
                                                   deadline_ms=s.now + 4 * MINUTE,
                                                   how="next")]
        snap = s.state.snapshot()
        assert (snap.index, snap.round, snap.deadline_ms) == (1, expected, s.now + 4 * MINUTE)
    assert "the last" in s.refused(HOST, NextRoundOp(), OutOfOrder)
    s.do(HOST, AdvanceOp())
    assert (s.state.index, s.state.round) == (2, 0)


def test_going_back_a_round_and_back_to_the_case():
    s = at_the_case()
    s.do(HOST, NextRoundOp())
    s.do(HOST, NextRoundOp())
    s.now += 1000
    (back,) = s.do(HOST, RoundBackOp()).bodies
    assert back == CaseRoundStarted(segment=1, round=1, deadline_ms=s.now + 4 * MINUTE,
                                    how="back")
    (case,) = s.do(HOST, RoundBackOp(round=1)).bodies
    assert (s.state.round, s.state.deadline_ms) == (0, s.now + 10 * MINUTE)
    assert isinstance(case, CaseRoundStarted) and case.round == 0
    assert "no round to go back" in s.refused(HOST, RoundBackOp(), OutOfOrder)


def test_two_hosts_pressing_next_round_at_once_move_it_one_round():
    s = at_the_case()
    s.do(HOST, NextRoundOp(round=0))
    assert "someone moved it" in s.refused(HOST, NextRoundOp(round=0), OutOfOrder)
    assert "someone moved it" in s.refused(HOST, RoundBackOp(round=0), OutOfOrder)
    assert s.state.round == 1


def test_rounds_are_refused_outside_a_running_case_with_rounds():
    s = case_session()
    assert "not started" in s.refused(HOST, NextRoundOp(), OutOfOrder)
    s.do(HOST, StartOp())
    assert "not a case consultation" in s.refused(HOST, NextRoundOp(), OutOfOrder)
    assert "not a case consultation" in s.refused(HOST, RoundBackOp(), OutOfOrder)
    s.do(HOST, AdvanceOp())
    s.do(HOST, PauseOp())
    assert "paused" in s.refused(HOST, NextRoundOp(), OutOfOrder)
    s.do(HOST, ResumeOp())
    no_rounds = at_the_case(rounds=0)
    assert "no timed rounds" in no_rounds.refused(HOST, NextRoundOp(), OutOfOrder)


def test_a_new_segment_starts_at_the_case_part_and_pause_keeps_the_round():
    s = at_the_case()
    s.do(HOST, NextRoundOp())
    s.do(HOST, NextRoundOp())
    s.do(HOST, PauseOp())
    s.do(HOST, ResumeOp())
    s.do(HOST, ExtendOp(minutes=1))
    assert s.state.round == 2
    s.do(HOST, BackOp())
    s.do(HOST, AdvanceOp())
    assert (s.state.index, s.state.round) == (1, 0)


def test_cutting_rounds_from_the_agenda_keeps_the_case_at_its_last_round():
    s = at_the_case()
    for _ in range(3):
        s.do(HOST, NextRoundOp())
    agenda = [msgspec.structs.replace(x) for x in s.state.agenda]
    agenda[1].rounds = 1
    s.do(HOST, EditAgendaOp(agenda=agenda))
    assert s.state.round == 1
    assert "the last" in s.refused(HOST, NextRoundOp(), OutOfOrder)


def test_each_round_warns_for_itself_and_does_not_move_on_without_auto_advance():
    s = at_the_case()
    s.do(HOST, NextRoundOp())
    deadline = s.state.deadline_ms
    assert deadline is not None
    (warn,) = due(s.state, deadline - 100_000)
    assert warn.bodies == [SegmentWarned(index=1, left="2m", round=1)]
    s.append(warn.bodies, None)
    (warn30,) = due(s.state, deadline - 10_000)
    s.append(warn30.bodies, None)
    assert s.state.warned == {"2m", "30s"}
    assert due(s.state, deadline + 1000) == []
    s.do(HOST, NextRoundOp())  # a new round warns again
    assert s.state.warned == set()
    assert s.state.deadline_ms is not None
    (again,) = due(s.state, s.state.deadline_ms - 10_000)
    assert again.bodies == [SegmentWarned(index=1, left="30s", round=2)]
    s.append([SegmentWarned(index=1, left="2m", round=1)], None)  # late: for round 1
    assert s.state.warned == set()


def test_a_one_minute_round_warns_only_at_thirty_seconds():
    s = Session([Segment(kind="case", title="Quick", minutes=5, rounds=2, round_minutes=1)])
    s.do(HOST, StartOp())
    s.do(HOST, NextRoundOp())
    assert s.state.deadline_ms is not None
    assert due(s.state, s.state.deadline_ms - 50_000) == []
    (warn,) = due(s.state, s.state.deadline_ms - 20_000)
    assert warn.bodies == [SegmentWarned(index=0, left="30s", round=1)]


def test_auto_advance_runs_every_round_once_then_moves_on():
    s = at_the_case(auto=True, rounds=2)
    for expected in (1, 2):
        deadline = s.state.deadline_ms
        assert deadline is not None
        (auto,) = due(s.state, deadline + 5)
        assert auto.bodies == [CaseRoundStarted(segment=1, round=expected,
                                                deadline_ms=deadline + 5 + 4 * MINUTE,
                                                how="auto")]
        s.append(auto.bodies, None)
        assert all(d.deadline != auto.deadline for d in due(s.state, deadline + 6))
    assert s.state.deadline_ms is not None
    (last,) = due(s.state, s.state.deadline_ms)
    (changed,) = last.bodies
    assert isinstance(changed, SegmentChanged) and changed.index == 2
    s.append(last.bodies, None)
    assert s.state.round == 0


def test_the_last_rounds_auto_advance_ends_a_session_whose_case_is_last():
    s = Session([Segment(kind="case", title="Only", minutes=2, rounds=1, round_minutes=1,
                         auto_advance=True)])
    s.do(HOST, StartOp())
    s.do(HOST, NextRoundOp())
    assert s.state.deadline_ms is not None
    (last,) = due(s.state, s.state.deadline_ms)
    assert last.bodies == [SessionEnded()]


def test_a_client_fold_through_the_rounds_equals_the_whole_fold():
    s = at_the_case()
    s.do(HOST, NextRoundOp())
    s.do(HOST, NextRoundOp())
    s.do(HOST, RoundBackOp())
    for cut in range(1, len(s.events) + 1):
        partial_state = SessionState("s-1")
        for event in s.events[:cut]:
            apply(partial_state, event)
        resumed = fold(partial_state.snapshot(), partial_state.seq, s.events[max(0, cut - 2):])
        assert normal_form(resumed) == normal_form(s.state)
