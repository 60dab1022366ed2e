"""The per-room job that must happen exactly once: ending the presence of the gone.

For every room this process follows, the holder of the room's lease compares
who the fold shows present with who some live process holds. A member
missing for longer than the grace period gets one ``member_left``
(``disconnected``): after a dropped socket, a closed laptop, a restart or a
killed process. Before deciding, the fold is brought up to date from the
store, so a new lease holder does not repeat a leave its predecessor made.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ..folds import Folds
from . import periodic
from .lease import Leases
from .presence import SharedPresence

log = logging.getLogger("practica.janitor")


class Janitor:
    def __init__(
        self, folds: Folds, shared: SharedPresence, leases: Leases, *, grace_ms: int,
        sync: Callable[[str], Awaitable[None]],
        expire: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.folds, self.shared, self.leases = folds, shared, leases
        self.grace_s = grace_ms / 1000
        self._sync, self._expire = sync, expire
        self._missing: dict[tuple[str, str], float] = {}
        self._task: asyncio.Task[None] | None = None

    async def sweep_once(self) -> None:
        if self.shared.degraded:  # who other processes hold is unknown: time nobody out
            self._missing.clear()
            return
        now = time.monotonic()
        for room in list(self.folds.rooms):
            if not await self.leases.hold(f"room:{room}"):
                continue
            holders = await self.shared.holders(room)
            state = self.folds.rooms[room]
            due = []
            for member in list(state.present):
                if member in holders:
                    self._missing.pop((room, member), None)
                    continue
                since = self._missing.setdefault((room, member), now)
                if now - since >= self.grace_s:
                    due.append(member)
                    self._missing.pop((room, member), None)
            if due:  # all at once: their leaves go out together (see presence_batch)
                await self._sync(f"room:{room}")
                holders = await self.shared.holders(room)
                state = self.folds.rooms[room]
                await asyncio.gather(*(self._expire(room, member) for member in due
                                       if member in state.present and member not in holders))
            for key in [k for k in self._missing if k[0] == room and k[1] not in state.present]:
                del self._missing[key]

    def start(self, interval_s: float) -> None:
        self._task = periodic.every(interval_s, self.sweep_once, log, "presence sweep")

    async def stop(self) -> None:
        await periodic.stop(self._task)
        await self.leases.release_all()
