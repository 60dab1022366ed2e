"""Which streams a socket follows: opening them (snapshot or replay) and ending them.

Every stream is opened only after :meth:`~server.authority.Authority.readable` says
the socket's principal may read it, decided synchronously right before it is
subscribed, and decided again (:meth:`Subscriptions.recheck`) whenever the
community it belongs to changes. A socket that may no longer read a stream is
unsubscribed and told so with an ``unsubscribed`` frame; one that asked for a
stream it may not read gets a ``refused`` sync, never a snapshot.
"""

from __future__ import annotations

import logging

from .authority import Authority
from .connection import Connection
from .errors import CommandError, ErrorCode, InvalidCommand, NotFound
from .folds import Folds
from .frames import encode
from .hub import LocalHub
from .paging import fit_synced, syncs_of
from .protocol import Ack, Ready, Sync, Unsubscribed
from .settings import Settings
from .store import EventStore
from .streams import StreamRef

log = logging.getLogger("practica.subscriptions")


def refused(stream: str, error: CommandError) -> Sync:
    """The sync of a stream the socket does not get: why, and nothing of it."""
    return Sync(stream=stream, mode="refused", seq=0, error=error.code, reason=error.message)


class Subscriptions:
    def __init__(self, store: EventStore, folds: Folds, hub: LocalHub, authority: Authority,
                 settings: Settings) -> None:
        self.store, self.folds, self.hub = store, folds, hub
        self.authority, self.settings = authority, settings

    def decide(self, conn: Connection, stream: str) -> StreamRef | Sync:
        """The stream, if ``conn`` may read it now; else its refused sync. Quiet."""
        assert conn.principal is not None
        try:
            found = self.authority.readable(conn.principal, stream)
        except NotFound as exc:
            return refused(stream, exc)
        if not found.decision:
            return Sync(stream=stream, mode="refused", seq=0, error=ErrorCode.FORBIDDEN,
                        reason=found.decision.reason)
        return found.ref

    async def open(self, conn: Connection, wanted: dict[str, int | None]) -> list[Sync]:
        """Subscribe (buffering live events) and build each stream's snapshot or replay;
        a stream ``conn`` may not read is refused."""
        syncs = []
        opened = []
        try:
            for stream, last in wanted.items():
                ref = self.decide(conn, stream)  # no await between this and subscribing
                if isinstance(ref, Sync):
                    syncs.append(ref)
                    continue
                conn.begin_sync(stream)
                self.hub.subscribe(stream, conn)
                opened.append(stream)
                sync = await self._sync(ref, last)
                if not conn.syncing(stream):  # ended meanwhile (a role changed): say so
                    decided = self.decide(conn, stream)
                    sync = decided if isinstance(decided, Sync) else Sync(
                        stream=stream, mode="refused", seq=0, error=ErrorCode.FORBIDDEN,
                        reason="your access changed while this stream was opened; ask again")
                syncs.append(sync)
        except BaseException:
            for stream in opened:  # the client never learns of these: stop buffering them
                self.hub.unsubscribe(stream, conn)
                conn.forget(stream)
            raise
        return syncs

    async def follow(self, conn: Connection, streams: dict[str, int]) -> list[Sync]:
        """Open ``streams`` (a ``follow``): all of them, or none and a typed error. Each must
        be a followable kind's stream that ``conn`` may read (a refusal is audited)."""
        assert conn.principal is not None
        limit = self.settings.max_resume_streams
        if len(streams) > limit:
            raise InvalidCommand(f"follow at most {limit} streams at once")
        wanted: dict[str, int | None] = {}
        entered = {s for s in streams if s in conn.cursors and s not in conn.listening}
        for stream, last in streams.items():
            found = await self.authority.check_read(conn.principal, stream)
            if not found.ref.kind.followable:
                raise InvalidCommand(f"{found.ref.kind.name} streams are not followed: "
                                     "join the room")
            wanted[stream] = last
        opened = await self.open(conn, wanted)
        # only listening: relays still need the room entered or the session attended
        conn.listening.update(s for s in wanted if s not in entered)
        return opened

    async def _sync(self, ref: StreamRef, last: int | None) -> Sync:
        stream = ref.name
        state = await self.folds.state(ref)  # None: a kind without a fold
        head = state.seq if state is not None else await self.store.head(stream)
        limit = self.settings.max_replay_events
        reason = None
        if last is not None:
            if last > head:
                reason = f"you have seq {last} but the stream ends at {head} (was it reset?)"
            elif head - last > limit:
                reason = f"{head - last} events missed, more than the {limit} replayed"
            else:
                events = await self.store.read(stream, after=last, limit=head - last)
                return Sync(stream=stream, mode="replay", seq=events[-1].seq if events else last,
                            events=events)
        if state is None:  # no snapshot of this kind: live from the head on
            assert not ref.kind.folded
            return Sync(stream=stream, mode="replay", seq=head, reason=reason)
        if not ref.kind.snapshots:  # the server's own fold: read it over HTTP
            return Sync(stream=stream, mode="replay", seq=head, reason=reason or (
                f"no snapshot of {ref.kind.name} streams: read it over HTTP, then follow "
                "from here"))
        return Sync(stream=stream, mode="snapshot", seq=head,
                    snapshot=state.snapshot(), reason=reason)

    async def send_synced(self, conn: Connection, frame: Ready | Ack) -> None:
        """Send ``ready``/``ack`` under the server frame limit (server/paging.py): replayed
        events that do not fit follow it as ``event`` frames, before any live event."""
        text, moved = fit_synced(frame, self.settings.max_server_frame_bytes)
        conn.push(text)
        for sync in syncs_of(frame):
            if sync.mode != "refused" and conn.syncing(sync.stream):
                events = moved.get(sync.stream, [])
                if events:
                    await conn.push_paced((encode(e) for e in events),
                                          self.settings.heartbeat_timeout_s)
                conn.end_sync(sync.stream, events[-1].seq if events else sync.seq)

    def recheck(self, conn: Connection, community: str | None = None) -> list[str]:
        """Decide again every stream ``conn`` follows (of ``community``, or all); end those
        it may no longer read. Returns the streams ended."""
        if conn.principal is None:
            return []
        ended = []
        for stream in conn.streams():
            try:
                found = self.authority.readable(conn.principal, stream)
            except NotFound as exc:
                self._end(conn, stream, exc.code, exc.message)
                ended.append(stream)
                continue
            if community is not None and found.community.community != community:
                continue
            if not found.decision:
                self._end(conn, stream, ErrorCode.FORBIDDEN, found.decision.reason)
                ended.append(stream)
        return ended

    def _end(self, conn: Connection, stream: str, code: ErrorCode, reason: str) -> None:
        self.hub.unsubscribe(stream, conn)
        told = not conn.syncing(stream)  # while syncing, its sync says so instead
        conn.forget(stream)
        log.info("%s may no longer read %s: %s", conn.peer, stream, reason)
        if told:
            conn.push(encode(Unsubscribed(stream=stream, code=code, message=reason)))
