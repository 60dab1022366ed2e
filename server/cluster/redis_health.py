"""Whether Redis answers, so that a dead Redis degrades a process instead of breaking it.

Every Redis-backed piece (rate limits, sign-in attempts, presence, leases,
the bus) runs its Redis work through :meth:`RedisHealth.call` with a local
fallback. The first failure (or a call slower than ``timeout_s``) marks Redis
down: from then on calls go straight to the fallback, without waiting on a
dead socket, while one probe pings Redis every ``probe_interval_s``. When a
ping answers, Redis is up again and the listeners hear it (presence
re-asserts what this process holds, the feed polls at its normal pace).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import RedisError

log = logging.getLogger("practica.redis")

T = TypeVar("T")
Listener = Callable[[bool], None]
"""Called with True when Redis comes back, False when it goes away."""

REDIS_FAILURES = (RedisError, OSError, TimeoutError)


class RedisHealth:
    def __init__(self, redis: Any, *, timeout_s: float = 0.5,
                 probe_interval_s: float = 0.25) -> None:
        self.redis = redis
        self.timeout_s, self.probe_interval_s = timeout_s, probe_interval_s
        self.up = True
        self._listeners: list[Listener] = []
        self._probe: asyncio.Task[None] | None = None

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def call(self, work: Callable[[], Awaitable[T]],
                   fallback: Callable[[], Awaitable[T]]) -> T:
        """``work()`` while Redis answers within the timeout, else ``fallback()``."""
        if not self.up:
            return await fallback()
        try:
            return await asyncio.wait_for(work(), self.timeout_s)
        except REDIS_FAILURES as exc:
            self.mark_down(exc)
            return await fallback()

    def mark_down(self, exc: BaseException) -> None:
        """Redis failed under some caller: fall back everywhere until a probe answers."""
        if not self.up:
            return
        self.up = False
        log.warning("redis unreachable (%s): degraded to this process's own limits, "
                    "presence and leases; fan-out falls back to the store poll",
                    exc or type(exc).__name__)
        self._tell(False)
        with contextlib.suppress(RuntimeError):  # no running loop: nothing will probe
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_up(),
                                                                 name="redis-probe")

    async def _probe_until_up(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval_s)
            try:
                await asyncio.wait_for(self.redis.ping(), self.timeout_s)
            except REDIS_FAILURES:
                continue
            self.up = True
            log.warning("redis reachable again: shared limits, presence and leases resume")
            self._tell(True)
            return

    def _tell(self, up: bool) -> None:
        for listener in self._listeners:
            try:
                listener(up)
            except Exception:
                log.exception("redis health listener failed")

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe


def shared_client(url: str) -> Any:
    """The Redis client the degradable pieces share: short timeouts and no retries of its
    own, so a dead Redis costs one short wait before :class:`RedisHealth` takes over."""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return aioredis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1,
                                   retry=Retry(NoBackoff(), 0))
