"""Every error code, close code and exception Practica raises, in one place.

A command that fails gets an ``error`` reply carrying an :class:`ErrorCode`
and changes nothing. A connection that must end is closed with a
:class:`CloseCode`; the 4000 range is Practica's own, in the spirit of
Discord's gateway. ``schemas/`` documents both enums, generated from here.

Exception tree::

    PracticaError
    ├── CommandError            (answered with an ``error`` reply; carries an ErrorCode)
    │   ├── InvalidCommand      (bad_frame, unknown_type, invalid)
    │   ├── AuthFailed          (auth_failed)
    │   ├── CsrfFailed          (csrf_failed)
    │   ├── Forbidden           (forbidden)
    │   ├── NotFound            (not_found)
    │   ├── Conflict            (not_joined, already_identified, not_identified, ...)
    │   ├── RateLimited         (rate_limited)
    │   └── Unavailable         (unavailable: a store or other dependency is down)
    ├── StaleState              (an append named a seq its stream has moved past: re-decide)
    ├── ConnectionClosing       (ends the connection with a CloseCode)
    └── StoreError              (the store refused or failed; commands get ``unavailable``)
        └── IntegrityError      (a stored event or hash chain does not verify)
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Why a command was refused. The command changed nothing."""

    BAD_FRAME = "bad_frame"
    """The frame is not valid JSON, or not a JSON object."""
    UNKNOWN_TYPE = "unknown_type"
    """The ``type`` field names no command."""
    INVALID = "invalid"
    """A field is missing, of the wrong type, or out of range."""
    NOT_IDENTIFIED = "not_identified"
    """The command needs ``identify`` or ``resume`` first."""
    ALREADY_IDENTIFIED = "already_identified"
    """``identify``/``resume`` was sent twice on one connection."""
    AUTH_FAILED = "auth_failed"
    """Not signed in, the session is unknown or expired, or the login or password is
    wrong (HTTP 401)."""
    CSRF_FAILED = "csrf_failed"
    """A state-changing HTTP call without the ``X-CSRF-Token`` header matching the
    ``practica_csrf`` cookie and the session (HTTP 403)."""
    CONFLICT = "conflict"
    """The change clashes with what exists: a login or community id taken, already a
    member, the last owner leaving (HTTP 409)."""
    FORBIDDEN = "forbidden"
    """The sender's role does not allow this action on this resource."""
    NOT_FOUND = "not_found"
    """The room, stream or message does not exist."""
    NOT_JOINED = "not_joined"
    """The command needs the sender to have joined the room first."""
    OUT_OF_ORDER = "out_of_order"
    """The command does not fit the session's state now: advance before it started,
    upvote a question twice, answer a withdrawn question (HTTP 409)."""
    RATE_LIMITED = "rate_limited"
    """Too many commands; wait ``retry_after_ms``."""
    UNAVAILABLE = "unavailable"
    """The store could not make the change durable (it is down or cannot write); nothing
    was applied. Retry after ``retry_after_ms``."""
    INTERNAL = "internal"
    """A bug on the server; nothing was applied."""


class CloseCode(enum.IntEnum):
    """Why the server closed a websocket. After any code but 4010, a client may reconnect
    and ``resume``; after 4003 and 4008 it must sign in again first."""

    NORMAL = 1000
    """The client closed, or the server ended the connection with nothing wrong."""
    GOING_AWAY = 1001
    """The server is shutting down; reconnect and resume."""
    INVALID_DATA = 1007
    """A text frame was not valid UTF-8 (closed by the websocket layer, without an
    ``error`` reply). Binary frames are read as UTF-8 JSON like text frames; bytes
    that are not valid UTF-8 there get ``bad_frame`` instead."""
    POLICY_VIOLATION = 1008
    """Sent before the upgrade completes, as HTTP 403: no valid session cookie, or an
    ``Origin`` from another site."""
    MESSAGE_TOO_BIG = 1009
    """A frame exceeded ``limits.max_frame_bytes``."""
    INTERNAL_ERROR = 1011
    """The server could not catch the connection up on a stream; reconnect and resume."""
    UNKNOWN_ERROR = 4000
    """Reserved: not sent today."""
    IDENTIFY_TIMEOUT = 4001
    """No ``identify`` or ``resume`` arrived in time after ``hello``."""
    AUTH_FAILED = 4003
    """The session ended (expired, or the account was deleted)."""
    HEARTBEAT_TIMEOUT = 4004
    """No frame from the client within the heartbeat deadline."""
    SLOW_CONSUMER = 4005
    """The client read too slowly; its send queue overflowed. Reconnect and resume."""
    RATE_LIMITED = 4006
    """The client kept sending after being told it was rate limited."""
    PROTOCOL_VIOLATION = 4007
    """More than ``limits.max_invalid_frames`` malformed frames in a row (each was
    answered with ``bad_frame``, ``unknown_type`` or ``invalid``)."""
    SESSION_REVOKED = 4008
    """The session was signed out or revoked; sign in again."""
    ROLE_CHANGED = 4009
    """The member's role changed; reconnect and resume to get the new controls."""
    REMOVED = 4010
    """The member was removed from the community (the reason says why); do not reconnect."""


class PracticaError(Exception):
    """Base of every error Practica raises on purpose."""


class CommandError(PracticaError):
    """A command was refused; it is answered with an ``error`` reply and changes nothing."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidCommand(CommandError):
    code = ErrorCode.INVALID


class AuthFailed(CommandError):
    code = ErrorCode.AUTH_FAILED


class CsrfFailed(CommandError):
    code = ErrorCode.CSRF_FAILED


class Forbidden(CommandError):
    code = ErrorCode.FORBIDDEN


class NotFound(CommandError):
    code = ErrorCode.NOT_FOUND


class Conflict(CommandError):
    """The command does not fit the current state (not joined, already identified...)."""

    code = ErrorCode.CONFLICT


class OutOfOrder(Conflict):
    """A session command that does not fit the session's state now; nothing changed."""

    code = ErrorCode.OUT_OF_ORDER


class RateLimited(CommandError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after_ms: int) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class Unavailable(CommandError):
    """A dependency (the store) could not do its part; nothing was applied. Retry after
    ``retry_after_ms``."""

    code = ErrorCode.UNAVAILABLE

    def __init__(self, message: str, *, retry_after_ms: int) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class StaleState(PracticaError):
    """An append was decided on a stream's state at ``expected`` but the stream is at
    ``head`` now: nothing was appended; bring the fold up to date and decide again."""

    def __init__(self, stream: str, expected: int, head: int) -> None:
        super().__init__(f"{stream} is at seq {head}, not {expected}")
        self.stream, self.expected, self.head = stream, expected, head


class ConnectionClosing(PracticaError):
    """The connection must end with ``code``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(f"{code.name}: {reason}")
        self.code = code
        self.reason = reason


class StoreError(PracticaError):
    """The store failed; nothing was made durable."""


class IntegrityError(StoreError):
    """A stored event or a hash chain does not verify."""
