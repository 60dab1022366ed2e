"""Breakout calls' signalling, decided purely: relayed to the one member named when both
are in the same group, with the group and round; typed refusals otherwise, nothing
decided; the wire types bound what a signal may carry."""

from __future__ import annotations

import msgspec
import pytest

from server.domain.session_rules import required_action
from server.errors import Forbidden, InvalidCommand, OutOfOrder
from server.protocol import ClientMessage
from server.session_protocol import (
    EndPairsOp,
    LeavePairOp,
    PairOp,
    SignalOp,
    VisitOp,
)
from server.signal_protocol import (
    MAX_SDP_CHARS,
    SignalAnswer,
    SignalBye,
    SignalCandidate,
    SignalHello,
    SignalMedia,
    SignalOffer,
)

from .test_session import HOST
from .test_session_pairs import ANN, PEOPLE, pairs_session

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
BY_ID = {p.id: p for p in [HOST, *PEOPLE]}


def test_a_signal_goes_to_one_member_of_the_senders_group_only():
    s = pairs_session(5)
    s.do(HOST, PairOp())
    for group in s.groups():
        sender, *others = (BY_ID[m] for m in group)
        for to in others:
            decided = s.do(sender, SignalOp(to=to.id, signal=SignalOffer(call="c1", sdp=SDP)))
            assert decided.bodies == [] and decided.to == [to.id]
            assert decided.kind == "signal"
            assert decided.relay == {"group": s.state.ups.group_of(sender.id), "round": 1,
                                     "signal": {"kind": "offer", "call": "c1", "sdp": SDP}}


def test_every_kind_of_signal_is_relayed_as_it_came():
    s = pairs_session(2)
    s.do(HOST, PairOp())
    bob = PEOPLE[1]
    signals = [SignalHello(), SignalOffer(call="a", sdp=SDP), SignalAnswer(call="a", sdp=SDP),
               SignalCandidate(call="a", candidate="candidate:1 1 udp 1 127.0.0.1 5000 typ "
                               "host", sdp_mid="0", sdp_mline_index=0),
               SignalMedia(audio=True, video=False, low_bandwidth=True), SignalBye()]
    for signal in signals:
        relay = s.do(ANN, SignalOp(to=bob.id, signal=signal)).relay
        assert relay is not None
        assert relay["signal"] == msgspec.to_builtins(signal)


def test_refusals_are_typed_and_decide_nothing():
    s = pairs_session(4)
    offer = SignalOffer(call="c1", sdp=SDP)
    assert "no pair-up round" in s.refused(ANN, SignalOp(to=PEOPLE[1].id, signal=offer),
                                           OutOfOrder)
    s.do(HOST, PairOp())
    (partner,) = [m for g in s.groups() if ANN.id in g for m in g if m != ANN.id]
    stranger = next(m for g in s.groups() if ANN.id not in g for m in g)
    message = s.refused(ANN, SignalOp(to=stranger, signal=offer), Forbidden)
    assert "not in your breakout room" in message
    s.refused(ANN, SignalOp(to=HOST.id, signal=offer), Forbidden)  # in the main room
    s.refused(ANN, SignalOp(to="m-nobody", signal=offer), Forbidden)
    s.refused(ANN, SignalOp(to=ANN.id, signal=offer), InvalidCommand)
    assert "in none" in s.refused(HOST, SignalOp(to=ANN.id, signal=offer), OutOfOrder)
    s.do(HOST, VisitOp(group=s.state.ups.group_of(ANN.id) or 0))  # a visit is chat only
    s.refused(HOST, SignalOp(to=ANN.id, signal=offer), OutOfOrder)
    s.refused(ANN, SignalOp(to=HOST.id, signal=offer), Forbidden)
    s.do(ANN, LeavePairOp())  # back in the main room: no call
    s.refused(ANN, SignalOp(to=partner, signal=offer), OutOfOrder)
    s.do(HOST, EndPairsOp())
    s.refused(BY_ID[stranger], SignalOp(to=partner, signal=offer), OutOfOrder)


def test_signalling_needs_what_speaking_in_the_session_needs():
    assert required_action("signal") == required_action("breakout_say")


DECODE = msgspec.json.Decoder(ClientMessage)


def frame(signal: dict[str, object]) -> bytes:
    return msgspec.json.encode({"type": "session", "ref": "r1", "session": "s-1",
                                "op": {"op": "signal", "to": "m-bob", "signal": signal}})


def test_the_wire_bounds_what_a_signal_carries():
    DECODE.decode(frame({"kind": "offer", "call": "c-1", "sdp": SDP}))
    DECODE.decode(frame({"kind": "offer", "call": "c-1", "sdp": SDP + "x" * (
        MAX_SDP_CHARS - len(SDP))}))
    bad = [{"kind": "offer", "call": "c-1", "sdp": SDP + "x" * MAX_SDP_CHARS},  # too large
           {"kind": "offer", "call": "c-1", "sdp": "hello"},  # not a description
           {"kind": "answer", "call": "c 1", "sdp": SDP},  # a call id with a space
           {"kind": "candidate", "call": "c", "candidate": "x" * 1025},
           {"kind": "candidate", "call": "c", "candidate": "", "sdp_mline_index": 65},
           {"kind": "media", "audio": True},  # video missing
           {"kind": "hello", "extra": 1},  # unknown field
           {"kind": "ring"}]  # no such kind
    for signal in bad:
        with pytest.raises(msgspec.ValidationError):
            DECODE.decode(frame(signal))
