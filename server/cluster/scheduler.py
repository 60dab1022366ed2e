"""Server-kept deadlines fire exactly once, whichever process is alive to fire them.

For each stream of each :class:`~server.domain.deadlines.TimedKind`, the process
holding the stream's deadline lease (the janitor's mechanism, :mod:`server.cluster.lease`:
every process on SQLite, one at a time with Redis) reads the stream's new
events from the store, folds them, and appends what is due under the
deadline's command key. The store applies a command key once, in the append's
own transaction, so a lease that moves in the middle of a firing (a holder
paused or killed, its lease lapsed) cannot fire a deadline twice, and a
deadline that passed while every process was down fires on the first sweep
after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ..domain.deadlines import TIMED_KINDS, TIMER_ACTOR, TimedKind, timer_ref
from ..errors import StaleState
from ..store import CommandKey, EventStore
from . import periodic
from .lease import Leases

log = logging.getLogger("practica.scheduler")

READ_BATCH = 1000


def lease_of(stream: str) -> str:
    """The lease for a stream's deadlines: its own, not the janitor's room lease, which
    only a process following the room renews (one holding it for deadlines alone would
    keep that room's presence from ever being swept)."""
    return f"deadlines:{stream}"


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class Scheduler:
    def __init__(self, store: EventStore, leases: Leases, kinds: list[TimedKind] | None = None,
                 *, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.store, self.leases = store, leases
        self.kinds: list[TimedKind] = list(TIMED_KINDS if kinds is None else kinds)
        """The registered kinds (:data:`TIMED_KINDS`) unless given; tests may add one to a
        running server."""
        self.clock = clock
        self._states: dict[str, tuple[int, Any]] = {}
        """Per stream: the seq folded up to, and the state there."""
        self._task: asyncio.Task[None] | None = None
        self.fired = 0
        """Deadlines this process fired (duplicates not counted)."""

    async def sweep_once(self) -> int:
        """Fire what is due in the streams whose lease this process holds; how many fired."""
        fired = 0
        for kind in list(self.kinds):
            for stream in await self.store.streams(kind.prefix):
                known = self._states.get(stream)
                if known is not None and kind.finished(known[1]):
                    continue  # nothing will ever be due there again
                if await self.leases.hold(lease_of(stream)):
                    fired += await self._fire_due(kind, stream)
        return fired

    async def _fire_due(self, kind: TimedKind, stream: str) -> int:
        state = await self._current(kind, stream)
        expected = self._states[stream][0]
        fired = 0
        for due in kind.due(state, self.clock()):
            key = CommandKey(TIMER_ACTOR, timer_ref(stream, due.deadline))
            try:  # decided on the stream at ``expected``: a command since then wins
                if due.also:
                    result = (await self.store.append_all(
                        [(stream, due.bodies, expected),
                         *((other, bodies, 0) for other, bodies in due.also)],
                        TIMER_ACTOR, key))[0]
                else:
                    result = await self.store.append(stream, TIMER_ACTOR, due.bodies, key,
                                                     expected=expected)
            except StaleState:
                log.info("%s moved on before deadline %s fired; the next sweep decides again",
                         stream, due.deadline)
                break
            expected = result.seq
            if result.duplicate:  # fired before (by us or another process): not again
                log.info("deadline %s of %s had already fired", due.deadline, stream)
                continue
            fired += 1
            log.info("deadline %s of %s fired at seq %d", due.deadline, stream, result.seq)
        self.fired += fired
        return fired

    async def _current(self, kind: TimedKind, stream: str) -> Any:
        """The stream's state folded from the store up to its head now: a process that
        just took the lease decides on what its predecessor did, not on a stale view."""
        seq, state = self._states.get(stream) or (0, kind.initial())
        while True:
            events = await self.store.read(stream, after=seq, limit=READ_BATCH)
            if not events:
                break
            state = kind.fold(state, events)
            seq = events[-1].seq
        self._states[stream] = (seq, state)
        return state

    def start(self, interval_s: float) -> None:
        async def sweep() -> None:
            await self.sweep_once()

        self._task = periodic.every(interval_s, sweep, log, "deadline sweep")

    async def stop(self) -> None:
        await periodic.stop(self._task)
        self._task = None
