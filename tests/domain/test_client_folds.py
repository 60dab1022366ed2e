"""A client's fold (a snapshot at some seq, then the events after it) reaches the same
state as the server's fold of the whole stream: the Python half of the cross-language
check in tests/browser/test_folds.py, on the same recorded sequences."""

from __future__ import annotations

import random

import msgspec
import pytest

from server.domain import community as community_fold
from server.domain import room as room_fold
from server.domain.community import CommunityState
from server.domain.events import Event, MemberAdmitted, MemberTimedOut, MessagePosted
from tests.fold_sequences import (
    client_fold,
    community_sequence,
    room_sequence,
    server_fold,
    session_sequence,
    stale,
)

SEEDS = [1, 2, 3, 11, 2026]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("make", [room_sequence, community_sequence, session_sequence],
                         ids=["room", "community", "session"])
def test_snapshot_then_events_equals_the_whole_fold(seed, make):
    recorded = make(seed)
    rng = random.Random(seed)
    whole = server_fold(recorded)
    total = len(recorded.events)
    for at in sorted({0, 1, total // 3, total // 2, total - 1, total}):
        case = recorded.case(at, stale(recorded, at, rng))
        assert client_fold(case) == whole, f"seed {seed}, snapshot at {at}"


def test_the_sequences_cover_every_kind_of_event():
    seen = {type(e.body).__name__ for seed in SEEDS
            for make in (room_sequence, community_sequence) for e in make(seed).events}
    assert {"MemberJoined", "MemberLeft", "MessagePosted", "MessageEdited", "MessageDeleted",
            "RoomCreated", "MemberAdmitted", "MemberRemoved", "RoleChanged", "MemberTimedOut",
            "MemberRenamed", "RemovalLifted", "CommunityEdited", "UnreadableEvent",
            "NoneType"} <= seen
    pairs = {type(e.body).__name__ for seed in SEEDS for e in session_sequence(seed).events}
    assert {"PairsMade", "PairsChanged", "PairsEnded", "PairsBroadcast", "HelpCalled",
            "HelpCleared", "HostVisited", "HostLeft", "SatOut", "TakeawayShared"} <= pairs


def test_a_duplicate_or_older_seq_changes_nothing():
    snapshot = room_fold.RoomState("r").snapshot()
    posted = Event(stream="room:r", seq=1, ts=5, actor="a",
                   body=MessagePosted(author="a", author_name="Ann", text="one"))
    again = msgspec.structs.replace(posted, body=MessagePosted(author="a", author_name="Ann",
                                                               text="other"))
    state = room_fold.fold(snapshot, 0, [posted, again])
    assert [m.text for m in state.recent.values()] == ["one"]
    assert state.message_count == 1
    assert room_fold.fold(snapshot, 1, [posted]).message_count == 0  # from before the snapshot


def test_an_admission_carries_a_running_timeout_but_not_an_ended_one():
    state = CommunityState("c")
    for seq, (ts, body) in enumerate([
        (10, MemberTimedOut(member="m", until=100, reason="spam")),
        (20, MemberAdmitted(member="m", name="Ann", role="member", via="open")),
    ], 1):
        community_fold.apply(state, Event(stream="community:c", seq=seq, ts=ts, actor=None,
                                          body=body))
    assert state.members["m"].timed_out_until == 100
    state.members.clear()
    community_fold.apply(state, Event(stream="community:c", seq=3, ts=200, actor=None,
                                      body=MemberAdmitted(member="m", name="Ann",
                                                          role="member", via="open")))
    assert state.members["m"].timed_out_until == 0
    assert state.timed_out_until("m") == 100  # the record stays; only what shows changes
