"""Live state of every community and its rooms, kept as folds over their committed events.

The registry listens to the store's commits, so its states are exactly the
durable ones: a snapshot taken here at ``state.seq`` is consistent with the
events a subscriber receives after it. A room is loaded (folded from the
store) the first time it is needed; events committed while it loads are
buffered and applied after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from .domain import community as community_fold
from .domain import room as room_fold
from .domain.community import CommunityState
from .domain.events import CommunityCreated, CommunityEdited, Event, community_stream, room_stream
from .domain.room import RoomState
from .domain.session import SessionSnapshot, SessionState
from .domain.session import apply as session_apply
from .errors import NotFound
from .markup import render_markdown
from .store import EventStore

log = logging.getLogger("practica.folds")
_snapshot_decoder = msgspec.json.Decoder(SessionSnapshot)

PAGE = 2000


class Folds:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.communities: dict[str, CommunityState] = {}
        self.rooms: dict[str, RoomState] = {}
        self.sessions: dict[str, SessionState] = {}
        self.from_snapshots: dict[str, int] = {}
        """The sessions loaded from a kept snapshot, and its seq."""
        """Every live session, followed by every process (its room decides who reads it)."""
        self._homes: dict[str, str] = {}
        """room -> its community, as found (a room never moves)."""
        self._loading: dict[str, list[Event]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.loaded_callbacks: list[Callable[[RoomState], None]] = []
        self.on_gap: Callable[[str, int], None] = lambda stream, seq: None
        """Called with (stream, seq) when an event arrives past a missing one."""
        self.community_changed: list[Callable[[CommunityState, Event], None]] = []
        """Called after each committed community event is folded (in every process, as
        its events arrive): who may read what is decided again from here."""

    async def load_communities(self) -> None:
        """Fold every community there is (they are small: rooms and members)."""
        for stream in await self.store.streams("community:"):
            await self.load_community(stream.partition(":")[2])

    async def load_sessions(self) -> None:
        """Fold every session there is: who may read one is decided by its room, known
        from its first event, and must be known without waiting."""
        kept = {row[0]: (int(row[1]), bytes(row[2])) for row in await self.store.fetch(
            "SELECT stream, seq, body FROM stream_snapshots WHERE stream LIKE 'session:%'")}
        for stream in await self.store.streams("session:"):
            ident = stream.partition(":")[2]
            state = SessionState(ident)
            if stream in kept:
                seq, body = kept[stream]
                try:
                    state = SessionState.from_snapshot(_snapshot_decoder.decode(body), seq)
                    self.from_snapshots[ident] = seq
                except msgspec.MsgspecError:  # written by another version: fold it all
                    log.warning("snapshot of %s is unreadable; folding it whole", stream)
            await self._fold(stream, state, session_apply)
            self.sessions[ident] = state

    def session(self, session: str) -> SessionState:
        """A session's committed state; NotFound if there is none."""
        state = self.sessions.get(session)
        if state is None or not state.opened:
            raise NotFound(f"no session {session!r}")
        return state

    def sessions_of_room(self, room: str) -> list[SessionState]:
        return [s for s in self.sessions.values() if s.opened and s.room == room]

    async def load_community(self, community: str) -> CommunityState:
        state = CommunityState(community)
        await self._fold(community_stream(community), state, fold_community)
        self.communities[community] = state
        return state

    def community(self, community: str) -> CommunityState:
        """A community's committed state; NotFound if there is none."""
        state = self.communities.get(community)
        if state is None or state.seq == 0:
            raise NotFound(f"no community {community!r}")
        return state

    def community_of_room(self, room: str) -> CommunityState:
        home = self._homes.get(room)
        if home is not None:
            return self.communities[home]
        for state in self.communities.values():
            if room in state.rooms:
                self._homes[room] = state.community
                return state
        raise NotFound(f"no room {room!r}")

    def room_exists(self, room: str) -> bool:
        try:
            self.community_of_room(room)
        except NotFound:
            return False
        return True

    async def room(self, room: str) -> RoomState:
        """The room's committed state; NotFound if no community has such a room."""
        state = self.rooms.get(room)
        if state is not None:
            return state
        self.community_of_room(room)
        lock = self._locks.setdefault(room, asyncio.Lock())
        async with lock:
            state = self.rooms.get(room)
            if state is None:
                state = RoomState(room)
                await self._fold(room_stream(room), state, room_fold.apply)
                self.rooms[room] = state
                for callback in self.loaded_callbacks:
                    callback(state)
        return state

    async def _fold(
        self, stream: str, state: Any, apply: Callable[[Any, Event], object]
    ) -> None:
        """Fold ``stream`` from the store; events committed meanwhile are buffered by
        :meth:`on_commit` and applied after, so none is missed or applied twice."""
        self._loading[stream] = []
        try:
            after = state.seq  # from a snapshot, the events after it
            while True:
                events = await self.store.read(stream, after=after, limit=PAGE)
                for event in events:
                    _apply_safely(apply, state, event)
                if len(events) < PAGE:
                    break
                after = events[-1].seq
            for event in self._loading[stream]:
                if event.seq > state.seq:
                    _apply_safely(apply, state, event)
        finally:
            del self._loading[stream]

    def state_of(self, stream: str) -> RoomState | CommunityState | SessionState | None:
        if stream.startswith("community:"):
            return self.communities.get(stream[10:])
        if stream.startswith("room:"):
            return self.rooms.get(stream[5:])
        if stream.startswith("session:"):
            return self.sessions.get(stream[8:])
        return None

    def seq_of(self, stream: str) -> int | None:
        """How far this process has folded ``stream``; None if it does not follow it.

        A community this process has not seen yet (created by another process)
        is followed from here on, starting empty, so the feed fetches it whole."""
        state = self.state_of(stream)
        if state is None and stream.startswith("community:") and stream not in self._loading:
            state = self.communities[stream[10:]] = CommunityState(stream[10:])
        if state is None and stream.startswith("session:") and stream not in self._loading:
            state = self.sessions[stream[8:]] = SessionState(stream[8:])
        return None if state is None else state.seq

    def followed(self) -> list[str]:
        return [*(community_stream(c) for c in self.communities),
                *(room_stream(room) for room in self.rooms),
                *(f"session:{session}" for session in self.sessions)]

    def on_commit(self, events: list[Event]) -> None:
        """Fold committed events into the loaded states, strictly in seq order."""
        for event in events:
            buffer = self._loading.get(event.stream)
            if buffer is not None:
                buffer.append(event)
                continue
            state = self.state_of(event.stream)
            if state is None and event.seq == 1 and event.stream.startswith("community:"):
                state = self.communities[event.stream[10:]] = CommunityState(event.stream[10:])
            if state is None and event.seq == 1 and event.stream.startswith("session:"):
                state = self.sessions[event.stream[8:]] = SessionState(event.stream[8:])
            if state is None or event.seq <= state.seq:
                continue
            if event.seq > state.seq + 1:  # another process's events are not here yet
                self.on_gap(event.stream, event.seq)
                continue
            if isinstance(state, CommunityState):
                _apply_safely(fold_community, state, event)
                for listener in self.community_changed:
                    try:
                        listener(state, event)
                    except Exception:  # a listener's bug must not stop the fold
                        log.exception("community change listener failed on %s", event.stream)
            elif isinstance(state, SessionState):
                _apply_safely(session_apply, state, event)
            else:
                _apply_safely(room_fold.apply, state, event)


def fold_community(state: CommunityState, event: Event) -> CommunityState:
    """The pure fold, then what it leaves to the edge: rendering the description's
    markdown (markdown-it and nh3 are I/O-free but not domain logic)."""
    community_fold.apply(state, event)
    if isinstance(event.body, CommunityCreated | CommunityEdited):
        state.description_html = render_markdown(state.description)
    return state


def _apply_safely(apply: Callable[[Any, Event], object], state: Any, event: Event) -> None:
    """Fold one event; one the fold cannot take is logged and passed over, so a stored
    event never stops a room or the server from loading (the history is immutable)."""
    try:
        apply(state, event)
    except Exception:
        log.exception("could not fold %s seq %d; passed over", event.stream, event.seq)
        state.seq = event.seq
