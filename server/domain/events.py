"""The bodies of the events stored in streams.

An event is immutable once appended. Its body is one of these tagged Structs;
the envelope (stream, seq, ts, actor) is added by the store. Streams are named
``community:<id>`` (the community, its rooms and its members), ``room:<id>`` and
``audit:<community>`` (who did what to whom, and every refusal).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .artefact_events import ArtefactEventBody
from .event_base import EventBody as EventBody
from .event_base import Id as Id
from .names import DisplayName, normalize_name_fields
from .series_events import SeriesEventBody
from .session_events import SessionEventBody, TemplateSaved
from .session_pair_events import PairEventBody

MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
MAX_TEXT_CHARS = 4000
RoleName = Literal["member", "host", "convener", "owner"]
JoinPolicy = Literal["open", "approval", "invite"]
"""open: any signed-in person may join; approval: a convener approves each request;
invite: only through an invite link."""
Markdown = Annotated[str, msgspec.Meta(max_length=4000)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class CommunityCreated(EventBody, tag="community_created"):
    community: Id
    name: DisplayName
    domain: str
    """What the community is about."""
    purpose: str
    """Why it meets."""
    description: str = ""
    """A short description of its practice (markdown)."""
    owner: str | None = None
    """The account that created it (None for communities made before accounts)."""
    owner_name: str = ""
    join_policy: JoinPolicy = "approval"


class CommunityEdited(EventBody, tag="community_edited"):
    name: DisplayName
    domain: ShortText
    purpose: ShortText
    description: Markdown
    join_policy: JoinPolicy


class MemberAdmitted(EventBody, tag="member_admitted"):
    member: str
    name: DisplayName
    role: RoleName
    via: Literal["founded", "invite", "approval", "open", "seed", "operator"]
    """How they came in; ``operator``: made owner with ``practica make-owner``."""


class RoleChanged(EventBody, tag="role_changed"):
    member: str
    role: RoleName


class MemberRemoved(EventBody, tag="member_removed"):
    """The member is no longer in the community. ``removed`` is a ban: they may not come
    back (open join, invite, request) until a convener lifts it (``removal_lifted``)."""

    member: str
    reason: str = ""
    how: Literal["removed", "left", "account_deleted"] = "removed"


class RemovalLifted(EventBody, tag="removal_lifted"):
    """A convener lifted a removal: the person may join again (a timeout still runs)."""

    member: str


class MemberTimedOut(EventBody, tag="member_timed_out"):
    """Posting is refused until ``until``, whatever the person does meanwhile: leaving,
    being removed and coming back keep it. ``member`` may be a guest (``g-<session>``)."""

    member: str
    until: int
    """Milliseconds since the Unix epoch; posting is refused until then."""
    reason: str = ""


class MemberRenamed(EventBody, tag="member_renamed"):
    member: str
    name: DisplayName


class AuditRecorded(EventBody, tag="audit_recorded"):
    """One entry of a community's audit log (stream ``audit:<community>``)."""

    action: str
    outcome: Literal["done", "refused"]
    target: str | None = None
    """Whom or what the action was about (a member id, a room, an invite)."""
    detail: str = ""


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


class Arrival(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One member who came into a room (in ``members_changed``)."""

    member: str
    name: DisplayName

    def __post_init__(self) -> None:
        normalize_name_fields(self)


class Departure(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One member who went from a room (in ``members_changed``)."""

    member: str
    reason: Literal["left", "disconnected"] = "left"


class MembersChanged(EventBody, tag="members_changed"):
    """Several presence changes in a room, coalesced into one event per tick, so that
    many people joining at once cost one frame per tick to each member, not one per
    joiner. Folds like the ``member_joined``/``member_left`` events it stands for
    (a member appears in at most one of the two lists)."""

    joined: list[Arrival] = msgspec.field(default_factory=list)
    left: list[Departure] = msgspec.field(default_factory=list)


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


class UnreadableEvent(EventBody, tag="unreadable"):
    """What a stored body today's server cannot read stands in for, so that reading
    the immutable history never fails (the store keeps the body as written). Folds
    skip it; it is never appended."""

    original_type: str
    problem: str


AnyEventBody = (
    CommunityCreated
    | CommunityEdited
    | MemberAdmitted
    | RoleChanged
    | MemberRemoved
    | RemovalLifted
    | MemberTimedOut
    | MemberRenamed
    | AuditRecorded
    | RoomCreated
    | MemberJoined
    | MemberLeft
    | MembersChanged
    | MessagePosted
    | MessageEdited
    | MessageDeleted
    | TemplateSaved
    | SessionEventBody
    | PairEventBody
    | SeriesEventBody
    | ArtefactEventBody
    | UnreadableEvent
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


def audit_stream(community: str) -> str:
    return f"audit:{community}"


def session_stream(session: str) -> str:
    return f"session:{session}"


def series_stream(series: str) -> str:
    return f"series:{series}"
def artefact_stream(artefact: str) -> str:
    return f"artefact:{artefact}"


def stream_kind(stream: str) -> tuple[str, str]:
    """Split ``kind:id``; raises ValueError for anything else."""
    kind, sep, ident = stream.partition(":")
    if not sep or kind not in ("room", "community", "audit", "session", "series",
                                "artefact") or not ident:
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
