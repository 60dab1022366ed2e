"""Each Redis-backed piece falls back to this process while Redis does not answer.

Redis here is a loopback port nobody listens on (connection refused at once), so
these run without a Redis server; killing and restarting a real one under load
is tests/test_outages.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from server.cluster.janitor import Janitor
from server.cluster.lease import RedisLeases
from server.cluster.presence import Presence, RedisPresence
from server.cluster.redis_health import RedisHealth, shared_client
from server.ratelimit import RedisAttempts, RedisRateLimiter
from tests.conftest import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def dead_redis():
    client = shared_client(f"redis://127.0.0.1:{free_port()}/0")
    health = RedisHealth(client, probe_interval_s=0.05)
    yield client, health
    await health.stop()
    await client.aclose()


async def test_the_first_failure_marks_redis_down_and_tells_listeners(dead_redis):
    client, health = dead_redis
    heard: list[bool] = []
    health.on_change(heard.append)

    async def work() -> str:
        await client.ping()
        return "redis"

    async def local() -> str:
        return "local"

    assert await health.call(work, local) == "local"
    assert not health.up and heard == [False]
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "redis"

    assert await health.call(counted, local) == "local"
    assert calls == 0, "a call went to Redis although it is known to be down"


async def test_a_slow_redis_counts_as_down(dead_redis):
    client, _ = dead_redis
    health = RedisHealth(client, timeout_s=0.05)

    async def stuck() -> str:
        await asyncio.sleep(10)
        return "redis"

    async def local() -> str:
        return "local"

    started = time.monotonic()
    assert await health.call(stuck, local) == "local"
    assert time.monotonic() - started < 5  # bounded, not the 10 s of the stuck call
    assert not health.up
    await health.stop()


async def test_rate_limits_fall_back_to_each_connection_own_bucket(dead_redis):
    client, health = dead_redis
    limiter = RedisRateLimiter(client, rate_per_minute=60, burst=2, health=health)
    bucket = limiter.bucket(0.0)
    waits = [await limiter.take(bucket, "m-1", 0.0) for _ in range(3)]
    assert waits[:2] == [0, 0] and waits[2] > 0  # the local limit still holds
    assert not health.up


async def test_attempts_are_counted_locally_while_redis_is_down(dead_redis):
    client, health = dead_redis
    attempts = RedisAttempts(client, health=health)
    granted = [await attempts.reserve("k", 2, 60, 0.0) for _ in range(3)]
    assert granted == [True, True, False]
    assert await attempts.count("k", 60, 0.0) == 2
    await attempts.release("k")
    assert await attempts.count("k", 60, 0.0) == 1


async def test_presence_and_leases_degrade_to_this_process(dead_redis):
    client, health = dead_redis
    local = Presence()
    presence = RedisPresence(client, "proc-1", local, health=health)
    leases = RedisLeases(client, "proc-1", health=health)
    local.attach("r", "m-1", object())
    await presence.hold("r", "m-1")
    assert presence.degraded
    assert await presence.holders("r") == {"m-1"}
    await presence.release("r", "m-2")  # remembered, written when Redis is back
    assert ("r", "m-2") in presence._unreleased
    assert await leases.hold("room:r")  # each process does its own rooms' work
    await leases.release_all()


class _Folds:
    def __init__(self) -> None:
        self.rooms = {"r": type("State", (), {"present": {"m-1"}})()}


class _Shared:
    def __init__(self) -> None:
        self.degraded = True

    async def holders(self, room: str) -> set[str]:
        return set()


class _Leases:
    async def hold(self, name: str) -> bool:
        return True

    async def release_all(self) -> None:
        return None


async def test_nobody_is_timed_out_while_presence_is_unknown():
    expired: list[tuple[str, str]] = []

    async def expire(room: str, member: str) -> None:
        expired.append((room, member))

    async def sync(stream: str) -> None:
        return None

    shared = _Shared()
    janitor = Janitor(_Folds(), shared, _Leases(), grace_ms=0,  # type: ignore[arg-type]
                      sync=sync, expire=expire)
    for _ in range(3):
        await janitor.sweep_once()
    assert expired == []
    shared.degraded = False  # Redis is back: the member really is held by nobody
    await janitor.sweep_once()
    assert expired == [("r", "m-1")]
