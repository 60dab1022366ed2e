"""Pair-up rounds in the session fold and their pure decisions: the host's one click,
reshuffles, sitting out, late arrivals, leaving and the partner's choice, help,
visits, broadcasts, the breakout timer, takeaways and breakout talk; each bad path
refused with its typed error and nothing decided."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from server.domain import session_decide as sd
from server.domain.matching import NotEnoughPeople
from server.domain.session import SessionState, apply, due, fold, normal_form
from server.domain.session_events import Segment, SegmentChanged, SegmentWarned, SessionEnded
from server.domain.session_pair_events import (
    HelpCleared,
    HostLeft,
    HostVisited,
    PairsChanged,
    PairsEnded,
    PairsMade,
    TakeawayShared,
)
from server.domain.session_pairs import PairContext, PairingInputs, left
from server.errors import InvalidCommand, NotFound, OutOfOrder
from server.session_protocol import (
    AdvanceOp,
    AttendOp,
    BreakoutSayOp,
    BroadcastOp,
    CallHelpOp,
    ClearHelpOp,
    EndOp,
    EndPairsOp,
    ExtendOp,
    LeavePairOp,
    LeaveVisitOp,
    PairOp,
    PartnerChoiceOp,
    SitOutOp,
    StartOp,
    TakeawayOp,
    VisitOp,
)

from .test_session import HOST, T0, Session

MINUTE = 60_000
PEOPLE = [sd.SessionActor(id=f"m-{n}", name=n.title(), key=f"k-{n}")
          for n in ("ann", "bob", "cy", "di", "eve", "fay", "gus")]
ANN, BOB, CY, DI, EVE, FAY, GUS = PEOPLE


class Pairs(Session):
    """A session with a context: who is present in its room, and the matching inputs."""

    def __init__(self, agenda: list[Segment] | None = None) -> None:
        super().__init__(agenda)
        self.present: set[str] = set()
        self.inputs = PairingInputs()

    def context(self, seed: str = "seed-1") -> PairContext:
        return PairContext(present=frozenset(self.present), inputs=self.inputs, seed=seed)

    def do(self, actor: sd.SessionActor, op: Any, seed: str = "seed-1") -> sd.Decided:
        decided = sd.decide(self.state, actor, op, self.now, random.Random(7),
                            self.context(seed))
        self.append(decided.bodies, actor.id)
        return decided

    def refused(self, actor: sd.SessionActor, op: Any, error: type[Exception]) -> str:
        before = normal_form(self.state)
        with pytest.raises(error) as caught:
            sd.decide(self.state, actor, op, self.now, random.Random(7), self.context())
        assert normal_form(self.state) == before
        return str(caught.value)

    def arrive(self, *people: sd.SessionActor) -> None:
        for person in people:
            self.present.add(person.id)
            self.do(person, AttendOp())

    def groups(self) -> list[list[str]]:
        return self.state.ups.member_lists()


def pairs_session(n: int = 5, auto: bool = False) -> Pairs:
    s = Pairs([Segment(kind="pairs", title="Pair-ups", minutes=10, auto_advance=auto),
               Segment(kind="presentation", title="Talk", minutes=20)])
    s.arrive(HOST, *PEOPLE[:n])
    s.do(HOST, StartOp())
    return s


def everyone(s: Pairs) -> list[str]:
    return sorted(m for g in s.groups() for m in g)


def test_one_click_pairs_everyone_present_with_one_trio():
    s = pairs_session(5)
    assert s.state.ups.round == 0 and s.groups() == []
    (made,) = s.do(HOST, PairOp()).bodies
    assert isinstance(made, PairsMade) and made.round == 1 and made.seed == "seed-1"
    sizes = sorted(len(g) for g in s.groups())
    assert sizes == [2, 3]
    assert everyone(s) == sorted(p.id for p in PEOPLE[:5])  # not the host
    assert [g.group for g in made.groups] == [1, 2]
    snap = s.state.snapshot()
    assert snap.pair_round == 1 and snap.pairs_active and snap.pairs == s.groups()
    assert snap.paired == everyone(s)


def test_the_same_seed_and_inputs_make_the_same_round():
    one, two = pairs_session(7), pairs_session(7)
    one.do(HOST, PairOp(), seed="abc")
    two.do(HOST, PairOp(), seed="abc")
    assert one.groups() == two.groups()


def test_pressing_again_reshuffles_into_the_next_round():
    s = pairs_session(4)
    s.do(HOST, PairOp(round=0))
    s.do(ANN, CallHelpOp())
    s.do(HOST, PairOp(round=1), seed="seed-2")
    assert s.state.ups.round == 2 and s.state.ups.help == {}
    assert everyone(s) == sorted(p.id for p in PEOPLE[:4])


def test_two_hosts_pressing_at_once_make_one_round():
    s = pairs_session(4)
    s.do(HOST, PairOp(round=0))
    assert "someone paired everyone" in s.refused(HOST, PairOp(round=0), OutOfOrder)


def test_who_is_paired_present_sitting_out_on_stage_and_the_host_joining():
    s = pairs_session(5)
    s.present.discard(EVE.id)  # attended, but not in the room now
    s.do(DI, SitOutOp(out=True))
    s.do(DI, SitOutOp(out=True))  # no change: nothing appended
    assert s.state.ups.sitting_out == [DI.id]
    (made,) = s.do(HOST, PairOp(host_joins=True)).bodies
    assert isinstance(made, PairsMade)
    assert made.sitting_out == [DI.id] and made.host_joins
    assert everyone(s) == sorted([HOST.id, ANN.id, BOB.id, CY.id])
    s.do(HOST, AdvanceOp())  # leaving the pairs segment clears the opt-outs
    assert s.state.ups.sitting_out == []


def test_pairing_bad_paths_change_nothing():
    s = pairs_session(1)
    assert "at least two" in s.refused(HOST, PairOp(), NotEnoughPeople)
    assert "Ann" in s.refused(HOST, PairOp(), NotEnoughPeople)  # says who is present
    s.present.clear()
    assert "nobody" in s.refused(HOST, PairOp(), NotEnoughPeople)
    t = Pairs([Segment(kind="open", title="Open", minutes=10)])
    t.arrive(HOST, ANN, BOB)
    assert "has not started" in t.refused(HOST, PairOp(), OutOfOrder)
    t.do(HOST, StartOp())
    assert "not a pair-up segment" in t.refused(HOST, PairOp(), OutOfOrder)


def test_blocked_with_everyone_waits_and_the_rest_are_paired():
    s = pairs_session(3)
    s.inputs = PairingInputs(blocks=[(ANN.id, BOB.id), (ANN.id, CY.id)])
    (made,) = s.do(HOST, PairOp()).bodies
    assert isinstance(made, PairsMade)
    assert made.waiting == [ANN.id] and s.groups() == [[BOB.id, CY.id]]


def test_a_late_arrival_joins_a_pair_and_two_late_ones_pair_up():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    before = dict(s.state.ups.groups)
    s.arrive(EVE)
    change = s.events[-1].body
    assert isinstance(change, PairsChanged) and change.why == "late"
    assert change.member == EVE.id
    assert sorted(len(g) for g in s.groups()) == [2, 3]
    assert set(s.state.ups.groups) == set(before)  # ids kept
    s.arrive(FAY)  # alone: joins the other pair, now a trio too
    assert sorted(len(g) for g in s.groups()) == [3, 3]
    s.arrive(GUS)  # no pair left to join: waits for the next one
    assert s.state.ups.waiting == [GUS.id] and GUS.id not in everyone(s)
    hal = sd.SessionActor(id="m-hal", name="Hal", key="k-hal")
    s.arrive(hal)
    assert sorted([GUS.id, hal.id]) in s.groups() and s.state.ups.waiting == []
    assert s.state.ups.group_of(hal.id) == 3  # a new group gets the next id
    s.do(EVE, AttendOp())  # attending again places nobody twice
    assert isinstance(s.events[-1].body, PairsChanged) and s.events[-1].body.member == hal.id


def test_leaving_leaves_the_partner_a_choice():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    (pair_a, pair_b) = s.groups()
    leaver, partner = pair_a
    (change,) = left(s.state, leaver, "left", s.context())
    s.append([change], None)
    assert isinstance(change, PairsChanged) and change.alone == [partner]
    assert s.groups() == [pair_b] and s.state.ups.alone == [partner]
    assert left(s.state, leaver, "left", s.context()) == []  # once
    actor = next(p for p in PEOPLE if p.id == partner)
    assert "not a pair you may join" in s.refused(actor, PartnerChoiceOp(choice="join_pair",
                                                                        group=1), OutOfOrder)
    group_b = s.state.ups.group_of(pair_b[0])
    s.do(actor, PartnerChoiceOp(choice="join_pair", group=group_b))
    assert s.groups() == [sorted([*pair_b, partner])] and s.state.ups.alone == []
    assert "not left you alone" in s.refused(actor, PartnerChoiceOp(choice="wait"), OutOfOrder)


def test_wait_then_a_late_arrival_pairs_with_whoever_waits():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    leaver, partner = s.groups()[0]
    s.append(left(s.state, leaver, "left"), None)
    actor = next(p for p in PEOPLE if p.id == partner)
    s.do(actor, PartnerChoiceOp(choice="wait"))
    assert s.state.ups.waiting == [partner]
    s.arrive(EVE)
    assert sorted([partner, EVE.id]) in s.groups() and s.state.ups.waiting == []


def test_main_room_and_leave_pair():
    s = pairs_session(5)
    s.do(HOST, PairOp())
    trio = next(g for g in s.groups() if len(g) == 3)
    quitter = next(p for p in PEOPLE if p.id == trio[0])
    s.do(quitter, LeavePairOp())
    change = s.events[-1].body
    assert isinstance(change, PairsChanged) and change.why == "leave" and change.alone == []
    assert sorted(len(g) for g in s.groups()) == [2, 2]
    assert "in none" in s.refused(quitter, LeavePairOp(), OutOfOrder)
    pair = s.groups()[0]
    one = next(p for p in PEOPLE if p.id == pair[0])
    s.do(one, LeavePairOp())
    other = next(p for p in PEOPLE if p.id == pair[1])
    s.do(other, PartnerChoiceOp(choice="main_room"))
    assert len(s.groups()) == 1 and s.state.ups.alone == []


def test_help_visits_and_broadcasts():
    s = pairs_session(4)
    assert "no pair-up round" in s.refused(HOST, BroadcastOp(text="hi"), OutOfOrder)
    s.do(HOST, PairOp())
    group = s.state.ups.group_of(ANN.id)
    assert group is not None
    s.do(ANN, CallHelpOp())
    assert "already" in s.refused(ANN, CallHelpOp(), OutOfOrder)
    assert [h.group for h in s.state.snapshot().help] == [group]
    bodies = s.do(HOST, VisitOp(group=group)).bodies
    assert [type(b) for b in bodies] == [HostVisited, HelpCleared]
    assert s.state.ups.help == {} and s.state.ups.visits[HOST.id].group == group
    other = next(g for g in s.state.ups.groups if g != group)
    bodies = s.do(HOST, VisitOp(group=other)).bodies
    assert [type(b) for b in bodies] == [HostLeft, HostVisited]
    s.do(HOST, LeaveVisitOp())
    assert s.state.ups.visits == {}
    assert "no breakout room" in s.refused(HOST, LeaveVisitOp(), OutOfOrder)
    assert "no group 9" in s.refused(HOST, VisitOp(group=9), NotFound)
    s.do(BOB, CallHelpOp())
    s.do(HOST, ClearHelpOp(group=s.state.ups.group_of(BOB.id) or 0))
    assert s.state.ups.help == {}
    assert "has not called" in s.refused(HOST, ClearHelpOp(group=1), OutOfOrder)
    s.do(HOST, BroadcastOp(text="  Two minutes left  "))
    assert [b.text for b in s.state.ups.broadcasts] == ["Two minutes left"]
    s.refused(HOST, BroadcastOp(text="   "), InvalidCommand)
    assert "in no breakout room" in s.refused(HOST, CallHelpOp(), OutOfOrder)


def test_the_timer_warns_at_one_minute_and_ends_the_round():
    s = pairs_session(4)
    deadline = s.state.deadline_ms
    assert deadline is not None
    (warn,) = due(s.state, deadline - 100_000)
    s.append(warn.bodies, None)
    assert due(s.state, deadline - 50_000) == []  # no round: no 1m warning
    s.do(HOST, PairOp())
    (one,) = due(s.state, deadline - 50_000)
    assert one.bodies == [SegmentWarned(index=0, left="1m")]
    s.append(one.bodies, None)
    (end,) = due(s.state, deadline)
    assert end.bodies == [PairsEnded(round=1, how="time")]
    s.append(end.bodies, None)
    assert not s.state.ups.active and s.groups() == [] and due(s.state, deadline + 5) == []
    assert s.state.index == 0  # not auto-advancing: the host moves on


def test_extend_moves_the_breakouts_end_and_auto_advance_ends_the_round_first():
    s = pairs_session(4, auto=True)
    s.do(HOST, PairOp())
    s.do(HOST, ExtendOp(minutes=5))
    deadline = s.state.deadline_ms
    assert deadline == T0 + 15 * MINUTE
    assert due(s.state, T0 + 10 * MINUTE + 1) == []
    (auto,) = due(s.state, deadline)
    assert [type(b) for b in auto.bodies] == [PairsEnded, SegmentChanged]
    s.append(auto.bodies, None)
    assert s.state.index == 1 and not s.state.ups.active


def test_moving_on_or_ending_ends_the_round_first():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    bodies = s.do(HOST, AdvanceOp()).bodies
    assert bodies[0] == PairsEnded(round=1, how="host")
    t = pairs_session(4)
    t.do(HOST, PairOp())
    assert [type(b) for b in t.do(HOST, EndOp()).bodies] == [PairsEnded, SessionEnded]
    u = pairs_session(4)
    u.do(HOST, PairOp())
    assert "over" in u.refused(HOST, EndPairsOp(round=2), OutOfOrder)
    u.do(HOST, EndPairsOp(round=1))
    assert "no pair-up round" in u.refused(HOST, EndPairsOp(), OutOfOrder)


def test_takeaways_by_those_who_were_in_the_round():
    s = pairs_session(4)
    s.arrive(EVE)
    s.do(EVE, SitOutOp())
    s.do(HOST, PairOp())
    s.do(HOST, EndPairsOp())
    (shared,) = s.do(ANN, TakeawayOp(round=1, text=" Ask before advising ")).bodies
    assert shared == TakeawayShared(round=1, text="Ask before advising", name="Ann")
    assert "no breakout room of round 1" in s.refused(EVE, TakeawayOp(round=1, text="x"),
                                                      OutOfOrder)
    s.refused(ANN, TakeawayOp(round=2, text="x"), OutOfOrder)
    s.refused(ANN, TakeawayOp(round=1, text="  "), InvalidCommand)


def test_breakout_talk_goes_to_the_group_and_visiting_hosts_only():
    s = pairs_session(4)
    assert "no pair-up round" in s.refused(ANN, BreakoutSayOp(text="hi"), OutOfOrder)
    s.do(HOST, PairOp())
    group = s.state.ups.group_of(ANN.id)
    assert group is not None
    partner = next(m for m in s.state.ups.groups[group] if m != ANN.id)
    said = s.do(ANN, BreakoutSayOp(text="hello"))
    assert said.bodies == [] and said.to == [partner]
    assert said.relay == {"group": group, "round": 1, "text": "hello"}
    s.do(HOST, VisitOp(group=group))
    assert s.do(ANN, BreakoutSayOp(text="hi host")).to == sorted([partner, HOST.id])
    assert s.do(HOST, BreakoutSayOp(text="hi")).to == sorted([ANN.id, partner])
    s.do(HOST, LeaveVisitOp())
    assert "in none" in s.refused(HOST, BreakoutSayOp(text="hi"), OutOfOrder)
    s.refused(ANN, BreakoutSayOp(text=" "), InvalidCommand)


def test_a_non_host_cannot_press_the_hosts_buttons():
    assert sd.required_action("pair").value == "run_session"
    for name in ("end_pairs", "broadcast", "visit", "leave_visit", "clear_help"):
        assert sd.required_action(name).value == "run_session"
    for name in ("sit_out", "call_help", "leave_pair", "partner_choice", "attend"):
        assert sd.required_action(name).value == "take_part"


def test_an_old_streams_pairs_field_folds_as_a_round():
    s = pairs_session(0)
    s.append([SegmentChanged(index=0, deadline_ms=T0 + MINUTE, how="back",
                             pairs=[["a", "b"], ["c", "d", "e"]])], None)
    assert s.state.ups.active and s.state.ups.round == 1
    assert s.groups() == [["a", "b"], ["c", "d", "e"]]


def test_a_client_fold_from_any_snapshot_equals_the_whole_fold():
    s = pairs_session(5)
    s.do(DI, SitOutOp())
    s.do(HOST, PairOp())
    s.do(ANN, CallHelpOp())
    s.do(HOST, BroadcastOp(text="hello all"))
    s.do(HOST, VisitOp(group=1))
    s.arrive(FAY)
    leaver = s.groups()[0][0]
    s.append(left(s.state, leaver, "left"), None)
    s.do(HOST, EndPairsOp())
    s.do(ANN, TakeawayOp(round=1, text="kept"))
    whole = normal_form(s.state)
    for cut in range(len(s.events)):
        partial = fold(_replay(s, cut).snapshot(), cut + 1, s.events[cut + 1:])
        assert normal_form(partial) == whole
        snap = msgspec.json.decode(msgspec.json.encode(partial.snapshot()),
                                   type=type(partial.snapshot()))
        assert snap == partial.snapshot()


def _replay(s: Pairs, cut: int) -> SessionState:
    state = SessionState("s-1")
    for event in s.events[:cut + 1]:
        apply(state, event)
    return state


def test_host_is_placed_late_never_and_stage_people_neither():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    s.arrive(HOST)  # attend again: a host is not placed
    assert HOST.id not in everyone(s)
    assert s.events[-1].body is not None and not isinstance(s.events[-1].body, PairsChanged)


def test_a_visiting_host_who_leaves_the_room_leaves_the_breakout_room():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    s.do(HOST, VisitOp(group=1))
    (gone,) = left(s.state, HOST.id, "left")
    assert gone == HostLeft(round=1, group=1, member=HOST.id)
    s.append([gone], None)
    assert s.state.ups.visits == {} and left(s.state, HOST.id, "left") == []
