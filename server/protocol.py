"""The websocket wire contract: every frame is one of these tagged Structs, as JSON text.

Client → server frames are :data:`ClientMessage`; server → client frames are
:data:`ServerMessage`. ``schemas/`` is generated from these types
(``practica schemas``); a test fails when the committed files drift.
Decoders and the encoder are built once, at import.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .domain.community import CommunitySnapshot
from .domain.events import Event, Id
from .domain.room import Member, Message, RoomSnapshot
from .errors import ErrorCode, InvalidCommand

PROTOCOL_VERSION = 1

Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""A client-chosen id that makes a command idempotent: the same ref from the
same member is applied once and answered again with the same result."""
StreamName = Annotated[str, msgspec.Meta(min_length=3, max_length=80)]
Seq = Annotated[int, msgspec.Meta(ge=0)]


# --- client → server -------------------------------------------------------------


class ClientFrame(
    msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every client frame."""


class Identify(ClientFrame, tag="identify"):
    """Enter a community as the person the upgrade's session cookie names.

    The websocket upgrade itself needs a valid ``practica_session`` cookie (from
    ``POST /api/signin``, ``/api/signup`` or ``/api/guest``); without one it is
    refused with HTTP 403 before any frame."""

    community: Id | None = None
    """Which community to follow; the server's default community when absent. A guest
    always enters the community of their guest link."""


class Resume(ClientFrame, tag="resume"):
    """Reconnect: the last seq seen on each stream; the server replays what was missed."""

    streams: dict[StreamName, Seq]
    community: Id | None = None
    """As in ``identify``; when absent, the ``community:`` stream in ``streams`` says."""


class Heartbeat(ClientFrame, tag="heartbeat"):
    """Send every ``hello.heartbeat_interval_ms``; the server answers ``heartbeat_ack``."""


class Join(ClientFrame, tag="join"):
    """Enter a room: you appear present and receive its events."""

    ref: Ref
    room: Id


class Leave(ClientFrame, tag="leave"):
    ref: Ref
    room: Id


class Post(ClientFrame, tag="post"):
    ref: Ref
    room: Id
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Edit(ClientFrame, tag="edit"):
    """Replace the text of your own message (``message`` is its id, the seq it was posted at)."""

    ref: Ref
    room: Id
    message: Seq
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Delete(ClientFrame, tag="delete"):
    ref: Ref
    room: Id
    message: Seq


class History(ClientFrame, tag="history"):
    """Page back through a room's messages, newest first from ``before`` (exclusive)."""

    ref: Ref
    room: Id
    before: Seq | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50


ClientMessage = Identify | Resume | Heartbeat | Join | Leave | Post | Edit | Delete | History
COMMANDS_WITH_REF = (Join, Leave, Post, Edit, Delete, History)


# --- server → client -------------------------------------------------------------


class Limits(msgspec.Struct, kw_only=True):
    heartbeat_timeout_ms: int
    """Send at least one frame this often (heartbeats do), or the socket closes with 4004."""
    max_frame_bytes: int
    """Larger client frames close the socket with 1009."""
    commands_per_minute: int
    command_burst: int
    """Commands beyond the bucket get ``rate_limited``; persisting closes with 4006."""
    send_queue_frames: int
    """A client that falls this many frames behind is closed with 4005."""
    identify_timeout_ms: int
    max_resume_streams: int
    max_replay_events: int
    """A resume missing more events than this gets a snapshot instead."""


class ServerFrame(msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=True):
    """Base of every server frame."""


class Hello(ServerFrame, tag="hello"):
    protocol: int
    server: str
    heartbeat_interval_ms: int
    limits: Limits


class Session(msgspec.Struct, kw_only=True, omit_defaults=True):
    member: Member
    community: str
    role: Literal["guest", "member", "host", "convener", "owner"]
    """Your role in ``community`` now; it is checked again on every command."""
    guest_room: str | None = None
    """For a guest: the one room their link admits them to."""


class Sync(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a stream catches up: a snapshot (state at ``seq``), a replay of missed events,
    or a refusal.

    ``refused``: the stream is not sent on this socket and nothing of it follows;
    ``error`` says why: ``not_found`` (the name is no stream, or its community or room
    does not exist) or ``forbidden`` (you may not read it; ``reason`` says why). A
    refused stream never carries a snapshot or events. Kinds without a snapshot (the
    audit log) are always replayed: without a last seq, from the stream's head."""

    stream: str
    mode: Literal["snapshot", "replay", "refused"]
    seq: int
    """The last seq this sync covers; live events continue from ``seq + 1`` (0 when
    refused)."""
    snapshot: RoomSnapshot | CommunitySnapshot | None = None
    events: list[Event] = msgspec.field(default_factory=list)
    error: ErrorCode | None = None
    """Only when ``mode`` is ``refused``: ``not_found`` or ``forbidden``."""
    reason: str | None = None
    """Why a resume got a snapshot instead of a replay (too old, ahead of the stream), or
    why the stream was refused."""


class Ready(ServerFrame, tag="ready"):
    session: Session
    syncs: list[Sync]


class Ack(ServerFrame, tag="ack"):
    """A command was applied (or was a repeat of an applied ref)."""

    ref: str
    stream: str | None = None
    seq: int | None = None
    """The seq of the last event the command appended; None when nothing needed to change."""
    sync: Sync | None = None
    """For ``join``: the room's snapshot; live events follow from ``sync.seq + 1``."""


class Error(ServerFrame, tag="error"):
    ref: str | None
    code: ErrorCode
    message: str
    retry_after_ms: int | None = None


class Unsubscribed(ServerFrame, tag="unsubscribed"):
    """You may no longer read ``stream`` on this socket: no more of its events follow.

    Sent when your role in the stream's community changed, or you were removed from
    it, while this socket followed the stream (whichever community the socket entered);
    ``code`` is ``forbidden`` (``message`` says why) or ``not_found``. To read it again
    once allowed, ``join`` the room or reconnect."""

    stream: str
    code: ErrorCode
    message: str


class HeartbeatAck(ServerFrame, tag="heartbeat_ack"):
    pass


class HistoryPage(ServerFrame, tag="history"):
    ref: str
    room: str
    messages: list[Message]
    """Oldest first; each reads as it is now (edited or deleted)."""
    has_more: bool


ServerMessage = (Hello | Ready | Event | Ack | Error | HeartbeatAck | HistoryPage
                 | Unsubscribed)

# --- codec -----------------------------------------------------------------------

_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()
_loose = msgspec.json.Decoder()
_TYPES = {cls.__struct_config__.tag for cls in ClientMessage.__args__}


def decode(frame: str | bytes) -> ClientFrame:
    """Decode a client frame, raising :class:`InvalidCommand` with the precise code."""
    try:
        command: ClientFrame = _decoder.decode(frame)  # typed whichever msgspec types it
        return command
    except msgspec.ValidationError as exc:
        raise _classify(frame, exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidCommand(f"not valid JSON: {exc}", code=ErrorCode.BAD_FRAME) from None


def _classify(frame: str | bytes, exc: msgspec.ValidationError) -> InvalidCommand:
    """Tell an unknown type from a bad field, and not-an-object from both."""
    raw: Any = _loose.decode(frame)
    if not isinstance(raw, dict):
        return InvalidCommand("a frame must be a JSON object", code=ErrorCode.BAD_FRAME)
    if raw.get("type") not in _TYPES:
        return InvalidCommand(
            f"unknown type {raw.get('type')!r}; expected one of {sorted(_TYPES)}",
            code=ErrorCode.UNKNOWN_TYPE,
        )
    return InvalidCommand(str(exc), code=ErrorCode.INVALID)


def ref_of(frame: str | bytes) -> str | None:
    """Best effort: the ``ref`` of a frame that failed to decode, to answer it by ref."""
    try:
        raw: Any = _loose.decode(frame)
    except msgspec.DecodeError:
        return None
    ref = raw.get("ref") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= 64 else None


def encode(message: ServerFrame | Event) -> str:
    """Encode once; the same text goes to every subscriber."""
    return _encoder.encode(message).decode()
