"""The room fold and its decisions, without sockets or files."""

from __future__ import annotations

import pytest

from server.domain import room as fold
from server.domain.events import (
    Arrival,
    Departure,
    Event,
    MemberJoined,
    MemberLeft,
    MembersChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    RoomCreated,
)
from server.domain.room import Member, RoomState
from server.errors import Conflict, ErrorCode, Forbidden, InvalidCommand, NotFound

ANN = Member(id="m-ann", name="Ann")
BOB = Member(id="m-bob", name="Bob")


def replay(*bodies, start: int = 1) -> RoomState:
    state = RoomState("r")
    for seq, body in enumerate(bodies, start):
        fold.apply(state, Event(stream="room:r", seq=seq, ts=1000 + seq, actor=None, body=body))
    return state


def test_fold_tracks_name_presence_and_messages():
    state = replay(
        RoomCreated(room="r", name="Case review", topic="weekly"),
        MemberJoined(member="m-ann", name="Ann"),
        MemberJoined(member="m-bob", name="Bob"),
        MessagePosted(author="m-ann", author_name="Ann", text="hello"),
        MemberLeft(member="m-bob"),
        MessageEdited(message=4, text="hello all"),
    )
    snap = state.snapshot()
    assert (snap.name, snap.topic, state.seq) == ("Case review", "weekly", 6)
    assert [m.name for m in snap.present] == ["Ann"]
    assert [(m.id, m.text, m.edited_ts) for m in snap.messages] == [(4, "hello all", 1006)]
    assert snap.message_count == 1


def test_deleted_message_stays_deleted_even_if_an_edit_follows():
    state = replay(
        MessagePosted(author="m-ann", author_name="Ann", text="oops"),
        MessageDeleted(message=1),
        MessageEdited(message=1, text="resurrected"),
    )
    (message,) = state.snapshot().messages
    assert message.deleted and message.text == ""


def test_erased_body_is_a_tombstone_that_changes_nothing():
    state = replay(MemberJoined(member="m-ann", name="Ann"), None)
    assert state.seq == 2 and list(state.present) == ["m-ann"]


def test_snapshot_keeps_only_recent_messages_but_counts_all():
    posts = [MessagePosted(author="m-ann", author_name="Ann", text=f"m{i}") for i in range(120)]
    snap = replay(*posts).snapshot()
    assert len(snap.messages) == fold.RECENT_MESSAGES
    assert snap.messages[-1].text == "m119" and snap.message_count == 120


def test_snapshot_is_a_copy():
    state = replay(MessagePosted(author="m-ann", author_name="Ann", text="a"))
    snap = state.snapshot()
    snap.messages[0].text = "mutated"
    assert state.recent[1].text == "a"


def test_snapshots_list_who_is_present_by_name_as_of_their_seq():
    """The sorted list is kept between snapshots of one seq (a crowd joining in one tick)
    and made again once presence changes."""
    state = replay(MemberJoined(member="m-bob", name="bob"),
                   MemberJoined(member="m-ann", name="Ann"))
    first = state.snapshot().present
    assert [m.id for m in first] == ["m-ann", "m-bob"]
    first.pop()  # one snapshot's list is its own
    assert [m.id for m in state.snapshot().present] == ["m-ann", "m-bob"]
    fold.apply(state, Event(stream="room:r", seq=3, ts=1003, actor=None,
                            body=MembersChanged(joined=[Arrival(member="m-al", name="al")],
                                                left=[Departure(member="m-bob")])))
    assert [m.id for m in state.snapshot().present] == ["m-al", "m-ann"]


def test_join_is_idempotent_and_leave_only_when_present():
    state = replay(MemberJoined(member="m-ann", name="Ann"))
    assert fold.decide_join(state, ANN) == []
    assert fold.decide_join(state, BOB) == [MemberJoined(member="m-bob", name="Bob")]
    assert fold.decide_leave(state, "m-bob") == []
    assert fold.decide_leave(state, "m-ann", disconnected=True) == [
        MemberLeft(member="m-ann", reason="disconnected")]


def test_post_requires_presence_and_real_text():
    state = replay(MemberJoined(member="m-ann", name="Ann"))
    assert fold.decide_post(state, ANN, "  hi  ") == [
        MessagePosted(author="m-ann", author_name="Ann", text="hi")]
    with pytest.raises(Conflict) as refused:
        fold.decide_post(state, BOB, "hi")
    assert refused.value.code == ErrorCode.NOT_JOINED
    with pytest.raises(InvalidCommand):
        fold.decide_post(state, ANN, "   \n ")
    with pytest.raises(InvalidCommand):
        fold.decide_post(state, ANN, "x" * 4001)


def test_only_the_author_may_edit_or_delete():
    state = replay(MemberJoined(member="m-ann", name="Ann"),
                   MemberJoined(member="m-bob", name="Bob"))
    message = fold.Message(id=9, author="m-ann", author_name="Ann", text="mine", ts=1)
    with pytest.raises(Forbidden):
        fold.decide_change(state, "m-bob", message, "theirs")
    with pytest.raises(Forbidden):
        fold.decide_change(state, "m-bob", message, None)
    with pytest.raises(NotFound):
        fold.decide_change(state, "m-ann", None, "x")
    assert fold.decide_change(state, "m-ann", message, "mine") == []  # nothing changes
    assert fold.decide_change(state, "m-ann", message, "edited") == [
        MessageEdited(message=9, text="edited")]
    assert fold.decide_change(state, "m-ann", message, None) == [MessageDeleted(message=9)]
    message.deleted = True
    with pytest.raises(NotFound):
        fold.decide_change(state, "m-ann", message, "too late")


def test_members_changed_folds_like_the_single_events_it_stands_for():
    singles = replay(
        MemberJoined(member="m-ann", name="Ann"), MemberJoined(member="m-cy", name="Cy"),
        MemberJoined(member="m-bob", name="Bob"), MemberLeft(member="m-ann"),
        MemberLeft(member="m-cy", reason="disconnected"), MemberJoined(member="m-dee", name="Dee"))
    batched = replay(
        MemberJoined(member="m-ann", name="Ann"), MemberJoined(member="m-cy", name="Cy"),
        MembersChanged(joined=[Arrival(member="m-bob", name="Bob"),
                               Arrival(member="m-dee", name="Dee")],
                       left=[Departure(member="m-ann"),
                             Departure(member="m-cy", reason="disconnected")]))
    assert batched.snapshot().present == singles.snapshot().present
    assert [m.name for m in batched.snapshot().present] == ["Bob", "Dee"]


def test_members_changed_can_rename_and_ignores_leaves_of_the_absent():
    state = replay(MemberJoined(member="m-ann", name="Ann"),
                   MembersChanged(joined=[Arrival(member="m-ann", name="Ann B.")],
                                  left=[Departure(member="m-ghost")]))
    assert [(m.id, m.name) for m in state.snapshot().present] == [("m-ann", "Ann B.")]


def test_a_few_presence_changes_per_tick_stay_the_old_single_events():
    state = replay(MemberJoined(member="m-ann", name="Ann"))
    assert fold.decide_presence(state, {"m-bob": BOB}) == [
        MemberJoined(member="m-bob", name="Bob")]
    assert fold.decide_presence(state, {"m-ann": "disconnected", "m-bob": BOB}) == [
        MemberLeft(member="m-ann", reason="disconnected"),
        MemberJoined(member="m-bob", name="Bob")]


def test_many_presence_changes_per_tick_are_one_event_without_the_no_ops():
    state = replay(MemberJoined(member="m-ann", name="Ann"),
                   MemberJoined(member="m-cy", name="Cy"))
    newcomers = [Member(id=f"m-{n}", name=f"N{n}") for n in range(fold.SINGLE_EVENTS_UP_TO)]
    decided = fold.decide_presence(state, {
        "m-ann": ANN,  # already here under that name: nothing
        **{m.id: m for m in newcomers},
        "m-cy": "left", "m-ghost": "disconnected",  # not here: nothing
    })
    assert decided == [MembersChanged(
        joined=[Arrival(member=m.id, name=m.name) for m in newcomers],
        left=[Departure(member="m-cy", reason="left")])]
    assert fold.decide_presence(state, {"m-ann": ANN, "m-ghost": "left"}) == []


def test_members_changed_names_are_checked_like_member_joined():
    with pytest.raises(ValueError):
        Arrival(member="m-1", name=" \u200b ")
