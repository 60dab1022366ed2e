"""Keep every server frame under ``limits.max_server_frame_bytes``.

A ``ready`` or ``ack`` that would be larger is reshaped, never sent whole:

1. replayed events leave the frame: the ``sync`` keeps ``mode: "replay"`` with no
   ``events`` and ``seq`` set to where the replay starts, and the events follow as
   ordinary ``event`` frames, in seq order, before any live event of that stream (they
   are simply the events after ``sync.seq``);
2. if it is still too large, room snapshots lose their oldest messages (a snapshot
   holds "the latest messages"; older ones are paged with ``history``), largest
   snapshot first.

A ``history`` page that would be too large keeps its newest messages and says
``has_more``; ask again with ``before`` set to the oldest id received.
Pure functions: sizes are the encoded bytes.
"""

from __future__ import annotations

import msgspec

from .domain.events import Event
from .domain.room import RoomSnapshot
from .frames import encode
from .protocol import Ack, HistoryPage, Ready, Sync

_SEPARATOR = 1  # the comma between list items


def _size(value: object) -> int:
    return len(msgspec.json.encode(value))


def syncs_of(frame: Ready | Ack) -> list[Sync]:
    if isinstance(frame, Ready):
        return frame.syncs
    return [frame.sync, *frame.syncs] if frame.sync is not None else frame.syncs


def fit_synced(frame: Ready | Ack, limit: int) -> tuple[str, dict[str, list[Event]]]:
    """The frame's text, under ``limit`` bytes when it can be, and per stream the replayed
    events to send after it as ``event`` frames. ``frame`` is changed in place."""
    text = encode(frame)
    moved: dict[str, list[Event]] = {}
    if len(text.encode()) <= limit:
        return text, moved
    for sync in syncs_of(frame):
        if sync.mode == "replay" and sync.events:
            moved[sync.stream] = sync.events
            sync.seq = sync.events[0].seq - 1
            sync.events = []
    text = encode(frame)
    excess = len(text.encode()) - limit
    if excess > 0:
        _trim_snapshots([s.snapshot for s in syncs_of(frame)
                         if isinstance(s.snapshot, RoomSnapshot)], excess)
        text = encode(frame)
    return text, moved


def _trim_snapshots(snapshots: list[RoomSnapshot], excess: int) -> None:
    """Drop oldest messages, from the largest snapshot first, until ``excess`` is gone."""
    sizes = {id(s): _size(s.messages) for s in snapshots}
    while excess > 0:
        candidates = [s for s in snapshots if s.messages]
        if not candidates:
            return
        largest = max(candidates, key=lambda s: sizes[id(s)])
        dropped = _size(largest.messages.pop(0)) + _SEPARATOR
        sizes[id(largest)] -= dropped
        excess -= dropped


def fit_history(page: HistoryPage, limit: int) -> str:
    """The page's text under ``limit``: the oldest messages go first (``has_more`` then)."""
    text = encode(page)
    excess = len(text.encode()) - limit
    if excess <= 0:
        return text
    while excess > 0 and page.messages:
        excess -= _size(page.messages.pop(0)) + _SEPARATOR
        page.has_more = True
    return encode(page)
