"""Presence changes of a room, coalesced into one append per tick.

Presence is not chat history: when 2,000 people join a room, appending (and
fanning out) one ``member_joined`` each would send every joiner's event to
everyone already there, N²/2 frames. Here every join, leave and expiry of a
room waits for the room's next flush instead: the first change after a quiet
spell is flushed at once (a lone join costs no extra latency), later ones are
gathered until ``tick_s`` after the previous flush began, then decided
together against the fold (:func:`server.domain.room.decide_presence`) and
appended as one event. One flush per room runs at a time, so each decision
sees the previous flush's result. Every caller gets the seq of the event that
carried its change (None when its change changed nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from .domain import room as room_fold
from .domain.events import EventBody, room_stream
from .domain.room import PresenceChange, RoomState

Append = Callable[[str, list[EventBody]], Awaitable[int]]
"""Append bodies to a stream durably; returns the last seq."""


class PresenceBatcher:
    def __init__(self, fold: Callable[[str], Awaitable[RoomState]], append: Append,
                 *, tick_s: float) -> None:
        self._fold, self._append, self.tick_s = fold, append, tick_s
        self._pending: dict[str, dict[str, PresenceChange]] = {}
        self._waiters: dict[str, list[asyncio.Future[int | None]]] = {}
        self._last_flush: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self.appends = 0
        """Presence events appended by this process (for tests and benchmarks)."""

    async def change(self, room: str, member: str, change: PresenceChange) -> int | None:
        """Make ``member``'s presence in ``room`` ``change`` in the next flush."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # seen if awaited
        self._pending.setdefault(room, {})[member] = change
        self._waiters.setdefault(room, []).append(future)
        if room not in self._running:
            self._running[room] = asyncio.ensure_future(self._run(room))
        return await asyncio.shield(future)

    async def _run(self, room: str) -> None:
        try:
            while self._pending.get(room):
                wait = self._last_flush.get(room, -self.tick_s) + self.tick_s - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last_flush[room] = time.monotonic()
                await self._flush(room)
        finally:
            self._running.pop(room, None)
            if self._pending.get(room):  # cancelled with work left: fail it, do not hang
                self._fail(room, self._waiters.pop(room, []), RuntimeError("shutting down"))
                self._pending.pop(room, None)

    async def _flush(self, room: str) -> None:
        changes = self._pending.pop(room)
        waiters = self._waiters.pop(room, [])
        try:
            state = await self._fold(room)
            bodies = room_fold.decide_presence(state, changes)
            seq = await self._append(room_stream(room), bodies) if bodies else None
            if bodies:
                self.appends += 1
        except BaseException as exc:
            self._fail(room, waiters, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for future in waiters:
            if not future.done():
                future.set_result(seq)

    @staticmethod
    def _fail(room: str, waiters: list[asyncio.Future[int | None]],
              exc: BaseException) -> None:
        for future in waiters:
            if not future.done():
                future.set_exception(exc if isinstance(exc, Exception)
                                     else RuntimeError(f"presence flush of {room} stopped"))

    async def settle(self) -> None:
        """Wait for the flushes under way (at shutdown, before the store closes)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the flushes; changes still waiting fail (a task cancelled before it ran
        never reaches its ``finally``)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._running.clear()
        for room in list(self._pending):
            self._fail(room, self._waiters.pop(room, []), RuntimeError("shutting down"))
        self._pending.clear()
