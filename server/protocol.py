"""The websocket wire contract: every frame is one of these tagged Structs, as JSON text.

Client → server frames are :data:`ClientMessage`; server → client frames are
:data:`ServerMessage`. ``schemas/`` is generated from these types
(``practica schemas``); a test fails when the committed files drift.
Decoding and encoding (built once, at import) are in :mod:`server.frames`.

Frames: text frames of UTF-8 JSON (a text frame that is not UTF-8 closes with
1007). Binary frames are accepted and read exactly like text frames. Every
malformed frame (not JSON, not an object, unknown ``type``, bad field) is
answered with an ``error`` and counts toward ``limits.max_invalid_frames``.

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

from .domain.artefact import ArtefactSnapshot
from .domain.community import CommunitySnapshot
from .domain.events import Event, Id
from .domain.names import normalize_name_fields
from .domain.policy import Action, Actor, grantable_roles, session_actions
from .domain.room import Member, Message, RoomSnapshot
from .domain.session import SessionSnapshot
from .errors import ErrorCode
from .session_protocol import AnySessionOp

PROTOCOL_VERSION = 1

Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""A client-chosen id that makes a command idempotent: the same ref from the
same member is applied once and answered again with the same result."""
StreamName = Annotated[str, msgspec.Meta(min_length=3, max_length=80)]
MAX_SEQ = 2**53 - 1
"""The largest seq a client may send: JavaScript's largest safe integer (no stream gets
near it), well inside the 64-bit integers SQLite and PostgreSQL store."""
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]


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
    """Reconnect: the last seq seen on each stream; the server replays what was missed.

    ``ready`` has one ``sync`` per stream asked for (and the community's): a replay
    of the missed events when possible, else a snapshot and a ``reason`` (too far
    behind, or ahead of the stream). A stream that does not exist or that you may
    not read is answered with a ``reason``, ``seq`` 0 and no data, and is not
    followed. Resuming a room's stream enters the room (you appear present), as
    ``join`` does, whether or not you had joined it on this connection."""

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


class Follow(ClientFrame, tag="follow"):
    """Receive the events of streams you may read, without entering anything. Each stream
    names the last seq you have (the ``seq`` of the view read over HTTP; 0: none): the
    ``ack`` has one ``sync`` per stream in ``syncs``, replaying what came after it (or,
    with a ``reason``, from the head when too far behind: read the view again). Only
    kinds that say so may be followed (``series:``, ``session:``); all of ``streams`` are
    followed or, if one is no stream (``not_found``), not yours to read (``forbidden``) or
    of another kind (``invalid``), none is. At most ``limits.max_resume_streams`` at once.
    Following a session neither attends it nor makes you present (``attend`` does), and
    only listens: its events come, no relay (talk off the record, breakout talk,
    signalling), which reaches those there; ``attend`` on the same socket makes it
    theirs."""

    ref: Ref
    streams: Annotated[dict[StreamName, Seq], msgspec.Meta(min_length=1)]


class Post(ClientFrame, tag="post"):
    """Post a message to a room you joined. Text is trimmed; text that is only
    whitespace is refused (``invalid``)."""

    ref: Ref
    room: Id
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Edit(ClientFrame, tag="edit"):
    """Replace the text of your own message (``message`` is its id, the seq it was posted
    at). As for ``post``, whitespace-only text is refused."""

    ref: Ref
    room: Id
    message: Seq
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Delete(ClientFrame, tag="delete"):
    ref: Ref
    room: Id
    message: Seq


class History(ClientFrame, tag="history"):
    """Page back through a room's messages: the ``limit`` latest messages posted before
    ``before`` (exclusive; the latest of all when absent). The ``history`` reply lists
    them oldest first; for the next older page send ``before`` = the first one's id."""

    ref: Ref
    room: Id
    before: Seq | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50


RelayKind = Literal["typing", "off_record", "breakout", "signal"]
"""What a relayed frame means; each kind is its own permission (``relay_<kind>``).
``typing``: the sender is typing in the room (clients show it for a few seconds);
no ``data``. ``off_record``: chat, a note or a caption said in a live session while it
is off the record, sent by the server on the ``session:<id>`` stream to those following
it (``data``: ``what`` = ``say``/``note``/``caption``, ``text``, ``name`` or
``speaker``); never stored. Clients do not send it as a ``relay``: ``say``/``note``
in the session do. ``breakout``: chat in a pair-up's breakout room (the ``session``
op ``breakout_say``), sent by the server on ``session:<id>`` only to that group's
members and the hosts visiting it (``data``: ``group``, ``round``, ``text``); never
stored, never sent as a ``relay``. ``signal``: WebRTC signalling for a breakout room's
call (the ``session`` op ``signal``), sent by the server on ``session:<id>`` only to the
member it names, who is in the sender's group (``data``: ``group``, ``round``,
``signal``); never stored, never sent as a ``relay``."""


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


class SessionCommand(ClientFrame, tag="session"):
    """A live session's command: ``op`` says which (see :mod:`server.session_protocol`).
    ``session`` is absent only for ``open``."""

    ref: Ref
    op: AnySessionOp
    session: Id | None = None


ClientMessage = (Identify | Resume | Heartbeat | Join | Leave | Follow | Post | Edit | Delete
                 | History | Relay | SessionCommand)
COMMANDS_WITH_REF = (Join, Leave, Follow, Post, Edit, Delete, History, SessionCommand)


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
    max_server_frame_bytes: int
    """No server frame is larger. A ``ready`` or ``ack`` that would be is split: its
    replayed events follow it as ordinary ``event`` frames (the ``sync`` then has no
    ``events`` and ``seq`` is where the replay starts), and room snapshots keep only as
    many of their latest messages as fit (page older ones with ``history``). A
    ``history`` page keeps its newest messages and sets ``has_more``."""
    max_invalid_frames: int
    """Each malformed frame is answered with an ``error`` (``bad_frame``, ``unknown_type``
    or ``invalid``); more than this many in a row close the socket with 4007."""
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
    actions: list[Action] = msgspec.field(default_factory=list)
    """The actions you may take in ``community`` now (``allowed()`` over the grants
    table, :func:`server.domain.policy.session_actions`): show controls from this list
    instead of a copy of the table. For a guest, the room actions apply to
    ``guest_room`` only. An action listed may still be refused for a given target (one
    ranked as high as you) or while you are timed out; every command is checked when
    it is made. When your role changes the socket closes with 4009 and the ``ready``
    of the resume carries the new list."""
    grantable_roles: list[Literal["member", "host", "convener", "owner"]] = msgspec.field(
        default_factory=list)
    """The roles you may give with ``set_role`` (to someone ranked below you)."""


def session_of(member: Member, community: str, actor: Actor) -> Session:
    """The ``ready`` session of ``member``, who entered ``community`` as ``actor``
    (whose role there is known)."""
    assert actor.role is not None
    return Session(
        member=member, community=community,
        role=actor.role.label,  # type: ignore[arg-type]
        guest_room=actor.guest_room, actions=session_actions(actor, community),
        grantable_roles=[role.label for role in grantable_roles(actor.role)],  # type: ignore[misc]
    )


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
    snapshot: (RoomSnapshot | CommunitySnapshot | SessionSnapshot | ArtefactSnapshot
               | None) = None
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
    """For ``join``: the room's snapshot; for a session's ``attend``: the session's. Live
    events follow from ``sync.seq + 1``."""
    syncs: list[Sync] = msgspec.field(default_factory=list)
    """For ``follow``: one per stream followed, in the order asked."""


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
    server_time_ms: int | None = None
    """The server's clock when it answered. A client that noted when it sent the
    heartbeat can take ``server_time_ms - (sent + received) / 2`` as its clock offset,
    off by at most half the round trip (``hello``'s is off by the whole one-way delay);
    the browser samples the heartbeat it sends right after ``hello`` and five more
    sent over the four seconds after ``ready``, keeping the shortest round trip
    (heartbeats are not rate limited)."""


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


ServerMessage = (Hello | Ready | Event | Ack | Error | HeartbeatAck | HistoryPage
                 | Unsubscribed | Relayed)
