"""The projector: keeps one projection up to date from committed events, apart from them.

It knows, per stream, the newest seq committed (``heads``: from this process's commits,
other processes' announcements, and a poll of the store) and the last seq applied
(``cursors``, stored with the rows). Whatever is between is applied in transactions of
the projector's own (``store.transact``), never in a group commit, so a projection's
failure cannot fail anyone's append. A stream whose apply fails keeps its cursor and is
retried with backoff (1 s doubling to a minute), apart from the other streams; ``lag``
and ``failing`` say how far behind the projection is, for ``/healthz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence

from ..domain.events import Event
from ..store import EventStore
from . import Projection, Statement

log = logging.getLogger("practica.projections")

PAGE = 1000
RETRY_S = 1.0
RETRY_MAX_S = 60.0
POLL_S = 5.0
"""How often the store's heads are read, for commits no announcement told of."""
RECONCILE_S = 60.0
"""How often a running projector looks for bodies erased behind its cursor."""


class Projector:
    def __init__(self, store: EventStore, projection: Projection, *,
                 reconcile_s: float = RECONCILE_S, poll_s: float = POLL_S) -> None:
        self.store, self.projection = store, projection
        self.reconcile_s, self.poll_s = reconcile_s, poll_s
        self.cursors: dict[str, int] = {}
        """The last seq applied, per stream (as stored in ``projection_cursors``)."""
        self.heads: dict[str, int] = {}
        """The newest seq known to be committed, per stream."""
        self._heard: dict[str, list[Event]] = {}
        """Events heard of and not applied yet: applied without reading them back."""
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        """Streams whose last apply failed, and when to try again (loop time)."""
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        """Set once the start's catch-up is done (or all that is left of it is failing)."""
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def lag(self) -> int:
        """Committed events not applied yet (as far as this process knows)."""
        return sum(max(0, head - self.cursors.get(stream, 0))
                   for stream, head in self.heads.items())

    @property
    def failing(self) -> int:
        """Streams whose last apply failed (retried with backoff)."""
        return len(self._retry_at)

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
                self._heard.setdefault(event.stream, []).append(event)
                self._saw(event.stream, event.seq)

    def notify(self, stream: str, seq: int) -> None:
        """Another process committed ``stream`` up to ``seq`` (its announcement)."""
        if stream.startswith(self.projection.prefix):
            self._saw(stream, seq)

    def _saw(self, stream: str, seq: int) -> None:
        if seq > self.heads.get(stream, 0):
            self.heads[stream] = seq
            self._wake.set()

    async def settle(self) -> None:
        """Wait until every commit known of so far is applied (and the start's catch-up),
        except on streams that are failing: lets a reader see its own writes, however
        busy the stream. Callers bound the wait."""
        if self._task is None or self._task.done():
            return
        await self._ready.wait()
        target = dict(self.heads)
        async with self._progress:
            await self._progress.wait_for(lambda: all(
                self.cursors.get(stream, 0) >= seq or stream in self._retry_at
                for stream, seq in target.items()))

    # --- the worker --------------------------------------------------------------

    async def _load_cursors(self) -> None:
        rows = await self.store.fetch(
            "SELECT stream, seq FROM projection_cursors WHERE projection = ?", (self.name,))
        self.cursors = {str(stream): int(seq) for stream, seq in rows}

    async def _poll(self) -> None:
        for stream, seq in (await self.store.heads(self.projection.prefix)).items():
            self._saw(stream, seq)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        await self._load_cursors_retrying()
        poll_at = reconcile_at = loop.time()
        while True:
            self._wake.clear()  # what it told of is looked at below
            now = loop.time()
            if now >= poll_at:
                with contextlib.suppress(Exception):  # the store is down: try again later
                    await self._poll()
                poll_at = now + self.poll_s
            due = self._due(now)
            if due:
                await self._apply_streams(due)
                continue
            if not self._ready.is_set():
                await self._reconcile_quietly()  # erased while the server was down
                reconcile_at = loop.time() + self.reconcile_s
                self._ready.set()
            elif now >= reconcile_at:  # erasures are rare and cheap to look for
                await self._reconcile_quietly()
                reconcile_at = loop.time() + self.reconcile_s
            wake_at = min(poll_at, reconcile_at, *self._retry_at.values())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, wake_at - loop.time())):
                    await self._wake.wait()

    def _due(self, now: float) -> list[str]:
        for stream, at in list(self._retry_at.items()):
            if at <= now and self.heads.get(stream, 0) <= self.cursors.get(stream, 0):
                del self._retry_at[stream]  # nothing left to retry
        return [stream for stream, head in self.heads.items()
                if head > self.cursors.get(stream, 0)
                and self._retry_at.get(stream, 0.0) <= now]

    async def _load_cursors_retrying(self) -> None:
        failures = 0
        while True:
            try:
                await self._load_cursors()
                return
            except Exception:
                failures += 1
                log.exception("projection %s could not read its cursors; will retry", self.name)
                await asyncio.sleep(min(RETRY_S * 2 ** (failures - 1), RETRY_MAX_S))

    async def _apply_streams(self, streams: list[str]) -> None:
        """Apply the next events of ``streams``: all in one transaction; if that fails,
        each stream in its own, so one failing stream holds back only itself."""
        runs: dict[str, list[Event]] = {}
        for stream in streams:
            try:
                events = await self._next_events(stream)
            except Exception:
                self._failed(stream)
                continue
            if events:
                runs[stream] = events
            else:  # nothing after the cursor after all (a head heard of too eagerly)
                self.heads[stream] = self.cursors.get(stream, 0)
        try:
            await self._write(runs)
        except Exception:
            if len(runs) == 1:
                self._failed(next(iter(runs)))
            else:
                for stream, events in runs.items():
                    try:
                        await self._write({stream: events})
                    except Exception:
                        self._failed(stream)
        async with self._progress:
            self._progress.notify_all()

    async def _next_events(self, stream: str) -> list[Event]:
        """The events after the cursor: those heard of if they follow it without a gap,
        else read from the stream (a commit not heard of, or a retry after a failure)."""
        have = self.cursors.get(stream, 0)
        heard = [e for e in self._heard.pop(stream, []) if e.seq > have]
        if heard and heard[0].seq == have + 1 and all(
                b.seq == a.seq + 1 for a, b in itertools.pairwise(heard)):
            return heard
        return await self.store.read(stream, after=have, limit=PAGE)

    def _statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        statements = self.projection.statements(stream, events)
        statements.append((
            "INSERT INTO projection_cursors (projection, stream, seq) VALUES (?, ?, ?)"
            " ON CONFLICT (projection, stream) DO UPDATE SET seq = excluded.seq"
            " WHERE excluded.seq > projection_cursors.seq", (self.name, stream, events[-1].seq)))
        return statements

    async def _write(self, runs: dict[str, list[Event]]) -> None:
        statements: list[Statement] = []
        for stream, events in runs.items():
            statements += self._statements(stream, events)
        if statements:
            await self.store.transact(statements)
        for stream, events in runs.items():
            self.cursors[stream] = max(self.cursors.get(stream, 0), events[-1].seq)
            self._saw(stream, events[-1].seq)
            if self._retry_at.pop(stream, None) is not None:
                log.info("projection %s applies %s again", self.name, stream)
            self._failures.pop(stream, None)

    def _failed(self, stream: str) -> None:
        """Keep the cursor; try again later, backing off (the next start would too)."""
        failures = self._failures[stream] = self._failures.get(stream, 0) + 1
        wait = min(RETRY_S * 2 ** (failures - 1), RETRY_MAX_S)
        self._retry_at[stream] = asyncio.get_running_loop().time() + wait
        self._heard.pop(stream, None)  # read back from the store when retried
        log.error("projection %s could not apply %s after seq %d (failure %d); will retry"
                  " in %.0fs", self.name, stream, self.cursors.get(stream, 0), failures,
                  wait, exc_info=failures == 1 or failures % 10 == 0)

    async def _reconcile_quietly(self) -> None:
        try:
            await self.projection.reconcile(self.store)
        except Exception:
            log.exception("projection %s could not look for erasures", self.name)

    # --- catching up at once (rebuild) -------------------------------------------

    async def catch_up(self) -> int:
        """Apply every committed event after the cursors now; how many were applied.
        Raises on the first failure (``practica rebuild`` says so and exits)."""
        await self._load_cursors()
        applied = 0
        for stream in await self.store.streams(self.projection.prefix):
            while events := await self.store.read(stream, after=self.cursors.get(stream, 0),
                                                  limit=PAGE):
                await self._write({stream: events})
                applied += len(events)
        if applied:
            log.info("projection %s caught up %d events", self.name, applied)
        return applied

    async def rebuild(self) -> int:
        """Drop the projection's rows and cursors and apply every stream from the start."""
        await self.store.transact([*self.projection.reset(), (
            "DELETE FROM projection_cursors WHERE projection = ?", (self.name,))])
        self.cursors = {}
        applied = await self.catch_up()
        await self.projection.reconcile(self.store)
        return applied


class Projections:
    """Every projection of a process, fed by one commit listener."""

    def __init__(self, store: EventStore, projections: Sequence[Projection], *,
                 reconcile_s: float = RECONCILE_S, poll_s: float = POLL_S) -> None:
        self.projectors = {p.name: Projector(store, p, reconcile_s=reconcile_s, poll_s=poll_s)
                           for p in projections}
        store.on_commit(self.listen)

    def listen(self, events: list[Event]) -> None:
        for projector in self.projectors.values():
            projector.listen(events)

    def notify(self, stream: str, seq: int) -> None:
        for projector in self.projectors.values():
            projector.notify(stream, seq)

    async def start(self) -> None:
        for projector in self.projectors.values():
            await projector.start()

    async def stop(self) -> None:
        for projector in self.projectors.values():
            await projector.stop()

    def __getitem__(self, name: str) -> Projector:
        return self.projectors[name]
