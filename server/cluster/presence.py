"""Who is present in each room, across every server process.

:class:`Presence` counts this process's connections per (room, member). What
all processes hold together is a :class:`SharedPresence`: in one process
that is just the local count; with Redis, each process writes the pairs it
holds under its own id and keeps a liveness key alive, so when a process
dies its pairs stop counting as soon as that key expires. Nobody emits a
leave from here: the room's janitor (lease owner) compares the fold's
present members with the holders and emits each leave once, after a grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import Any, Protocol

import redis.asyncio as aioredis

from .redis_health import REDIS_FAILURES, RedisHealth

log = logging.getLogger("practica.presence")


class Presence:
    """This process's connections, per (room, member)."""

    def __init__(self) -> None:
        self._holders: dict[tuple[str, str], set[Any]] = {}

    def attach(self, room: str, member: str, connection: Any) -> bool:
        """Add a connection; True if it is the member's first here in this process."""
        holders = self._holders.setdefault((room, member), set())
        holders.add(connection)
        return len(holders) == 1

    def detach(self, room: str, member: str, connection: Any) -> bool:
        """Remove a connection; True if the member now has none here in this process."""
        holders = self._holders.get((room, member))
        if holders is None:
            return False
        holders.discard(connection)
        if holders:
            return False
        del self._holders[(room, member)]
        return True

    def held(self, room: str, member: str) -> bool:
        return bool(self._holders.get((room, member)))

    def pairs(self) -> list[tuple[str, str]]:
        return list(self._holders)

    def members(self, room: str) -> set[str]:
        return {member for (r, member) in self._holders if r == room}


class SharedPresence(Protocol):
    @property
    def degraded(self) -> bool:
        """True while who other processes hold is unknown (nobody should be timed out)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def hold(self, room: str, member: str) -> None: ...
    async def release(self, room: str, member: str) -> None: ...
    async def holders(self, room: str) -> set[str]:
        """Members some live process holds in ``room``."""


class LocalSharedPresence:
    degraded = False

    def __init__(self, presence: Presence) -> None:
        self.presence = presence

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def hold(self, room: str, member: str) -> None:
        return None

    async def release(self, room: str, member: str) -> None:
        return None

    async def holders(self, room: str) -> set[str]:
        return self.presence.members(room)


class RedisPresence:
    """Fields ``"<process> <member>"`` in hash ``<prefix>:presence:<room>``; liveness key
    ``<prefix>:process:<process>`` refreshed every ``ttl_ms / 3``.

    While Redis is unreachable, holding and releasing happen in this process only
    (releases are remembered and written when Redis returns), :meth:`holders` answers
    with this process's members, and :attr:`degraded` tells the janitor that nobody
    may be timed out: who the other processes hold is unknown until Redis is back.
    """

    def __init__(self, redis: aioredis.Redis, process: str, local: Presence,
                 *, ttl_ms: int = 3000, prefix: str = "practica",
                 health: RedisHealth | None = None) -> None:
        self.redis, self.process, self.local, self.ttl_ms = redis, process, local, ttl_ms
        self.prefix = prefix
        self.health = health or RedisHealth(redis)
        self._beat: asyncio.Task[None] | None = None
        self._unreleased: set[tuple[str, str]] = set()
        """Releases made while Redis was down, written when it answers again."""
        self._settled_at = 0.0
        self._beat_now: asyncio.Task[None] | None = None
        self.health.on_change(self._on_health)

    @property
    def degraded(self) -> bool:
        """Also for one liveness period after Redis returns: a restarted Redis is empty
        until every process's heartbeat has re-asserted what it holds."""
        return not self.health.up or time.monotonic() < self._settled_at

    def _on_health(self, up: bool) -> None:
        if up:
            self._settled_at = time.monotonic() + self.ttl_ms / 1000
            self._beat_now = asyncio.get_running_loop().create_task(self._beat_once_quietly())

    async def _beat_once_quietly(self) -> None:
        try:
            await asyncio.wait_for(self._heartbeat_once(), self.health.timeout_s * 2)
        except REDIS_FAILURES as exc:
            self.health.mark_down(exc)

    def _alive_key(self, process: str) -> str:
        return f"{self.prefix}:process:{process}"

    async def start(self) -> None:
        await self._heartbeat_once()
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            if not self.health.up:
                continue  # the health probe says when Redis is back
            try:
                await asyncio.wait_for(self._heartbeat_once(), self.health.timeout_s * 2)
            except REDIS_FAILURES as exc:
                self.health.mark_down(exc)

    async def _heartbeat_once(self) -> None:
        """Keep this process alive and re-assert what it holds (Redis may have restarted)."""
        by_room: dict[str, dict[str, str]] = defaultdict(dict)
        for room, member in self.local.pairs():
            by_room[room][f"{self.process} {member}"] = "1"
        unreleased = [(room, member) for room, member in self._unreleased
                      if not self.local.held(room, member)]
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive_key(self.process), "1", px=self.ttl_ms)
            for room, member in unreleased:
                pipe.hdel(f"{self.prefix}:presence:{room}", f"{self.process} {member}")
            for room, fields in by_room.items():
                pipe.hset(f"{self.prefix}:presence:{room}", mapping=fields)  # type: ignore[arg-type]
            await pipe.execute()
        self._unreleased.difference_update(unreleased)

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        with contextlib.suppress(*REDIS_FAILURES):
            await asyncio.wait_for(self.redis.delete(self._alive_key(self.process)),
                                   self.health.timeout_s)

    async def hold(self, room: str, member: str) -> None:
        async def shared() -> None:
            await self.redis.hset(f"{self.prefix}:presence:{room}",
                                  f"{self.process} {member}", "1")

        self._unreleased.discard((room, member))
        await self.health.call(shared, _nothing)  # the heartbeat re-asserts it later

    async def release(self, room: str, member: str) -> None:
        async def shared() -> None:
            await self.redis.hdel(f"{self.prefix}:presence:{room}", f"{self.process} {member}")

        async def later() -> None:
            self._unreleased.add((room, member))

        await self.health.call(shared, later)

    async def holders(self, room: str) -> set[str]:
        async def local() -> set[str]:
            return self.local.members(room)

        return await self.health.call(lambda: self._shared_holders(room), local)

    async def _shared_holders(self, room: str) -> set[str]:
        key = f"{self.prefix}:presence:{room}"
        fields = [f.decode() if isinstance(f, bytes) else f for f in await self.redis.hkeys(key)]
        pairs = [field.split(" ", 1) for field in fields if " " in field]
        processes = sorted({process for process, _ in pairs})
        alive: set[str] = set()
        if processes:
            flags = await self.redis.mget([self._alive_key(p) for p in processes])
            alive = {p for p, flag in zip(processes, flags, strict=True) if flag is not None}
        dead = [f"{p} {m}" for p, m in pairs if p not in alive]
        if dead:
            await self.redis.hdel(key, *dead)
        return {member for process, member in pairs if process in alive}


async def _nothing() -> None:
    return None
