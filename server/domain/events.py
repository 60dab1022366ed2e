"""The bodies of the events stored in streams.

An event is immutable once appended. Its body is one of these tagged Structs;
the envelope (stream, seq, ts, actor) is added by the store. Streams are named
``community:<id>`` and ``room:<id>``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
MAX_TEXT_CHARS = 4000


class EventBody(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Base of every event body."""


class CommunityCreated(EventBody, tag="community_created"):
    community: Id
    name: DisplayName
    domain: str
    """What the community is about."""
    purpose: str
    """Why it meets."""
    description: str = ""


class RoomCreated(EventBody, tag="room_created"):
    room: Id
    name: DisplayName
    topic: str = ""


class MemberJoined(EventBody, tag="member_joined"):
    member: str
    name: DisplayName


class MemberLeft(EventBody, tag="member_left"):
    member: str
    reason: Literal["left", "disconnected"] = "left"


class MessagePosted(EventBody, tag="message_posted"):
    """A chat message. Its id is the seq of this event in the room's stream."""

    author: str
    author_name: DisplayName
    text: MessageText


class MessageEdited(EventBody, tag="message_edited"):
    message: int
    """The seq of the ``message_posted`` event being edited."""
    text: MessageText


class MessageDeleted(EventBody, tag="message_deleted"):
    message: int
    """The seq of the ``message_posted`` event being deleted."""


AnyEventBody = (
    CommunityCreated
    | RoomCreated
    | MemberJoined
    | MemberLeft
    | MessagePosted
    | MessageEdited
    | MessageDeleted
)


def subject_of(body: EventBody) -> int | None:
    """The seq of the earlier event this one changes, if any (indexed by the store)."""
    if isinstance(body, MessageEdited | MessageDeleted):
        return body.message
    return None


def type_of(body: EventBody) -> str:
    """The wire tag of an event body."""
    tag = type(body).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def room_stream(room: str) -> str:
    return f"room:{room}"


def community_stream(community: str) -> str:
    return f"community:{community}"


def stream_kind(stream: str) -> tuple[str, str]:
    """Split ``kind:id``; raises ValueError for anything else."""
    kind, sep, ident = stream.partition(":")
    if not sep or kind not in ("room", "community") or not ident:
        raise ValueError(f"not a stream name: {stream!r}")
    return kind, ident


class Event(msgspec.Struct, tag="event", tag_field="type", kw_only=True):
    """A stored event as every reader sees it: the envelope plus its body.

    ``body`` is None when the body was erased for privacy; the event (a
    tombstone) and its place in the hash chain stay.
    """

    stream: str
    seq: int
    ts: int
    """Milliseconds since the Unix epoch, when the event was appended."""
    actor: str | None
    """The member whose command caused the event, or None for the server."""
    body: AnyEventBody | None
