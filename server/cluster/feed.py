"""Where committed events enter this process: local commits and other processes' news.

Every event this process learns of goes through :meth:`Feed.deliver`, in
seq order per stream: first into the folds (so snapshots are current), then
to the hub (fan-out). Local commits arrive from the store's commit listener;
another process's commits are announced on the bus as "stream S has events
up to seq N" and fetched from the store here. Announcements can be lost
(at-most-once), so a periodic poll compares the store's heads with what this
process has, and any gap is filled from the store: no event is skipped,
and repeats are dropped by seq. While the bus is down (Redis unreachable)
that poll is the only way news from other processes arrives, so it runs
faster then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..domain.events import Event
from ..folds import Folds
from ..hub import LocalHub
from ..store import EventStore
from ..streams import ROOT

log = logging.getLogger("practica.feed")

READ_PAGE = 1000


class Feed:
    def __init__(self, store: EventStore, folds: Folds, hub: LocalHub) -> None:
        self.store, self.folds, self.hub = store, folds, hub
        self._wanted: dict[str, int] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._unfolded: dict[str, int] = {}
        """Streams without a fold (the audit log) that sockets here follow: the last seq
        handed to the hub."""
        folds.on_gap = self.notify

    def deliver(self, events: list[Event]) -> None:
        """Store commit listener (and the end of every fetch): folds first, then fan-out."""
        self.folds.on_commit(events)
        self.hub.publish(events)
        for event in events:
            if self._unfolded.get(event.stream, event.seq) < event.seq:
                self._unfolded[event.stream] = event.seq

    def _have(self, stream: str, announced: int | None = None) -> int | None:
        """How far this process has ``stream``; None if nobody here follows it."""
        have = self.folds.seq_of(stream)
        if have is not None:
            return have
        if not self.hub.subscribers(stream):
            self._unfolded.pop(stream, None)
            return None
        if stream not in self._unfolded and announced is not None:
            # Start at the news: each socket fills anything older from the store itself.
            self._unfolded[stream] = announced - 1
        return self._unfolded.get(stream)

    def notify(self, stream: str, seq: int) -> None:
        """Stream ``stream`` has events up to ``seq``; fetch what this process lacks."""
        have = self._have(stream, seq)
        if have is None or seq <= have:
            return
        self._wanted[stream] = max(seq, self._wanted.get(stream, 0))
        if stream not in self._running:
            task = asyncio.get_running_loop().create_task(self._catch_up(stream))
            self._running[stream] = task

    async def _catch_up(self, stream: str) -> None:
        try:
            if not stream.startswith(ROOT.prefix):
                # Who may read a stream is decided by its community's fold: bring communities
                # being fetched up to date first, so another process's removal of a member
                # is folded (and their subscriptions ended) before the stream's next events.
                pending = [task for name, task in self._running.items()
                           if name.startswith(ROOT.prefix)]
                if pending:
                    await asyncio.wait(pending)
            while True:
                have = self._have(stream)
                if have is None or have >= self._wanted.get(stream, 0):
                    return
                events = await self.store.read(stream, after=have, limit=READ_PAGE)
                if not events:
                    return
                self.deliver(events)
        except Exception:
            log.exception("catching up %s failed; the next poll retries", stream)
        finally:
            self._running.pop(stream, None)
            self._wanted.pop(stream, None)

    async def sync(self, stream: str) -> None:
        """Bring this process's fold of ``stream`` up to the store's head, now."""
        self.notify(stream, await self.store.head(stream))
        running = self._running.get(stream)
        if running is not None:
            await asyncio.shield(running)

    async def poll_once(self) -> None:
        """Compare every followed stream's head in the store with ours (lost announcements)."""
        for stream in [*self.folds.followed(), *self._unfolded]:
            head = await self.store.head(stream)
            self.notify(stream, head)

    def start_polling(self, interval_s: float, *, degraded_interval_s: float = 0.1,
                      degraded: Callable[[], bool] = lambda: False) -> None:
        """Poll every ``interval_s``; every ``degraded_interval_s`` while ``degraded()``."""

        async def loop() -> None:
            failing = False
            while True:
                await asyncio.sleep(degraded_interval_s if degraded() else interval_s)
                try:
                    await self.poll_once()
                except Exception as exc:  # the store may be down too; the next poll retries
                    if not failing:  # once per outage, not every poll
                        log.warning("feed poll failed (retrying until it works): %s", exc)
                    failing = True
                else:
                    failing = False

        self._poller = asyncio.get_running_loop().create_task(loop(), name="feed poll")

    async def stop(self) -> None:
        tasks = [*self._running.values(), *([self._poller] if self._poller else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
