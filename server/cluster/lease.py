"""Leases: per-room work that must happen exactly once is done by one process at a time.

A lease is held for ``ttl_ms`` and renewed by its holder well before that;
when the holder dies, the lease expires and the next process that asks gets
it. With one process, :class:`LocalLeases` always says yes; so does a
:class:`RedisLeases` while Redis is unreachable (each process then does its
own rooms' work; the janitor itself waits while presence is unknown).
"""

from __future__ import annotations

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


class Leases(Protocol):
    async def hold(self, name: str) -> bool:
        """Take or renew the lease called ``name``; True while this process holds it."""

    async def release_all(self) -> None: ...


class LocalLeases:
    async def hold(self, name: str) -> bool:
        return True

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

    async def release_all(self) -> None:
        for name in list(self.held):
            async def shared(name: str = name) -> None:
                await self._release(keys=[f"{self.prefix}:lease:{name}"], args=[self.process])

            await self.health.call(shared, _nothing)  # unreleased, it expires after ttl
        self.held.clear()


async def _yes() -> bool:
    return True


async def _nothing() -> None:
    return None
