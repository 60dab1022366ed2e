"""Moving into and out of a running round, decided purely: rejoining from the main room
is placed as a late arrival is (same matcher, same ``pairs_changed``), once; who may not
rejoin (in a group, waiting, alone, sitting out, on stage, a host who took no part,
not in the room, a stale or ended round) is refused ``out_of_order`` with nothing decided; and
"join another pair" with the server's choice goes through the same placement."""

from __future__ import annotations

import random

from server.domain import session_decide as sd
from server.domain.session_pair_events import PairsChanged
from server.domain.session_pair_moves import placement, rejoin_refusal
from server.domain.session_pairs import PairingInputs
from server.errors import OutOfOrder
from server.session_protocol import (
    EndPairsOp,
    LeavePairOp,
    PairOp,
    PartnerChoiceOp,
    RejoinPairsOp,
    SitOutOp,
    StageOp,
)

from .test_session import HOST
from .test_session_pairs import ANN, EVE, FAY, GUS, PEOPLE, Pairs, everyone, pairs_session


def person(member: str) -> sd.SessionActor:
    return next(p for p in PEOPLE if p.id == member)


def back_in_main_room(s: Pairs) -> tuple[sd.SessionActor, sd.SessionActor]:
    """A round of four; one of a pair pressed "Back to main room" and their partner chose
    the main room too. (the one who pressed, the partner)"""
    s.do(HOST, PairOp())
    leaver, partner = (person(m) for m in s.groups()[0])
    s.do(leaver, LeavePairOp())
    s.do(partner, PartnerChoiceOp(choice="main_room"))
    assert s.state.ups.group_of(leaver.id) is None and s.state.ups.alone == []
    return leaver, partner


def test_rejoining_joins_a_pair_as_a_third_as_a_late_arrival_would():
    s = pairs_session(4)
    leaver, _ = back_in_main_room(s)
    (other,) = s.groups()
    (change,) = s.do(leaver, RejoinPairsOp(round=1)).bodies
    assert isinstance(change, PairsChanged)
    assert (change.why, change.member, change.round) == ("rejoin", leaver.id, 1)
    assert s.groups() == [sorted([*other, leaver.id])]
    assert change.groups[0].group == s.state.ups.group_of(other[0])  # its id kept


def test_rejoining_pairs_with_someone_waiting_first():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    leaver, partner = (person(m) for m in s.groups()[0])
    s.do(leaver, LeavePairOp())
    s.do(partner, PartnerChoiceOp(choice="wait"))
    s.do(leaver, RejoinPairsOp(round=1))
    assert sorted([leaver.id, partner.id]) in s.groups() and s.state.ups.waiting == []


def test_the_placement_is_the_late_arrivals_with_the_same_inputs_and_rng():
    """Rejoin and a late arrival place from the same function: the same state, inputs
    and rng give the same groups."""
    s = pairs_session(5)
    leaver, _ = back_in_main_room(s)
    decided = sd.decide(s.state, leaver, RejoinPairsOp(round=1), s.now, random.Random(3),
                        s.context()).bodies[0]
    placed = placement(s.state, leaver.id, s.context(), random.Random(3), with_waiting=True)
    assert isinstance(decided, PairsChanged)
    assert (decided.groups, decided.waiting) == placed


def test_blocks_hold_when_rejoining():
    s = pairs_session(4)
    leaver, partner = back_in_main_room(s)
    s.inputs = PairingInputs(blocks=[(leaver.id, m) for m in s.groups()[0]])
    s.do(leaver, RejoinPairsOp(round=1))  # nobody they may join: they wait
    assert s.state.ups.waiting == [leaver.id] and leaver.id not in everyone(s)
    s.inputs = PairingInputs()
    s.do(partner, RejoinPairsOp(round=1))  # the next one back pairs with who waits
    assert sorted([leaver.id, partner.id]) in s.groups() and s.state.ups.waiting == []


def test_two_presses_make_one_change():
    s = pairs_session(4)
    leaver, _ = back_in_main_room(s)
    s.do(leaver, RejoinPairsOp(round=1))
    seq = s.seq
    assert "in a breakout room already" in s.refused(leaver, RejoinPairsOp(round=1),
                                                     OutOfOrder)
    assert s.seq == seq


def test_a_stale_or_ended_round_or_none_is_refused():
    s = pairs_session(4)
    assert "no pair-up round" in s.refused(ANN, RejoinPairsOp(round=1), OutOfOrder)
    leaver, _ = back_in_main_room(s)
    assert "round 2 of pair-ups is not running" in s.refused(leaver, RejoinPairsOp(round=2),
                                                      OutOfOrder)
    s.do(HOST, PairOp(round=1), seed="seed-2")  # a reshuffle: round 2 runs
    assert leaver.id in everyone(s)
    s.do(leaver, LeavePairOp())
    assert "round 1 of pair-ups is not running" in s.refused(leaver, RejoinPairsOp(round=1),
                                                      OutOfOrder)
    s.do(HOST, EndPairsOp())
    assert "no pair-up round" in s.refused(leaver, RejoinPairsOp(round=2), OutOfOrder)


def test_who_keeps_todays_rules_is_refused():
    s = pairs_session(5)
    s.do(EVE, SitOutOp(out=True))
    s.do(HOST, PairOp())
    in_group = person(s.groups()[0][0])
    assert "already" in s.refused(in_group, RejoinPairsOp(round=1), OutOfOrder)
    assert "sitting out" in s.refused(EVE, RejoinPairsOp(round=1), OutOfOrder)
    assert "took no part" in s.refused(HOST, RejoinPairsOp(round=1), OutOfOrder)
    pair = s.groups()[0]
    leaver, partner = person(pair[0]), person(pair[1])
    s.do(leaver, LeavePairOp())
    assert "partner left" in s.refused(partner, RejoinPairsOp(round=1), OutOfOrder)
    s.do(partner, PartnerChoiceOp(choice="wait"))
    assert "waiting" in s.refused(partner, RejoinPairsOp(round=1), OutOfOrder)
    s.do(leaver, SitOutOp(out=True))  # sat out after leaving: sit back in first
    assert "sitting out" in s.refused(leaver, RejoinPairsOp(round=1), OutOfOrder)
    s.do(leaver, SitOutOp(out=False))
    s.do(HOST, StageOp(member=leaver.id, on=True))
    assert "on stage" in s.refused(leaver, RejoinPairsOp(round=1), OutOfOrder)
    s.do(HOST, StageOp(member=leaver.id, on=False))
    s.present.discard(leaver.id)
    assert "not in the session's room" in s.refused(leaver, RejoinPairsOp(round=1),
                                                    OutOfOrder)
    s.present.add(leaver.id)
    assert rejoin_refusal(s.state, leaver.id, False, s.present) is None
    s.do(leaver, RejoinPairsOp(round=1))
    assert sorted([leaver.id, partner.id]) in s.groups()
    stranger = sd.SessionActor(id="m-zed", name="Zed", key="k-zed")
    s.present.add(stranger.id)
    assert "not come" in s.refused(stranger, RejoinPairsOp(round=1), OutOfOrder)


def test_someone_never_placed_joins_a_pair_and_a_waiter_who_went_back_rejoins():
    """Sat out when the host paired, then sat back in: "join a pair" places them now. A
    late arrival who waited and pressed "Back to main room" may come back too."""
    s = pairs_session(5)
    s.do(EVE, SitOutOp(out=True))
    s.do(HOST, PairOp())
    s.do(EVE, SitOutOp(out=False))
    s.do(EVE, RejoinPairsOp(round=1))
    assert EVE.id in everyone(s) and sorted(len(g) for g in s.groups()) == [2, 3]
    s.arrive(FAY)  # a trio is full, the other pair takes her
    s.arrive(GUS)  # nobody to join: waits
    assert s.state.ups.waiting == [GUS.id]
    s.do(GUS, LeavePairOp())
    assert s.state.ups.waiting == [] and GUS.id not in everyone(s)
    s.do(GUS, RejoinPairsOp(round=1))
    assert s.state.ups.waiting == [GUS.id]


def test_join_another_pair_with_the_servers_choice_shares_the_placement():
    s = pairs_session(6)
    s.do(HOST, PairOp())
    leaver, partner = (person(m) for m in s.groups()[0])
    s.do(leaver, LeavePairOp())
    placed = placement(s.state, partner.id, s.context(), random.Random(7), with_waiting=False)
    (change,) = s.do(partner, PartnerChoiceOp(choice="join_pair")).bodies
    assert isinstance(change, PairsChanged) and change.why == "join_pair"
    assert (change.groups, change.waiting) == placed
    assert sorted(len(g) for g in s.groups()) == [2, 3]


def test_join_another_pair_leaves_those_waiting_waiting_and_refuses_with_no_pair():
    s = pairs_session(4)
    s.do(HOST, PairOp())
    (a, b), (c, d) = ([person(m) for m in g] for g in s.groups())
    s.do(a, LeavePairOp())
    s.do(b, PartnerChoiceOp(choice="wait"))
    s.do(c, LeavePairOp())
    assert s.state.ups.alone == [d.id] and s.state.ups.groups == {}
    assert "no pair you may join" in s.refused(d, PartnerChoiceOp(choice="join_pair"),
                                               OutOfOrder)
    s.do(a, RejoinPairsOp(round=1))  # pairs with b, who waits
    assert s.groups() == [sorted([a.id, b.id])]
    s.do(d, PartnerChoiceOp(choice="join_pair"))
    assert s.groups() == [sorted([a.id, b.id, d.id])] and s.state.ups.waiting == []
