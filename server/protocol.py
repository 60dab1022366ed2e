"""The websocket wire contract: every frame is one of these tagged Structs, as JSON text.

Client → server frames are :data:`ClientMessage`; server → client frames are
:data:`ServerMessage`. ``schemas/`` is generated from these types
(``practica schemas``); a test fails when the committed files drift.
Decoders and the encoder are built once, at import.

Time: ``hello.server_time_ms`` is the server's clock when it said hello. A
client keeps ``offset = server_time_ms - its own clock at receipt`` and reads
server deadlines (countdowns) against ``its clock + offset``; the offset is
taken again on every (re)connect.

Ephemeral frames: ``relay`` carries a short-lived frame (typing now; WebRTC
signalling and off-the-record talk later) to the members present in a room,
in every server process, as ``relayed``. It is authorized and rate limited
like a command, but never stored, never replayed on resume, and has no seq.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .domain.community import CommunitySnapshot
from .domain.events import Event, Id
from .domain.names import normalize_name_fields
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
    """Base of every client frame. Names in it are normalized and validated as it is
    decoded (:mod:`server.domain.names`)."""

    def __post_init__(self) -> None:
        normalize_name_fields(self)


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


RelayKind = Literal["typing"]
"""What a relayed frame means; each kind is its own permission (``relay_<kind>``).
``typing``: the sender is typing in the room (clients show it for a few seconds);
no ``data``."""


class Relay(ClientFrame, tag="relay"):
    """Send an ephemeral frame to the members present in a room you have joined.

    They receive it as ``relayed`` on their open sockets, in whatever process holds
    them; it is never stored and never replayed. Relays have their own rate limit
    (``limits.relays_per_minute``, ``limits.relay_burst``), apart from commands."""

    stream: StreamName
    """The room's stream, ``room:<id>``."""
    kind: RelayKind
    ref: Ref | None = None
    """With a ref, the sender gets an ``ack`` (without seq) or an ``error``; without one,
    only errors (with ``ref`` null)."""
    to: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=50)] | None = None
    """Only these members (those of them present); everyone present but you when absent."""
    data: Annotated[dict[str, Any], msgspec.Meta(max_length=32)] = msgspec.field(
        default_factory=dict)
    """Kind-specific; at most ``limits.max_relay_bytes`` as JSON."""


ClientMessage = (Identify | Resume | Heartbeat | Join | Leave | Post | Edit | Delete | History
                 | Relay)
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
    relays_per_minute: int
    relay_burst: int
    """Relay frames beyond this bucket get ``rate_limited``."""
    max_relay_bytes: int
    """The largest ``relay.data``, as JSON."""


class ServerFrame(msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=True):
    """Base of every server frame."""


class Hello(ServerFrame, tag="hello"):
    protocol: int
    server: str
    heartbeat_interval_ms: int
    limits: Limits
    server_time_ms: int
    """The server's clock (ms since the Unix epoch) as it sent this frame. Clients keep
    ``server_time_ms - their clock at receipt`` as their offset for server deadlines."""


class Session(msgspec.Struct, kw_only=True, omit_defaults=True):
    member: Member
    community: str
    role: Literal["guest", "member", "host", "convener", "owner"]
    """Your role in ``community`` now; it is checked again on every command."""
    guest_room: str | None = None
    """For a guest: the one room their link admits them to."""


class Sync(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a stream catches up: a snapshot (state at ``seq``) or a replay of missed events."""

    stream: str
    mode: Literal["snapshot", "replay"]
    seq: int
    """The last seq this sync covers; live events continue from ``seq + 1``."""
    snapshot: RoomSnapshot | CommunitySnapshot | None = None
    events: list[Event] = msgspec.field(default_factory=list)
    reason: str | None = None
    """Why a resume got a snapshot instead of a replay (unknown stream, too old)."""


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


class HeartbeatAck(ServerFrame, tag="heartbeat_ack"):
    pass


class HistoryPage(ServerFrame, tag="history"):
    ref: str
    room: str
    messages: list[Message]
    """Oldest first; each reads as it is now (edited or deleted)."""
    has_more: bool


class Relayed(ServerFrame, tag="relayed"):
    """An ephemeral frame from a member present in a room you are in (see ``relay``)."""

    stream: str
    sender: Member = msgspec.field(name="from")
    kind: RelayKind
    data: dict[str, Any] = msgspec.field(default_factory=dict)


ServerMessage = Hello | Ready | Event | Ack | Error | HeartbeatAck | HistoryPage | Relayed

# --- codec -----------------------------------------------------------------------

_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()
_loose = msgspec.json.Decoder()
_TYPES = {cls.__struct_config__.tag for cls in ClientMessage.__args__}


def decode(frame: str | bytes) -> ClientFrame:
    """Decode a client frame, raising :class:`InvalidCommand` with the precise code."""
    try:
        return _decoder.decode(frame)
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
