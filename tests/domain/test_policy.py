"""The permission table and allowed(): pure, no server."""

from __future__ import annotations

import itertools

import pytest

from server.domain.policy import (
    GRANTS,
    ROOM_ACTIONS,
    SPEAKING,
    Action,
    Actor,
    Resource,
    Role,
    allowed,
    grantable_roles,
    permission_matrix,
    session_actions,
)

ROOM = Resource(community="circle", room="case-review")


def test_each_role_holds_every_grant_of_the_roles_below():
    ranked = sorted(Role)
    for lower, higher in itertools.pairwise(ranked):
        assert GRANTS[lower] <= GRANTS[higher], (lower, higher)
    assert GRANTS[Role.OWNER] == frozenset(Action)


@pytest.mark.parametrize("action", list(Action))
def test_someone_outside_the_community_may_do_nothing(action):
    decision = allowed(Actor(id="x", role=None), action, ROOM)
    assert not decision and "not a member" in decision.reason


@pytest.mark.parametrize("action", list(Action))
def test_a_guest_may_only_act_in_their_one_room(action):
    guest = Actor(id="g-1", role=Role.GUEST, guest_room="case-review")
    own = allowed(guest, action, ROOM)
    other = allowed(guest, action, Resource(community="circle", room="journal-club"))
    assert bool(own) == (action in GRANTS[Role.GUEST])
    assert not other
    if action in GRANTS[Role.GUEST]:
        assert action in ROOM_ACTIONS and "one room" in other.reason


@pytest.mark.parametrize("action", sorted(GRANTS[Role.GUEST]))
def test_a_session_guest_acts_in_their_one_session_only(action):
    guest = Actor(id="g-1", role=Role.GUEST, guest_room="case-review", guest_session="s-1")
    mine = allowed(guest, action, ROOM._replace(session="s-1"))
    other = allowed(guest, action, ROOM._replace(session="s-2"))
    room_only = allowed(guest, action, ROOM)
    assert mine and not other and "one session only" in other.reason
    assert bool(room_only) == (action not in SPEAKING)  # present in the room, never chatting
    unlinked = Actor(id="g-2", role=Role.GUEST, guest_room="case-review")
    assert allowed(unlinked, action, ROOM._replace(session="s-2"))  # a room link: any session


def test_hosts_moderate_but_members_do_not():
    assert allowed(Actor(id="h", role=Role.HOST), Action.MODERATE_MESSAGES, ROOM)
    refused = allowed(Actor(id="m", role=Role.MEMBER), Action.MODERATE_MESSAGES, ROOM)
    assert not refused and refused.reason == "a member may not moderate messages"


@pytest.mark.parametrize(("role", "target", "new", "ok"), [
    (Role.CONVENER, Role.MEMBER, Role.HOST, True),
    (Role.CONVENER, Role.HOST, Role.MEMBER, True),  # revoking host
    (Role.CONVENER, Role.MEMBER, Role.CONVENER, False),  # not up to your own rank
    (Role.CONVENER, Role.CONVENER, Role.MEMBER, False),  # not on your equal
    (Role.CONVENER, Role.OWNER, Role.MEMBER, False),
    (Role.OWNER, Role.MEMBER, Role.OWNER, True),  # owners may make owners
    (Role.OWNER, Role.CONVENER, Role.MEMBER, True),
    (Role.OWNER, Role.OWNER, Role.MEMBER, False),  # but not demote each other
    (Role.OWNER, Role.MEMBER, Role.GUEST, False),  # guest is not a role to grant
    (Role.HOST, Role.MEMBER, Role.MEMBER, False),
    (Role.OWNER, None, Role.HOST, False),  # the target is not in the community
])
def test_roles_are_granted_only_below_your_own(role, target, new, ok):
    resource = Resource(community="circle", target_role=target, new_role=new)
    assert bool(allowed(Actor(id="a", role=role), Action.SET_ROLE, resource)) is ok


@pytest.mark.parametrize("action", [Action.REMOVE_MEMBER, Action.TIMEOUT_MEMBER])
def test_removal_and_timeout_only_of_lower_ranks(action):
    convener = Actor(id="c", role=Role.CONVENER)
    assert allowed(convener, action, Resource(community="c", target_role=Role.HOST))
    assert not allowed(convener, action, Resource(community="c", target_role=Role.CONVENER))
    assert not allowed(Actor(id="h", role=Role.HOST), action,
                       Resource(community="c", target_role=Role.MEMBER))


def test_a_timed_out_member_may_not_post_or_edit_until_it_ends():
    muted = Actor(id="m", role=Role.MEMBER, muted_until_ms=10 * 60_000 + 1, now_ms=60_000)
    refused = allowed(muted, Action.POST, ROOM)
    assert not refused and refused.reason == "timed out: you may post again in 10 min"
    assert not allowed(muted, Action.EDIT_OWN_MESSAGE, ROOM)
    assert allowed(muted, Action.DELETE_OWN_MESSAGE, ROOM)  # taking words back is fine
    assert allowed(muted, Action.JOIN_ROOM, ROOM)
    later = Actor(id="m", role=Role.MEMBER, muted_until_ms=60_000, now_ms=60_000)
    assert allowed(later, Action.POST, ROOM)


def test_the_matrix_lists_every_action_and_role():
    matrix = permission_matrix()
    for action in Action:
        assert f"| `{action.value}` |" in matrix
    header = next(line for line in matrix.splitlines() if line.startswith("| action"))
    assert header == "| action | guest | member | host | convener | owner |"
    assert "| `edit_community` | — | — | — | — | yes |" in matrix
    assert "| `post` | own room | yes | yes | yes | yes |" in matrix


@pytest.mark.parametrize("action", [Action.REMOVE_GUEST, Action.TIMEOUT_GUEST])
def test_hosts_remove_and_time_out_guests_but_not_members(action):
    host = Actor(id="h", role=Role.HOST)
    assert allowed(host, action, Resource(community="circle", target_role=Role.GUEST))
    refused = allowed(host, action, Resource(community="circle", target_role=Role.MEMBER))
    assert not refused and "not a guest" in refused.reason
    assert not allowed(Actor(id="m", role=Role.MEMBER), action,
                       Resource(community="circle", target_role=Role.GUEST))
    assert not allowed(host, Action.REMOVE_MEMBER,
                       Resource(community="circle", target_role=Role.MEMBER))


def test_a_timed_out_guest_may_not_post_either():
    guest = Actor(id="g-1", role=Role.GUEST, guest_room="case-review", muted_until_ms=2_000,
                  now_ms=1_000)
    assert not allowed(guest, Action.POST, ROOM)
    assert allowed(guest._replace(now_ms=2_000), Action.POST, ROOM)


def test_only_conveners_and_owners_lift_removals():
    for role in Role:
        decision = allowed(Actor(id="x", role=role), Action.LIFT_REMOVAL,
                           Resource(community="circle"))
        assert bool(decision) is (role >= Role.CONVENER), role


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.label)
def test_session_actions_are_the_role_grants_in_action_order(role):
    guest_room = "case-review" if role is Role.GUEST else None
    actions = session_actions(Actor("a", role, guest_room=guest_room), "circle")
    expected = [a for a in Action if a in GRANTS[role]
                and (role is not Role.GUEST or a in ROOM_ACTIONS)]
    assert actions == expected


def test_session_actions_ignore_a_running_timeout_and_need_membership():
    muted = Actor("a", Role.MEMBER, muted_until_ms=10_000, now_ms=1)
    assert Action.POST in session_actions(muted, "circle")  # the timeout ends by itself
    assert session_actions(Actor("a", None), "circle") == []


def test_grantable_roles_are_below_your_own_and_owner_for_owners():
    assert grantable_roles(Role.OWNER) == [Role.MEMBER, Role.HOST, Role.CONVENER, Role.OWNER]
    assert grantable_roles(Role.CONVENER) == [Role.MEMBER, Role.HOST]
    assert grantable_roles(Role.HOST) == grantable_roles(Role.MEMBER) == []
    assert grantable_roles(Role.GUEST) == grantable_roles(None) == []
