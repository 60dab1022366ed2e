"""The hash chain over a stream's events.

Each event stores ``digest = sha256(body)`` and
``hash = sha256(prev_hash | stream | seq | ts | actor | type | digest)``.
The chain covers the digest, not the body, so a body can be erased for
privacy (the digest and hash stay, as a tombstone) while the chain still
verifies; any other change to a stored event breaks it.
"""

from __future__ import annotations

import hashlib
import struct

GENESIS = bytes(32)


def body_digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def link_hash(
    prev: bytes, stream: str, seq: int, ts: int, actor: str | None, type_: str, digest: bytes
) -> bytes:
    h = hashlib.sha256(prev)
    h.update(struct.pack(">QQ", seq, ts))
    for part in (stream, actor or "", type_):
        encoded = part.encode()
        h.update(struct.pack(">I", len(encoded)))
        h.update(encoded)
    h.update(digest)
    return h.digest()


class ChainBreak(Exception):
    def __init__(self, stream: str, seq: int, why: str) -> None:
        super().__init__(f"{stream} seq {seq}: {why}")
        self.stream, self.seq, self.why = stream, seq, why


def verify_row(
    prev: bytes, expected_seq: int, stream: str, seq: int, ts: int, actor: str | None,
    type_: str, body: bytes | None, digest: bytes, stored_hash: bytes,
) -> bytes:
    """Check one stored row against the chain so far; return its hash or raise ChainBreak."""
    if seq != expected_seq:
        raise ChainBreak(stream, seq, f"expected seq {expected_seq} (gap or reorder)")
    if body is not None and body_digest(body) != digest:
        raise ChainBreak(stream, seq, "body does not match its digest")
    if link_hash(prev, stream, seq, ts, actor, type_, digest) != stored_hash:
        raise ChainBreak(stream, seq, "hash does not chain to the previous event")
    return stored_hash
