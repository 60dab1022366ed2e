"""The community fold and its membership decisions: pure, no server."""

from __future__ import annotations

import pytest

from server.domain import community as fold
from server.domain.events import (
    CommunityCreated,
    Event,
    EventBody,
    MemberAdmitted,
    MemberRemoved,
    MemberTimedOut,
    RemovalLifted,
    RoleChanged,
    RoomCreated,
)
from server.errors import Conflict, Forbidden, NotFound

MINUTE = 60_000


def folded(*bodies: EventBody, actor: str | None = "owner",
           state: fold.CommunityState | None = None) -> fold.CommunityState:
    state = state or fold.CommunityState("c")
    for body in bodies:
        fold.apply(state, Event(stream="community:c", seq=state.seq + 1, ts=1000 * (state.seq + 1),
                                actor=actor, body=body))  # type: ignore[arg-type]
    return state


def circle() -> fold.CommunityState:
    return folded(CommunityCreated(community="c", name="Circle", domain="d", purpose="p",
                                   owner="owner", owner_name="Olu", join_policy="open"),
                  MemberAdmitted(member="m", name="Mo", role="member", via="open"))


def test_community_fold_lists_rooms_in_creation_order():
    state = fold.CommunityState("c")
    bodies = [
        CommunityCreated(community="c", name="Circle", domain="d", purpose="p"),
        RoomCreated(room="b", name="B"),
        RoomCreated(room="a", name="A", topic="t"),
        RoomCreated(room="b", name="B renamed"),
    ]
    for seq, body in enumerate(bodies, 1):
        fold.apply(state, Event(stream="community:c", seq=seq, ts=0, actor=None, body=body))
    snap = state.snapshot()
    assert (snap.name, snap.domain, snap.purpose) == ("Circle", "d", "p")
    assert [(r.room, r.name) for r in snap.rooms] == [("b", "B renamed"), ("a", "A")]


def test_a_timeout_outlives_leaving_and_coming_back():
    state = folded(MemberTimedOut(member="m", until=10 * MINUTE, reason="heated"),
                   state=circle())
    folded(*fold.decide_leave(state, "m"), actor="m", state=state)
    assert "m" not in state.members and state.timed_out_until("m") == 10 * MINUTE
    events = fold.decide_admit(state, "m", "Mo", "open", now_ms=MINUTE)
    # The running timeout is restated after the admission, for every reader of the stream.
    assert [type(e) for e in events] == [MemberAdmitted, MemberTimedOut]
    folded(*events, actor="m", state=state)
    info = state.members["m"]
    assert (info.timed_out_until, info.timeout_reason) == (10 * MINUTE, "heated")


def test_the_fold_alone_keeps_a_timeout_across_rejoining():
    """Even an admission that does not restate it (history, the operator) keeps it."""
    state = folded(MemberTimedOut(member="m", until=10 * MINUTE, reason="heated"),
                   MemberRemoved(member="m", how="left"),
                   MemberAdmitted(member="m", name="Mo", role="member", via="open"),
                   state=circle())
    assert state.members["m"].timed_out_until == 10 * MINUTE


def test_an_ended_timeout_is_not_restated():
    state = folded(MemberTimedOut(member="m", until=MINUTE, reason=""),
                   MemberRemoved(member="m", how="left"), state=circle())
    assert [type(e) for e in fold.decide_admit(state, "m", "Mo", "open", now_ms=MINUTE)] == [
        MemberAdmitted]


def test_a_removal_is_a_ban_until_lifted_and_keeps_the_timeout():
    state = folded(MemberTimedOut(member="m", until=10 * MINUTE, reason="heated"),
                   MemberRemoved(member="m", reason="spam"), actor="conv", state=circle())
    removal = state.removed["m"]
    assert (removal.name, removal.by, removal.reason, removal.at) == ("Mo", "conv", "spam",
                                                                      4000)
    for via in ("open", "invite", "approval"):
        with pytest.raises(Forbidden, match="removed"):
            fold.decide_admit(state, "m", "Mo", via, now_ms=MINUTE)  # type: ignore[arg-type]
    seq = state.seq
    lifted = fold.decide_lift(state, "m")
    assert lifted == [RemovalLifted(member="m")]
    folded(*lifted, state=state)
    assert "m" not in state.removed and state.seq == seq + 1
    events = fold.decide_admit(state, "m", "Mo", "open", now_ms=MINUTE)
    folded(*events, state=state)
    assert state.members["m"].timed_out_until == 10 * MINUTE


def test_leaving_or_deleting_an_account_is_not_a_ban():
    state = folded(MemberRemoved(member="m", how="left"), state=circle())
    assert state.removed == {}
    folded(MemberAdmitted(member="m", name="Mo", role="member", via="open"),
           MemberRemoved(member="m", how="account_deleted"), state=state)
    assert state.removed == {}


def test_lifting_what_is_not_removed_is_not_found():
    with pytest.raises(NotFound):
        fold.decide_lift(circle(), "m")


def test_an_admission_in_the_stream_ends_a_ban():
    """The operator's make-owner (or history from before bans) admits anyway."""
    state = folded(MemberRemoved(member="m", reason="spam"),
                   MemberAdmitted(member="m", name="Mo", role="owner", via="operator"),
                   state=circle())
    assert state.removed == {} and state.members["m"].role == "owner"


def test_a_guest_timeout_is_kept_without_membership():
    state = folded(MemberTimedOut(member="g-abc", until=5 * MINUTE, reason="shouting"),
                   state=circle())
    assert state.timed_out_until("g-abc") == 5 * MINUTE and "g-abc" not in state.members
    assert state.timed_out_until("nobody") == 0


def test_the_last_owner_may_not_leave_and_two_owners_leave_one_at_a_time():
    state = folded(RoleChanged(member="m", role="owner"), state=circle())
    first = fold.decide_leave(state, "owner")
    folded(*first, actor="owner", state=state)
    with pytest.raises(Conflict, match="only owner"):
        fold.decide_leave(state, "m")
    assert state.owners() == ["m"]
    with pytest.raises(Conflict, match="not a member"):
        fold.decide_leave(state, "owner")


def test_admitting_a_member_twice_is_a_conflict():
    with pytest.raises(Conflict):
        fold.decide_admit(circle(), "m", "Mo", "open", now_ms=0)


def test_community_decisions_take_the_clock_and_randomness_as_arguments():
    import random

    state = circle()
    assert fold.decide_set_role(state, "m", "host") == [RoleChanged(member="m", role="host")]
    assert fold.decide_set_role(state, "m", "member") == []  # already: nothing to append
    with pytest.raises(NotFound):
        fold.decide_set_role(state, "nobody", "host")
    assert fold.decide_timeout(state, "m", 5, " heated ", now_ms=MINUTE) == [
        MemberTimedOut(member="m", until=6 * MINUTE, reason="heated")]
    assert fold.decide_remove(state, "m", " spam ") == [MemberRemoved(member="m",
                                                                      reason="spam")]
    taken = {"case-review-000001"}
    first = fold.decide_create_room(state, "Case Review!", " t ", random.Random(5),
                                    taken.__contains__)
    again = fold.decide_create_room(state, "Case Review!", " t ", random.Random(5),
                                    taken.__contains__)
    assert first == again and first.room.startswith("case-review-") and first.topic == "t"
    busy = fold.decide_create_room(state, "Case Review!", "", random.Random(5),
                                   {first.room}.__contains__)  # taken: draws again
    assert busy.room != first.room and busy.room.startswith("case-review-")
    assert fold.room_slug("!!!") == "room"
    edited = fold.decide_edit(state, name="Circle", domain=" d2 ", purpose=" p2 ",
                              description="", join_policy="invite")
    folded(*edited, state=state)
    assert (state.domain, state.purpose, state.join_policy) == ("d2", "p2", "invite")


def test_the_fold_keeps_when_each_member_first_came_in():
    state = circle()
    assert state.joined == {"owner": 1000, "m": 2000}
    folded(MemberRemoved(member="m", how="left", reason=""),
           MemberAdmitted(member="m", name="Mo", role="member", via="open"), state=state)
    assert state.joined["m"] == 2000  # coming back keeps the first time
    assert fold.from_snapshot(state.snapshot(), state.seq).joined == {}  # not in snapshots
