from server.domain import community as fold
from server.domain.events import CommunityCreated, Event, RoomCreated


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
