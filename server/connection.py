"""One websocket's server-side session: its send queue and its place in each stream.

``deliver`` is called by the hub for every committed event of a subscribed
stream and never blocks. The connection keeps a cursor (last seq sent) per
stream, so it sends each event exactly once and in order: older or repeated
seqs are dropped, and a gap (possible when notifications cross processes)
is filled from the store before anything newer goes out. While a stream is
being synced (snapshot or replay), live events are buffered, then released.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .authority import Principal
from .domain.room import Member
from .errors import CloseCode, ConnectionClosing
from .ratelimit import TokenBucket
from .wire import DirectWriter

log = logging.getLogger("practica.connection")

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
CatchUp = Callable[[str, int], Awaitable[list[tuple[int, str]]]]


class Connection:
    # Thousands of these live at once: no per-instance __dict__ (see bench/join.py's memory).
    __slots__ = ("__weakref__", "_buffers", "_catch_up", "_closed", "_direct", "_finished",
                 "_is_closed", "_own_sender", "_send", "_sender", "_sending", "_syncing", "_tasks",
                 "_wake",
                 "bucket", "closing", "community", "cursors", "eager", "invalid_frames",
                 "listening", "member", "peer", "principal", "queue", "queue_limit", "rooms")

    def __init__(
        self, send: ASGISend, *, queue_limit: int, catch_up: CatchUp, bucket: TokenBucket,
        peer: str = "", eager: bool = False, principal: Principal | None = None,
        direct: DirectWriter | None = None, own_sender: bool = False,
    ) -> None:
        self._send = send
        self.eager = eager
        self._direct = direct
        """Writes prebuilt fan-out frames straight to the transport (see server.wire)."""
        self.queue_limit = queue_limit
        self._catch_up = catch_up
        self.bucket = bucket
        self.peer = peer
        # Made when first needed: most connections never queue a frame (eager sends) and
        # thousands of idle ones should cost as little as possible.
        self.queue: deque[str] | tuple[()] = ()
        self._wake: asyncio.Event | None = None
        self.cursors: dict[str, int] = {}
        self.listening: set[str] = set()
        """Streams opened by a ``follow`` only (a transcript or artefact page, a Schedule):
        their events come, but no relay (typing, off the record, breakout talk,
        signalling): those reach who entered the room or attends the session."""
        self._buffers: dict[str, list[tuple[int, str]]] = {}
        self._syncing: set[str] = set()
        self.principal = principal
        # Who signed in, from the upgrade's session cookie.
        self.member: Member | None = None
        self.community: str | None = None
        # The community entered with ``identify``/``resume``.
        self.rooms: set[str] = set()
        self.closing: ConnectionClosing | None = None
        self._closed: asyncio.Event | None = None
        self._is_closed = False
        self.invalid_frames = 0
        self._tasks: set[asyncio.Task[None]] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._own_sender = own_sender
        """Start the sender task only once a frame must wait (or the socket closes): with
        eager sends most connections never need one, and an idle task costs memory."""
        self._finished: asyncio.Future[None] | None = None
        self._sending = False

    # --- outgoing ------------------------------------------------------------------

    def push(self, frame: str, wire: bytes | None = None) -> None:
        """Queue a frame; a full queue means the client is too slow: drop it. ``wire`` is
        the same frame as websocket bytes, built once for every receiver of an event."""
        if self.closing is not None:
            return
        if self.eager and not self.queue and not self._sending:
            if wire is not None and self._direct is not None:
                if self._direct.write(wire):
                    return
            elif self._send_now(frame):
                return
        if len(self.queue) >= self.queue_limit:
            self.close(CloseCode.SLOW_CONSUMER, "send queue overflow; reconnect and resume")
            return
        if not isinstance(self.queue, deque):
            self.queue = deque()
        self.queue.append(frame)
        if self._wake is not None:
            self._wake.set()
        self._need_sender()

    def _need_sender(self) -> None:
        if self._own_sender and self._sender is None:
            self._sender = asyncio.ensure_future(self.run_sender())

    @property
    def closed(self) -> asyncio.Event:
        """Set once the sender has closed the socket."""
        if self._closed is None:
            self._closed = asyncio.Event()
            if self._is_closed:
                self._closed.set()
        return self._closed

    @property
    def sender(self) -> asyncio.Task[None] | None:
        return self._sender

    def finished(self) -> asyncio.Future[None]:
        """Resolved when the sender has closed the socket (a future, not a task to wait)."""
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
            if self._is_closed:
                self._finished.set_result(None)
        return self._finished

    async def push_paced(self, frames: Iterable[str], within_s: float) -> None:
        """Queue many frames (a long replay) without overflowing the send queue: wait
        while it is half full. A client that reads none of it within ``within_s`` is slow.
        Polling keeps the sender's hot path free of bookkeeping for this rare case."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        for frame in frames:
            while len(self.queue) >= self.queue_limit // 2 and self.closing is None:
                if loop.time() > deadline:
                    self.close(CloseCode.SLOW_CONSUMER, "did not read the replay in time")
                    return
                await asyncio.sleep(0.01)
            self.push(frame)

    def _send_now(self, frame: str) -> bool:
        """Write ``frame`` without a task switch, if the transport can take it right now.

        Drives the ASGI send coroutine by hand: uvicorn's websockets-sansio send either
        completes at once (the transport is writable) or suspends before writing
        anything, in which case it is closed unsent and the frame is queued instead.
        This is what makes fan-out cost one write per subscriber, like broadcast().
        """
        step = self._send({"type": "websocket.send", "text": frame})
        try:
            step.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return True
        except Exception:  # the peer is gone; the receive side will notice and clean up
            log.debug("eager send to %s failed", self.peer, exc_info=True)
            return True
        step.close()  # type: ignore[attr-defined]
        return False

    def deliver(self, stream: str, seq: int, frame: str, wire: bytes | None = None) -> None:
        buffer = self._buffers.get(stream)
        if buffer is not None:
            if len(buffer) >= self.queue_limit:
                self.close(CloseCode.SLOW_CONSUMER, "too far behind while syncing")
            else:
                buffer.append((seq, frame))
            return
        cursor = self.cursors.get(stream)
        if cursor is None or seq <= cursor:
            return
        if seq > cursor + 1:
            self._buffers[stream] = [(seq, frame)]
            self._spawn(self._fill_gap(stream))
            return
        self.cursors[stream] = seq
        self.push(frame, wire)

    def begin_sync(self, stream: str) -> None:
        """Buffer live events of ``stream`` until :meth:`end_sync`."""
        self._buffers[stream] = []
        self._syncing.add(stream)

    def end_sync(self, stream: str, seq: int) -> None:
        """The client now has ``stream`` up to ``seq``; release what arrived meanwhile."""
        self._syncing.discard(stream)
        buffered = self._buffers.pop(stream, [])
        self.cursors[stream] = seq
        for event_seq, frame in sorted(buffered, key=lambda item: item[0]):
            self.deliver(stream, event_seq, frame)

    def syncing(self, stream: str) -> bool:
        """Between :meth:`begin_sync` and :meth:`end_sync` (its snapshot not yet sent)."""
        return stream in self._syncing

    def streams(self) -> list[str]:
        """Every stream this connection follows or is syncing."""
        return list({**dict.fromkeys(self.cursors), **dict.fromkeys(self._buffers)})

    def forget(self, stream: str) -> None:
        self.cursors.pop(stream, None)
        self.listening.discard(stream)
        self._buffers.pop(stream, None)
        self._syncing.discard(stream)

    async def _fill_gap(self, stream: str) -> None:
        try:
            missing = await self._catch_up(stream, self.cursors.get(stream, 0))
        except Exception:
            log.exception("catching up %s failed", stream)
            self.close(CloseCode.INTERNAL_ERROR, "could not catch up; reconnect and resume")
            return
        if stream not in self._buffers:  # unsubscribed meanwhile
            return
        self._buffers[stream].extend(missing)
        self.end_sync(stream, self.cursors.get(stream, 0))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- closing -------------------------------------------------------------------

    def close(self, code: CloseCode, reason: str) -> None:
        """Close soon: the sender stops sending and closes the socket with ``code``."""
        if self.closing is None:
            self.closing = ConnectionClosing(code, reason)
            log.info("closing %s: %s (%s)", self.peer, code.name, reason)
            if self._wake is not None:
                self._wake.set()
            self._need_sender()
            if code == CloseCode.SLOW_CONSUMER and self._sending and self._sender is not None:
                # The transport is full and the peer is not reading: stop waiting on it.
                self._sender.cancel()

    async def run_sender(self, close_timeout: float = 1.0) -> None:
        """Drain the queue onto the socket until the connection closes."""
        if not isinstance(self.queue, deque):
            self.queue = deque()
        if self._wake is None:
            self._wake = asyncio.Event()
        send, queue, wake = self._send, self.queue, self._wake
        self._sender = asyncio.current_task()
        try:
            try:
                while self.closing is None:
                    if not queue:
                        wake.clear()
                        await wake.wait()
                        continue
                    frame = queue.popleft()
                    self._sending = True
                    await send({"type": "websocket.send", "text": frame})
                    self._sending = False
            except asyncio.CancelledError:
                if self.closing is None or self.closing.code != CloseCode.SLOW_CONSUMER:
                    raise
            closing = self.closing
            # A peer that does not read may never take the close frame either.
            await asyncio.wait_for(send({"type": "websocket.close", "code": int(closing.code),
                                         "reason": closing.reason[:120]}), close_timeout)
        except Exception:  # the peer went away mid-send: nothing left to tell it
            log.debug("sender for %s stopped", self.peer, exc_info=True)
        finally:
            self._is_closed = True
            if self._closed is not None:
                self._closed.set()
            if self._finished is not None and not self._finished.done():
                self._finished.set_result(None)
            for task in self._tasks or ():
                task.cancel()
