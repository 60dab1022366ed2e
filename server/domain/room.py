"""A room's live state as a fold over its stream, and the decisions its commands make.

``apply`` folds one event into a :class:`RoomState`; ``decide_*`` turn a
command into the events to append, or raise a :class:`CommandError` and
append nothing. Both are pure: no I/O, no clock (the caller passes ``ts``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from ..errors import Conflict, ErrorCode, Forbidden, InvalidCommand, NotFound
from .events import (
    MAX_TEXT_CHARS,
    Arrival,
    Departure,
    Event,
    EventBody,
    MemberJoined,
    MemberLeft,
    MembersChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    RoomCreated,
)

RECENT_MESSAGES = 50
"""How many recent messages a room keeps in memory for snapshots; older ones are paged."""


class Member(msgspec.Struct, kw_only=True):
    id: str
    name: str


class Message(msgspec.Struct, kw_only=True):
    """A chat message as it reads now (after its edits and deletion)."""

    id: int
    """The seq of its ``message_posted`` event: the link back to where it was said."""
    author: str
    author_name: str
    text: str
    ts: int
    edited_ts: int | None = None
    deleted: bool = False


class RoomSnapshot(msgspec.Struct, tag="room", tag_field="kind", kw_only=True):
    """What a late joiner needs to draw a room: who is here and the latest messages."""

    room: str
    name: str
    topic: str
    present: list[Member]
    messages: list[Message]
    """The latest messages, oldest first; page older ones with ``history``."""
    message_count: int


class RoomState:
    """Mutable fold state of one room's stream (owned by one task at a time)."""

    __slots__ = ("_sorted_present", "message_count", "name", "present", "recent", "room", "seq",
                 "topic")

    def __init__(self, room: str) -> None:
        self.room = room
        self.name = room
        self.topic = ""
        self.seq = 0
        self.present: dict[str, Member] = {}
        self.recent: OrderedDict[int, Message] = OrderedDict()
        self.message_count = 0
        self._sorted_present: tuple[int, int, list[Member]] | None = None
        """``present`` by name, kept for the seq it was sorted at: when a crowd joins, each
        joiner of one tick gets the same list (sorting it per joiner was O(n log n) each)."""

    @classmethod
    def from_snapshot(cls, snapshot: RoomSnapshot, seq: int) -> RoomState:
        """Rebuild the state a snapshot was taken from (what a client starts its fold with)."""
        state = cls(snapshot.room)
        state.name, state.topic, state.seq = snapshot.name, snapshot.topic, seq
        state.present = {m.id: msgspec.structs.replace(m) for m in snapshot.present}
        state.recent = OrderedDict((m.id, msgspec.structs.replace(m)) for m in snapshot.messages)
        state.message_count = snapshot.message_count
        return state

    def present_by_name(self) -> list[Member]:
        cached = self._sorted_present
        if cached is None or cached[0] != self.seq or cached[1] != len(self.present):
            ordered = sorted(self.present.values(), key=lambda m: m.name.casefold())
            cached = self._sorted_present = (self.seq, len(self.present), ordered)
        return list(cached[2])

    def snapshot(self) -> RoomSnapshot:
        return RoomSnapshot(
            room=self.room,
            name=self.name,
            topic=self.topic,
            present=self.present_by_name(),
            messages=[msgspec.structs.replace(m) for m in self.recent.values()],
            message_count=self.message_count,
        )


def apply(state: RoomState, event: Event) -> RoomState:
    """Fold one event into ``state`` (in place) and return it."""
    state.seq = event.seq
    body = event.body
    if body is None:  # erased: the tombstone changes nothing we can still show
        return state
    if isinstance(body, MessagePosted):
        state.message_count += 1
        state.recent[event.seq] = Message(
            id=event.seq, author=body.author, author_name=body.author_name,
            text=body.text, ts=event.ts,
        )
        while len(state.recent) > RECENT_MESSAGES:
            state.recent.popitem(last=False)
    elif isinstance(body, MessageEdited | MessageDeleted):
        target = state.recent.get(body.message)
        if target is not None:
            apply_to_message(target, event)
    elif isinstance(body, MemberJoined):
        state.present[body.member] = Member(id=body.member, name=body.name)
    elif isinstance(body, MemberLeft):
        state.present.pop(body.member, None)
    elif isinstance(body, MembersChanged):
        for gone in body.left:
            state.present.pop(gone.member, None)
        for came in body.joined:
            state.present[came.member] = Member(id=came.member, name=came.name)
    elif isinstance(body, RoomCreated):
        state.name, state.topic = body.name, body.topic
    return state


def apply_to_message(message: Message, event: Event) -> Message:
    """Fold an edit or deletion into one message (in place); later events win."""
    body = event.body
    if message.deleted:
        return message
    if isinstance(body, MessageEdited):
        message.text = body.text
        message.edited_ts = event.ts
    elif isinstance(body, MessageDeleted):
        message.deleted = True
        message.text = ""
    return message


def message_from(event: Event) -> Message | None:
    """The message a ``message_posted`` event created, or None for any other event."""
    body = event.body
    if not isinstance(body, MessagePosted):
        return None
    return Message(
        id=event.seq, author=body.author, author_name=body.author_name,
        text=body.text, ts=event.ts,
    )


def clean_text(text: str) -> str:
    """Trim a message; refuse empty or over-long text."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidCommand("message text is empty")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise InvalidCommand(f"message text is longer than {MAX_TEXT_CHARS} characters")
    return cleaned


def require_present(state: RoomState, member: str) -> None:
    if member not in state.present:
        raise Conflict(f"join room {state.room!r} first", code=ErrorCode.NOT_JOINED)


def decide_join(state: RoomState, member: Member) -> list[EventBody]:
    if member.id in state.present and state.present[member.id].name == member.name:
        return []
    return [MemberJoined(member=member.id, name=member.name)]


def decide_leave(state: RoomState, member: str, *, disconnected: bool = False) -> list[EventBody]:
    if member not in state.present:
        return []
    return [MemberLeft(member=member, reason="disconnected" if disconnected else "left")]


SINGLE_EVENTS_UP_TO = 4
"""Presence changes per tick still appended as single events (see decide_presence)."""

PresenceChange = Member | Literal["left", "disconnected"]
"""What a member's presence in a room should become: present under this name, or gone."""


def decide_presence(state: RoomState, changes: dict[str, PresenceChange]) -> list[EventBody]:
    """The events for the presence changes of one tick (the last change per member wins).

    Changes that change nothing are dropped. Up to :data:`SINGLE_EVENTS_UP_TO` changes
    stay the single events (``member_joined``/``member_left``) every client already
    reads; more become one ``members_changed``, so a member gets at most that many
    presence frames per tick however many people come and go.
    """
    joined: list[Arrival] = []
    left: list[Departure] = []
    for member_id, change in changes.items():
        if isinstance(change, Member):
            joined += [Arrival(member=m.member, name=m.name)
                       for m in decide_join(state, change) if isinstance(m, MemberJoined)]
        else:
            left += [Departure(member=m.member, reason=m.reason) for m in
                     decide_leave(state, member_id, disconnected=change == "disconnected")
                     if isinstance(m, MemberLeft)]
    if len(joined) + len(left) > SINGLE_EVENTS_UP_TO:
        return [MembersChanged(joined=joined, left=left)]
    return [*(MemberLeft(member=d.member, reason=d.reason) for d in left),
            *(MemberJoined(member=a.member, name=a.name) for a in joined)]


def decide_post(state: RoomState, member: Member, text: str) -> list[EventBody]:
    require_present(state, member.id)
    return [MessagePosted(author=member.id, author_name=member.name, text=clean_text(text))]


def decide_change(
    state: RoomState, member: str, target: Message | None, new_text: str | None, *,
    moderator: bool = False,
) -> list[EventBody]:
    """Edit (``new_text``) or delete (None) ``target``, which must be the member's own,
    unless a ``moderator`` (authorized by the caller) deletes it."""
    require_present(state, member)
    if target is None or target.deleted:
        raise NotFound("no such message")
    if target.author != member and not (moderator and new_text is None):
        raise Forbidden("only the author may change a message")
    if new_text is None:
        return [MessageDeleted(message=target.id)]
    text = clean_text(new_text)
    if text == target.text:
        return []
    return [MessageEdited(message=target.id, text=text)]


# --- what a client folds, in a form to compare ------------------------------------------


def fold(snapshot: RoomSnapshot, seq: int, events: Iterable[Event]) -> RoomState:
    """A client's fold: the state at ``seq`` (from ``snapshot``) and the events after it.
    An event at or below the state's seq (a duplicate, or from before the snapshot)
    changes nothing. The browser's ``web/folds/room.js`` folds the same way."""
    state = RoomState.from_snapshot(snapshot, seq)
    for event in events:
        if event.seq > state.seq:
            apply(state, event)
    return state


def normal_form(state: RoomState) -> dict[str, Any]:
    """The state as plain, ordered data (people and messages by id), equal to what the
    browser's ``normalForm`` gives for the same fold."""
    return {
        "room": state.room, "name": state.name, "topic": state.topic, "seq": state.seq,
        "present": [{"id": m.id, "name": m.name}
                    for m in sorted(state.present.values(), key=lambda m: m.id)],
        "messages": [msgspec.to_builtins(m) for m in sorted(state.recent.values(),
                                                             key=lambda m: m.id)],
        "message_count": state.message_count,
    }
