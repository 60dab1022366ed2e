"""Live state of the streams this process follows, kept as folds over their committed events.

Which streams are folded, and how, is the stream-kind registry's
(:mod:`server.streams`): each kind with a fold says how to start a state, how to
fold an event into it (and what the edge does after), and whether all its streams
are folded at start (communities) or each on first use (rooms). Nothing here names
a kind but to keep the shortcuts other code uses (:meth:`Folds.community`,
:meth:`Folds.room`, ``folds.communities``, ``folds.rooms``).

The states follow the store's commits, so they are exactly the durable ones: a
snapshot taken here at ``state.seq`` is consistent with the events a subscriber
receives after it. A stream loaded on use is folded from the store the first
time it is needed; events committed while it loads are buffered and applied after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .domain.artefact import ArtefactState
from .domain.community import CommunityState
from .domain.events import Event
from .domain.room import RoomState
from .domain.session import SessionState
from .errors import NotFound
from .store import EventStore
from .streams import (
    ARTEFACT,
    COMMUNITY,
    KINDS,
    ROOM,
    ROOT,
    SESSION,
    StreamKind,
    StreamRef,
    split,
)

log = logging.getLogger("practica.folds")

PAGE = 2000

Listener = Callable[[Any, Event], None]


class Folds:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.states: dict[str, dict[str, Any]] = {}
        """Kind name -> id -> the state folded so far."""
        self.communities: dict[str, CommunityState] = self.of(COMMUNITY)
        self.rooms: dict[str, RoomState] = self.of(ROOM)
        self.sessions: dict[str, SessionState] = self.of(SESSION)
        self.artefacts: dict[str, ArtefactState] = self.of(ARTEFACT)
        self.from_snapshots: dict[str, int] = {}
        """Streams loaded from a kept snapshot (:attr:`StreamKind.restore`), and its seq."""
        self._homes: dict[str, str] = {}
        """stream -> the community it belongs to, as found (a room never moves)."""
        self._loading: dict[str, list[Event]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.loaded_callbacks: list[Callable[[Any], None]] = []
        """Called with each state loaded on use, once it is caught up."""
        self.on_gap: Callable[[str, int], None] = lambda stream, seq: None
        """Called with (stream, seq) when an event arrives past a missing one."""
        self._listeners: dict[str, list[Listener]] = {}
        self.community_changed: list[Listener] = self.listeners(COMMUNITY)
        """Called after each committed community event is folded (in every process, as
        its events arrive): who may read what is decided again from here."""

    def of(self, kind: StreamKind) -> dict[str, Any]:
        """The states of ``kind`` this process holds, by id."""
        return self.states.setdefault(kind.name, {})

    def listeners(self, kind: StreamKind) -> list[Listener]:
        """Called with (state, event) after each committed event of ``kind`` is folded."""
        return self._listeners.setdefault(kind.name, [])

    # --- loading ---------------------------------------------------------------------

    async def load_all(self) -> None:
        """Fold every stream of the kinds folded at start (communities: they are small;
        sessions: who may read one is decided by its room, known from its first event)."""
        for kind in list(KINDS):
            if kind.folded and kind.loaded == "at_start":
                kept = await self._kept_snapshots(kind)
                for stream in await self.store.streams(kind.prefix):
                    await self.load(StreamRef(kind, stream[len(kind.prefix):]), kept.get(stream))

    load_communities = load_all

    async def _kept_snapshots(self, kind: StreamKind) -> dict[str, tuple[int, bytes]]:
        if kind.restore is None:
            return {}
        rows = await self.store.fetch(
            "SELECT stream, seq, body FROM stream_snapshots WHERE stream LIKE ?",
            (kind.prefix + "%",))
        return {row[0]: (int(row[1]), bytes(row[2])) for row in rows}

    async def load(self, ref: StreamRef, kept: tuple[int, bytes] | None = None) -> Any:
        """Fold ``ref`` from the store, afresh (or from the snapshot ``kept`` of it: its seq
        and body), and hold it."""
        kind = ref.kind
        assert kind.new_state is not None
        state = None
        if kept is not None and kind.restore is not None:
            try:
                state = kind.restore(ref.ident, kept[1], kept[0])
                self.from_snapshots[ref.name] = kept[0]
            except Exception:  # written by another version: fold it all
                log.warning("snapshot of %s is unreadable; folding it whole", ref.name)
        if state is None:
            state = kind.new_state(ref.ident)
        await self._fold(ref.name, state, kind.apply)
        self.of(kind)[ref.ident] = state
        return state

    async def load_community(self, community: str) -> CommunityState:
        state: CommunityState = await self.load(StreamRef(COMMUNITY, community))
        return state

    # --- finding states ----------------------------------------------------------------

    def home(self, ref: StreamRef) -> CommunityState:
        """The community ``ref`` belongs to; NotFound if there is none."""
        known = self._homes.get(ref.name)
        if known is not None:
            return self.communities[known]
        state = ref.kind.home(self, ref.ident)
        if state is None:
            raise NotFound(f"no {ref.kind.name} {ref.ident!r}")
        if ref.kind is not ROOT:
            self._homes[ref.name] = state.community
        return state

    def exists(self, ref: StreamRef) -> bool:
        try:
            self.home(ref)
        except NotFound:
            return False
        return True

    async def state(self, ref: StreamRef) -> Any:
        """The committed state of ``ref``; None for kinds without a fold. NotFound when
        its home does not exist (or, for a kind folded at start, it has no events yet)."""
        kind = ref.kind
        if not kind.folded:
            return None
        states = self.of(kind)
        state = states.get(ref.ident)
        if kind.loaded == "at_start":
            if state is None or state.seq == 0:
                raise NotFound(f"no {kind.name} {ref.ident!r}")
            return state
        if state is not None:
            return state
        self.home(ref)
        lock = self._locks.setdefault(ref.name, asyncio.Lock())
        async with lock:
            state = states.get(ref.ident)
            if state is None:
                state = await self.load(ref)
                for callback in self.loaded_callbacks:
                    callback(state)
        return state

    # --- the shortcuts other code uses ------------------------------------------------

    def community(self, community: str) -> CommunityState:
        """A community's committed state; NotFound if there is none."""
        state = self.communities.get(community)
        if state is None or state.seq == 0:
            raise NotFound(f"no community {community!r}")
        return state

    def community_of_room(self, room: str) -> CommunityState:
        return self.home(StreamRef(ROOM, room))

    def room_exists(self, room: str) -> bool:
        return self.exists(StreamRef(ROOM, room))

    async def room(self, room: str) -> RoomState:
        """The room's committed state; NotFound if no community has such a room."""
        state = self.rooms.get(room)
        if state is not None:
            return state
        loaded: RoomState = await self.state(StreamRef(ROOM, room))
        return loaded

    def session(self, session: str) -> SessionState:
        """A session's committed state; NotFound if there is none."""
        state = self.sessions.get(session)
        if state is None or not state.opened:
            raise NotFound(f"no session {session!r}")
        return state

    def artefact(self, artefact: str) -> ArtefactState:
        """An artefact's committed state; NotFound if there is none."""
        state = self.artefacts.get(artefact)
        if state is None or not state.created:
            raise NotFound(f"no artefact {artefact!r}")
        return state

    def sessions_of_room(self, room: str) -> list[SessionState]:
        return [s for s in self.sessions.values() if s.opened and s.room == room]

    # --- following commits --------------------------------------------------------------

    async def _fold(
        self, stream: str, state: Any, apply: Callable[[Any, Event], object]
    ) -> None:
        """Fold ``stream`` from the store; events committed meanwhile are buffered by
        :meth:`on_commit` and applied after, so none is missed or applied twice."""
        self._loading[stream] = []
        try:
            after = state.seq  # from a kept snapshot: the events after it
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

    def state_of(self, stream: str) -> Any:
        """The state this process holds of ``stream``; None if it holds none."""
        ref = split(stream)
        if ref is None or not ref.kind.folded:
            return None
        return self.of(ref.kind).get(ref.ident)

    def _start_following(self, ref: StreamRef) -> Any:
        """A stream of a kind folded at start that this process has not seen yet (created
        here or by another process): followed from here on, starting empty."""
        assert ref.kind.new_state is not None
        state = self.of(ref.kind)[ref.ident] = ref.kind.new_state(ref.ident)
        return state

    def seq_of(self, stream: str) -> int | None:
        """How far this process has folded ``stream``; None if it does not follow it.

        A stream of a kind folded at start that this process has not seen yet (a
        community created by another process) is followed from here on, starting
        empty, so the feed fetches it whole."""
        state = self.state_of(stream)
        if state is None and stream not in self._loading:
            ref = split(stream)
            if ref is not None and ref.kind.folded and ref.kind.loaded == "at_start":
                state = self._start_following(ref)
        return None if state is None else int(state.seq)

    def followed(self) -> list[str]:
        return [kind.stream(ident) for kind in list(KINDS) if kind.folded
                for ident in self.of(kind)]

    def on_commit(self, events: list[Event]) -> None:
        """Fold committed events into the states held, strictly in seq order."""
        for event in events:
            buffer = self._loading.get(event.stream)
            if buffer is not None:
                buffer.append(event)
                continue
            ref = split(event.stream)
            if ref is None or not ref.kind.folded:
                continue
            kind = ref.kind
            state = self.of(kind).get(ref.ident)
            if state is None and event.seq == 1 and kind.loaded == "at_start":
                state = self._start_following(ref)
            if state is None or event.seq <= state.seq:
                continue
            if event.seq > state.seq + 1:  # another process's events are not here yet
                self.on_gap(event.stream, event.seq)
                continue
            _apply_safely(kind.apply, state, event)
            for listener in self._listeners.get(kind.name, ()):
                try:
                    listener(state, event)
                except Exception:  # a listener's bug must not stop the fold
                    log.exception("%s change listener failed on %s", kind.name, event.stream)


def _apply_safely(apply: Callable[[Any, Event], object], state: Any, event: Event) -> None:
    """Fold one event; one the fold cannot take is logged and passed over, so a stored
    event never stops a room or the server from loading (the history is immutable)."""
    try:
        apply(state, event)
    except Exception:
        log.exception("could not fold %s seq %d; passed over", event.stream, event.seq)
        state.seq = event.seq
