"""Leases: per-room work that must happen exactly once is done by one process at a time.

A lease is held for ``ttl_ms`` and renewed by its holder well before that;
when the holder dies, the lease expires and the next process that asks gets
it. With one process, :class:`LocalLeases` always says yes; so does a
:class:`RedisLeases` while Redis is unreachable (each process then does its
own rooms' work; the janitor itself waits while presence is unknown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import redis.asyncio as aioredis

from .redis_health import RedisHealth

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


log = logging.getLogger("practica.lease")


class Leases(Protocol):
    async def hold(self, name: str) -> bool:
        """Take or renew the lease called ``name``; True while this process holds it."""

    async def held_by(self, name: str, holder: str) -> bool:
        """Whether ``holder`` (another process) holds the lease ``name`` now; True when
        that cannot be known (Redis unreachable)."""

    async def release_all(self) -> None: ...


class LocalLeases:
    """One process: it holds every lease, and no other process holds any (a holder
    named in the store by another process id was a previous boot of this server)."""

    async def hold(self, name: str) -> bool:
        return True

    async def held_by(self, name: str, holder: str) -> bool:
        return False

    async def release_all(self) -> None:
        return None


class RedisLeases:
    def __init__(self, redis: aioredis.Redis, process: str, *, ttl_ms: int = 3000,
                 prefix: str = "practica", health: RedisHealth | None = None) -> None:
        self.redis, self.process, self.ttl_ms = redis, process, ttl_ms
        self.prefix = prefix
        self.health = health or RedisHealth(redis)
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self.held: set[str] = set()

    async def hold(self, name: str) -> bool:
        async def shared() -> bool:
            return bool(await self._acquire(keys=[f"{self.prefix}:lease:{name}"],
                                            args=[self.process, self.ttl_ms]))

        ok = await self.health.call(shared, _yes)
        if ok:
            self.held.add(name)
        else:
            self.held.discard(name)
        return ok

    async def held_by(self, name: str, holder: str) -> bool:
        async def shared() -> bool:
            value = await self.redis.get(f"{self.prefix}:lease:{name}")
            return value in (holder, holder.encode())

        return await self.health.call(shared, _yes)

    async def release_all(self) -> None:
        for name in list(self.held):
            async def shared(name: str = name) -> None:
                await self._release(keys=[f"{self.prefix}:lease:{name}"], args=[self.process])

            await self.health.call(shared, _nothing)  # unreleased, it expires after ttl
        self.held.clear()


class Liveness:
    """Whether a process is alive: each process holds a lease named after itself,
    ``process:<id>``, renewed every ``renew_s`` while it runs (and released when it
    stops), so a record a process left in the store (an ``Idempotency-Key`` claim) can
    be told to be an orphan as soon as its lease lapses (3 s after a ``kill -9``), not
    after a fixed wait. On one process (SQLite), any other process id is a previous boot,
    dead from the start."""

    def __init__(self, leases: Leases, process: str, *, renew_s: float = 1.0) -> None:
        self.leases, self.process, self.renew_s = leases, process, renew_s
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def lease_of(process: str) -> str:
        return f"process:{process}"

    async def start(self) -> None:
        await self.leases.hold(self.lease_of(self.process))
        self._task = asyncio.create_task(self._renew(), name="liveness")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.renew_s)
            try:
                await self.leases.hold(self.lease_of(self.process))
            except Exception:  # Redis trouble is RedisHealth's to report; try again
                log.debug("could not renew this process's liveness lease", exc_info=True)

    async def alive(self, process: str) -> bool:
        """This process, or another whose liveness lease is held (or cannot be read)."""
        return process == self.process or await self.leases.held_by(
            self.lease_of(process), process)


async def _yes() -> bool:
    return True


async def _nothing() -> None:
    return None
