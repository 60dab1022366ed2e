"""Projections: read models kept from committed events, rebuildable from the streams.

A :class:`Projection` says which streams it reads and turns a run of a stream's events
into statements on its own tables (pure). A :class:`Projector` keeps one projection up
to date: it remembers per stream the last seq applied (``projection_cursors``, written
in the same transaction as the projection's rows), catches up from there on start,
follows commits through the store's ``on_commit`` listeners, and fills any gap (a commit
it did not hear of) by reading the stream. Applying an event twice changes nothing, so
two processes keeping the same tables (PostgreSQL) need no coordination.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from ..domain.events import Event
from ..store import EventStore

log = logging.getLogger("practica.projections")

Statement = tuple[str, tuple[Any, ...]]
PAGE = 1000
RETRY_S = 1.0
RETRY_MAX_S = 60.0
RECONCILE_S = 60.0
"""How often a running projector looks for bodies erased behind its cursor."""


class Projection(Protocol):
    name: str
    prefix: str
    """The streams it reads: every stream whose name starts with this."""

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        """What applying ``events`` (in seq order, after the cursor) writes. Pure."""

    def reset(self) -> list[Statement]:
        """Empty the projection's tables (before a rebuild)."""

    async def reconcile(self, store: EventStore) -> int:
        """Repair what changed behind the cursor (erased bodies); how many rows changed."""


class Projector:
    def __init__(self, store: EventStore, projection: Projection, *,
                 reconcile_s: float = RECONCILE_S) -> None:
        self.store, self.projection = store, projection
        self.reconcile_s = reconcile_s
        self.cursors: dict[str, int] = {}
        self._pending: dict[str, list[Event]] = {}
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        """Set once the start's catch-up is done."""
        self._heard = 0
        """Commit notices received so far, counted; ``_applied``: how many are applied."""
        self._applied = 0
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """In the background: catch up from the cursors (the server may have stopped
        before applying its last commits), repair erasures, then follow commits. A first
        start over a long history does not hold up serving; readers :meth:`settle`."""
        self._ready.clear()
        self._task = asyncio.create_task(self._run(), name=f"projection:{self.name}")

    async def stop(self) -> None:
        """Apply what is pending (best effort), then stop following."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.settle()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def listen(self, events: list[Event]) -> None:
        """The store's on_commit listener: note what to apply; the worker applies it."""
        prefix = self.projection.prefix
        for event in events:
            if event.stream.startswith(prefix):
                self._pending.setdefault(event.stream, []).append(event)
                self._wake.set()
        self._heard += 1

    async def settle(self) -> None:
        """Wait until every commit heard of so far is applied (and the start's catch-up):
        lets a reader see its own writes, however busy the stream. Callers bound the wait."""
        if self._task is None or self._task.done():
            return
        target = self._heard
        await self._ready.wait()
        async with self._progress:
            await self._progress.wait_for(lambda: self._applied >= target)

    # --- applying ----------------------------------------------------------------

    async def _load_cursors(self) -> None:
        rows = await self.store.fetch(
            "SELECT stream, seq FROM projection_cursors WHERE projection = ?", (self.name,))
        self.cursors = {str(stream): int(seq) for stream, seq in rows}

    async def catch_up(self) -> int:
        """Apply every committed event after the cursors; how many were applied."""
        await self._load_cursors()
        applied = 0
        for stream in await self.store.streams(self.projection.prefix):
            applied += await self._catch_up_stream(stream)
        if applied:
            log.info("projection %s caught up %d events", self.name, applied)
        return applied

    async def _catch_up_stream(self, stream: str) -> int:
        applied = 0
        while True:
            events = await self.store.read(stream, after=self.cursors.get(stream, 0),
                                           limit=PAGE)
            if not events:
                return applied
            await self._apply(stream, events)
            applied += len(events)

    def _statements(self, stream: str, events: list[Event]) -> list[Statement]:
        statements = self.projection.statements(stream, events)
        statements.append((
            "INSERT INTO projection_cursors (projection, stream, seq) VALUES (?, ?, ?)"
            " ON CONFLICT (projection, stream) DO UPDATE SET seq = excluded.seq"
            " WHERE excluded.seq > projection_cursors.seq", (self.name, stream, events[-1].seq)))
        return statements

    def _advance(self, stream: str, seq: int) -> None:
        self.cursors[stream] = max(self.cursors.get(stream, 0), seq)

    async def _apply(self, stream: str, events: list[Event]) -> None:
        await self.store.execute(self._statements(stream, events))
        self._advance(stream, events[-1].seq)

    async def _apply_heard(self, pending: dict[str, list[Event]]) -> None:
        """Apply what commits told of, every stream in one transaction; a stream with a
        gap (a commit not heard of, or a retry after a failure) is read from its cursor."""
        statements: list[Statement] = []
        heads: dict[str, int] = {}
        behind: list[str] = []
        for stream, events in pending.items():
            have = self.cursors.get(stream, 0)
            fresh = [e for e in events if e.seq > have]
            if not events or (fresh and (fresh[0].seq != have + 1 or any(
                    b.seq != a.seq + 1 for a, b in itertools.pairwise(fresh)))):
                behind.append(stream)
            elif fresh:
                statements += self._statements(stream, fresh)
                heads[stream] = fresh[-1].seq
        if statements:
            await self.store.execute(statements)
            for stream, seq in heads.items():
                self._advance(stream, seq)
        for stream in behind:
            await self._catch_up_stream(stream)

    async def _start_up(self) -> None:
        failures = 0
        while True:
            try:
                await self.catch_up()
                await self.projection.reconcile(self.store)
                return
            except Exception:
                failures += 1
                log.exception("projection %s could not catch up; will retry", self.name)
                await asyncio.sleep(min(RETRY_S * 2 ** (failures - 1), RETRY_MAX_S))

    async def _run(self) -> None:
        await self._start_up()
        self._ready.set()
        loop = asyncio.get_running_loop()
        failures = 0
        reconcile_at = loop.time() + self.reconcile_s
        while True:
            if loop.time() >= reconcile_at:  # erasures are rare and cheap to look for
                await self._reconcile_quietly()
                reconcile_at = loop.time() + self.reconcile_s
            if not self._pending:
                await self._applied_up_to(self._heard)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, reconcile_at - loop.time())):
                        await self._wake.wait()
                if not self._pending:
                    continue
            self._wake.clear()
            pending, self._pending = self._pending, {}
            heard = self._heard
            try:
                await self._apply_heard(pending)
                failures = 0
                await self._applied_up_to(heard)
            except Exception:
                # No cursor moved past what was written: retry these streams from their
                # cursors (the next start would too), backing off, since the projection's
                # writes share the store's group commits with everyone's appends.
                failures += 1
                log.exception("projection %s could not apply %d streams; will retry",
                              self.name, len(pending))
                for stream in pending:
                    self._pending.setdefault(stream, [])
                await asyncio.sleep(min(RETRY_S * 2 ** (failures - 1), RETRY_MAX_S))

    async def _applied_up_to(self, heard: int) -> None:
        if heard > self._applied:
            self._applied = heard
            async with self._progress:
                self._progress.notify_all()

    async def _reconcile_quietly(self) -> None:
        try:
            await self.projection.reconcile(self.store)
        except Exception:
            log.exception("projection %s could not look for erasures", self.name)

    async def rebuild(self) -> int:
        """Drop the projection's rows and cursors and apply every stream from the start."""
        await self.store.execute([*self.projection.reset(), (
            "DELETE FROM projection_cursors WHERE projection = ?", (self.name,))])
        self.cursors = {}
        applied = await self.catch_up()
        await self.projection.reconcile(self.store)
        return applied


class Projections:
    """Every projection of a process, fed by one commit listener."""

    def __init__(self, store: EventStore, projections: Sequence[Projection], *,
                 reconcile_s: float = RECONCILE_S) -> None:
        self.projectors = {p.name: Projector(store, p, reconcile_s=reconcile_s)
                           for p in projections}
        store.on_commit(self.listen)

    def listen(self, events: list[Event]) -> None:
        for projector in self.projectors.values():
            projector.listen(events)

    async def start(self) -> None:
        for projector in self.projectors.values():
            await projector.start()

    async def stop(self) -> None:
        for projector in self.projectors.values():
            await projector.stop()

    def __getitem__(self, name: str) -> Projector:
        return self.projectors[name]
