"""A token bucket per connection (pure: the caller passes the clock)."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from .cluster.redis_health import RedisHealth


class TokenBucket:
    """``rate_per_minute`` tokens a minute, holding at most ``burst``.

    ``take(now)`` returns 0 when a token was taken, else the milliseconds to
    wait for one. ``strikes`` counts refusals since the last success, so a
    client that ignores ``rate_limited`` can be told apart and disconnected.
    """

    __slots__ = ("burst", "last", "rate", "strikes", "tokens")

    def __init__(self, rate_per_minute: int, burst: int, now: float) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = now
        self.strikes = 0

    def take(self, now: float) -> int:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.strikes = 0
            return 0
        self.strikes += 1
        return max(1, int((1.0 - self.tokens) / self.rate * 1000))


class LocalRateLimiter:
    """One bucket per connection (one process: a member's tabs are all here)."""

    def __init__(self, rate_per_minute: int, burst: int) -> None:
        self.rate_per_minute, self.burst = rate_per_minute, burst

    def bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.rate_per_minute, self.burst, now)

    async def take(self, bucket: TokenBucket, member: str | None, now: float) -> int:
        return bucket.take(now)


# Token bucket in Redis: KEYS[1] the member's bucket; ARGV rate/s, burst, now (ms).
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """One bucket per member across every process (Redis); per connection before identify,
    and while Redis is unreachable (each process's own limit, so commands keep working)."""

    def __init__(self, redis: object, rate_per_minute: int, burst: int,
                 *, prefix: str = "practica", health: RedisHealth | None = None) -> None:
        self.rate_per_minute, self.burst, self.prefix = rate_per_minute, burst, prefix
        self._take = redis.register_script(_TAKE)  # type: ignore[attr-defined]
        self.health = health or RedisHealth(redis)

    def bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.rate_per_minute, self.burst, now)

    async def take(self, bucket: TokenBucket, member: str | None, now: float) -> int:
        if member is None:
            return bucket.take(now)

        async def shared() -> int:
            return int(await self._take(keys=[f"{self.prefix}:rate:{member}"], args=[
                self.rate_per_minute / 60.0, self.burst, int(time.time() * 1000)]))

        async def local() -> int:
            return bucket.take(now)

        wait = await self.health.call(shared, local)
        if wait:
            bucket.strikes += 1
        else:
            bucket.strikes = 0
        return wait


def address_key(address: str) -> str:
    """The unit an address is limited as: an IPv4 address, or an IPv6 /64 (one
    subscriber usually holds a whole /64, and could otherwise rotate through it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LocalAttempts:
    """Counts attempts per key in a sliding window (sign-ins, sign-ups), in this process."""

    def __init__(self) -> None:
        self._hits: dict[str, list[float]] = {}

    async def count(self, key: str, window_s: float, now: float) -> int:
        return len(self._live(key, window_s, now))

    def _live(self, key: str, window_s: float, now: float) -> list[float]:
        hits = [t for t in self._hits.get(key, []) if t > now - window_s]
        if hits:
            self._hits[key] = hits
        else:
            self._hits.pop(key, None)
        return hits

    async def add(self, key: str, window_s: float, now: float) -> None:
        self._hits.setdefault(key, []).append(now)
        if len(self._hits) > 100_000:  # bounded: forget the oldest keys first
            for stale in list(self._hits)[:10_000]:
                del self._hits[stale]

    async def reserve(self, key: str, limit: int, window_s: float, now: float) -> bool:
        """Count one attempt if fewer than ``limit`` are in the window; False if not.

        Check and count happen with no await between them, so concurrent callers
        cannot all pass the same check (the count is taken before the work)."""
        if len(self._live(key, window_s, now)) >= limit:
            return False
        await self.add(key, window_s, now)
        return True

    async def release(self, key: str) -> None:
        """Give back one reserved attempt (the attempt turned out not to count)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()
            if not hits:
                del self._hits[key]

    async def clear(self, key: str) -> None:
        self._hits.pop(key, None)


# Reserve one attempt atomically: KEYS[1] the counter; ARGV limit, window (s).
_RESERVE = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
"""

# Give one back, never below zero: KEYS[1] the counter.
_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  redis.call('DECR', KEYS[1])
end
return count
"""


class RedisAttempts:
    """The same counts shared by every process (a fixed window per key, in Redis); while
    Redis is unreachable, each process counts on its own (:class:`LocalAttempts`)."""

    def __init__(self, redis: Any, *, prefix: str = "practica",
                 health: RedisHealth | None = None) -> None:
        self.redis: Any = redis
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)
        self._release = self.redis.register_script(_RELEASE)
        self.health = health or RedisHealth(redis)
        self.local = LocalAttempts()

    async def count(self, key: str, window_s: float, now: float) -> int:
        async def shared() -> int:
            return int(await self.redis.get(f"{self.prefix}:attempts:{key}") or 0)

        return await self.health.call(shared,
                                      lambda: self.local.count(key, window_s, now))

    async def add(self, key: str, window_s: float, now: float) -> None:
        name = f"{self.prefix}:attempts:{key}"

        async def shared() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, max(1, int(window_s)), nx=True)
                await pipe.execute()

        await self.health.call(shared, lambda: self.local.add(key, window_s, now))

    async def reserve(self, key: str, limit: int, window_s: float, now: float) -> bool:
        """Count one attempt unless ``limit`` are counted already: one Lua script, so
        every process's concurrent attempts are counted before any of them is checked."""
        name = f"{self.prefix}:attempts:{key}"

        async def shared() -> bool:
            return bool(await self._reserve(keys=[name], args=[limit, max(1, int(window_s))]))

        return await self.health.call(
            shared, lambda: self.local.reserve(key, limit, window_s, now))

    async def release(self, key: str) -> None:
        async def shared() -> None:
            await self._release(keys=[f"{self.prefix}:attempts:{key}"])

        await self.health.call(shared, lambda: self.local.release(key))

    async def clear(self, key: str) -> None:
        async def shared() -> None:
            await self.redis.delete(f"{self.prefix}:attempts:{key}")

        await self.local.clear(key)
        await self.health.call(shared, lambda: self.local.clear(key))


Attempts = LocalAttempts | RedisAttempts
