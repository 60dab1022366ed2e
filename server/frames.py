"""Reading client frames and writing server frames (:mod:`server.protocol`'s types).

Decoders and the encoder are built once, at import. Every malformed frame is a typed
:class:`~server.errors.InvalidCommand` (``bad_frame``, ``unknown_type`` or ``invalid``),
never a server error.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from .domain.events import Event
from .errors import ErrorCode, InvalidCommand
from .protocol import ClientFrame, ClientMessage, ServerFrame

_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()
_loose = msgspec.json.Decoder()
_TYPES = {cls.__struct_config__.tag for cls in ClientMessage.__args__}


def decode(frame: str | bytes) -> ClientFrame:
    """Decode a client frame, raising :class:`InvalidCommand` with the precise code.

    Whatever the bytes, the only exception is :class:`InvalidCommand`: truncated or
    invalid JSON, numbers out of range, nesting too deep for the parser (RecursionError)
    and a ``type`` that is not a string are all typed refusals, never a server error."""
    try:
        command: ClientFrame = _decoder.decode(frame)  # typed Any by older msgspec stubs
        return command
    except msgspec.ValidationError as exc:
        raise _classify(frame, exc) from None
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        raise _bad_frame(exc) from None


def _bad_frame(exc: BaseException) -> InvalidCommand:
    reason = ("nested too deeply" if isinstance(exc, RecursionError)
              else str(exc) or type(exc).__name__)
    return InvalidCommand(f"not valid JSON: {reason}", code=ErrorCode.BAD_FRAME)


def _loose_decode(frame: str | bytes) -> Any:
    """Any JSON value, or :class:`InvalidCommand` (``bad_frame``) when it is not JSON."""
    try:
        return _loose.decode(frame)
    except (msgspec.MsgspecError, RecursionError, ValueError) as exc:
        raise _bad_frame(exc) from None


def _classify(frame: str | bytes, exc: msgspec.ValidationError) -> InvalidCommand:
    """Tell an unknown type from a bad field, and not-an-object from both."""
    try:
        raw = _loose_decode(frame)
    except InvalidCommand as bad:
        return bad
    if not isinstance(raw, dict):
        return InvalidCommand("a frame must be a JSON object", code=ErrorCode.BAD_FRAME)
    kind = raw.get("type")
    if "type" in raw and not isinstance(kind, str):
        return InvalidCommand("`type` must be a string naming a command",
                              code=ErrorCode.INVALID)
    if kind not in _TYPES:
        return InvalidCommand(
            f"unknown type {kind if kind is None else kind[:64]!r}; expected one of "
            f"{sorted(_TYPES)}",
            code=ErrorCode.UNKNOWN_TYPE,
        )
    return InvalidCommand(str(exc), code=ErrorCode.INVALID)


def ref_of(frame: str | bytes) -> str | None:
    """Best effort: the ``ref`` of a frame that failed to decode, to answer it by ref."""
    try:
        raw = _loose_decode(frame)
    except InvalidCommand:
        return None
    ref = raw.get("ref") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= 64 else None


def command_digest(command: ClientFrame) -> str:
    """What a command asks for, without its ref: the same ref sent again with a different
    digest is a different command (answered ``conflict``), not a resend."""
    fields = msgspec.structs.asdict(command)
    fields.pop("ref", None)
    tag = command.__struct_config__.tag
    return hashlib.sha256(_encoder.encode([tag, fields])).hexdigest()[:32]


def encode(message: ServerFrame | Event) -> str:
    """Encode once; the same text goes to every subscriber."""
    return _encoder.encode(message).decode()
