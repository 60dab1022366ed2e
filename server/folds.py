"""Live state of the community and its rooms, kept as folds over their committed events.

The registry listens to the store's commits, so its states are exactly the
durable ones: a snapshot taken here at ``state.seq`` is consistent with the
events a subscriber receives after it. A room is loaded (folded from the
store) the first time it is needed; events committed while it loads are
buffered and applied after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .domain import community as community_fold
from .domain import room as room_fold
from .domain.community import CommunityState
from .domain.events import Event, community_stream, room_stream
from .domain.room import RoomState
from .errors import NotFound
from .store import EventStore

PAGE = 2000


class Folds:
    def __init__(self, store: EventStore, community: str) -> None:
        self.store = store
        self.community = CommunityState(community)
        self.community_stream = community_stream(community)
        self.rooms: dict[str, RoomState] = {}
        self._loading: dict[str, list[Event]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.loaded_callbacks: list[Callable[[RoomState], None]] = []
        self.on_gap: Callable[[str, int], None] = lambda stream, seq: None
        """Called with (stream, seq) when an event arrives past a missing one."""

    async def load_community(self) -> None:
        self._loading[self.community_stream] = []
        state = CommunityState(self.community.community)
        await self._fold(self.community_stream, state, community_fold.apply)
        for event in self._loading.pop(self.community_stream):
            if event.seq > state.seq:
                community_fold.apply(state, event)
        self.community = state

    async def room(self, room: str) -> RoomState:
        """The room's committed state; NotFound if the community has no such room."""
        state = self.rooms.get(room)
        if state is not None:
            return state
        if room not in self.community.rooms:
            raise NotFound(f"no room {room!r}")
        lock = self._locks.setdefault(room, asyncio.Lock())
        async with lock:
            state = self.rooms.get(room)
            if state is None:
                stream = room_stream(room)
                self._loading[stream] = []
                state = RoomState(room)
                try:
                    await self._fold(stream, state, room_fold.apply)
                    for event in self._loading[stream]:
                        if event.seq > state.seq:
                            room_fold.apply(state, event)
                finally:
                    del self._loading[stream]
                self.rooms[room] = state
                for callback in self.loaded_callbacks:
                    callback(state)
        return state

    async def _fold(
        self, stream: str, state: Any, apply: Callable[[Any, Event], object]
    ) -> None:
        after = 0
        while True:
            events = await self.store.read(stream, after=after, limit=PAGE)
            for event in events:
                apply(state, event)
            if len(events) < PAGE:
                return
            after = events[-1].seq

    def state_of(self, stream: str) -> RoomState | CommunityState | None:
        if stream == self.community_stream:
            return self.community
        if stream.startswith("room:"):
            return self.rooms.get(stream[5:])
        return None

    def seq_of(self, stream: str) -> int | None:
        """How far this process has folded ``stream``; None if it does not follow it."""
        state = self.state_of(stream)
        return None if state is None else state.seq

    def followed(self) -> list[str]:
        return [self.community_stream, *(f"room:{room}" for room in self.rooms)]

    def on_commit(self, events: list[Event]) -> None:
        """Fold committed events into the loaded states, strictly in seq order."""
        for event in events:
            buffer = self._loading.get(event.stream)
            if buffer is not None:
                buffer.append(event)
                continue
            state = self.state_of(event.stream)
            if state is None or event.seq <= state.seq:
                continue
            if event.seq > state.seq + 1:  # another process's events are not here yet
                self.on_gap(event.stream, event.seq)
                continue
            if isinstance(state, CommunityState):
                community_fold.apply(state, event)
            else:
                room_fold.apply(state, event)
