"""Announcements between server processes: "stream S has events up to seq N".

Announcements are at-most-once (Redis pub/sub): a process that misses one
still catches up, from the store, on the next announcement or poll. With one
process there is nobody to tell, and :class:`LocalBus` does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..domain.events import Event
from .redis_health import REDIS_FAILURES, RedisHealth

log = logging.getLogger("practica.bus")
_control_decoder = msgspec.json.Decoder(dict[str, Any])

Notice = Callable[[str, int], None]
Control = Callable[[dict[str, Any]], None]
"""Called with a control message (e.g. "close the sockets of session S") in every process."""


class Bus(Protocol):
    async def start(self, on_notice: Notice, on_reconnect: Callable[[], None],
                    on_control: Control) -> None: ...
    def announce(self, events: list[Event]) -> None: ...
    async def control(self, message: dict[str, Any]) -> None: ...
    async def stop(self) -> None: ...


class LocalBus:
    def __init__(self) -> None:
        self._on_control: Control = lambda message: None

    async def start(self, on_notice: Notice, on_reconnect: Callable[[], None],
                    on_control: Control) -> None:
        self._on_control = on_control

    def announce(self, events: list[Event]) -> None:
        return None

    async def control(self, message: dict[str, Any]) -> None:
        self._on_control(message)

    async def stop(self) -> None:
        return None


def heads(events: list[Event]) -> dict[str, int]:
    """The last seq of each stream in a batch of committed events."""
    last: dict[str, int] = {}
    for event in events:
        last[event.stream] = max(event.seq, last.get(event.stream, 0))
    return last


class RedisBus:
    """Pub/sub through Redis. While Redis is unreachable nothing is published (the other
    processes' feed polls the store instead, faster while degraded) and control messages
    reach this process only; the listener resubscribes when Redis is back."""

    def __init__(self, url: str, *, prefix: str = "practica",
                 health: RedisHealth | None = None) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_connect_timeout=1)
        self.health = health or RedisHealth(self.redis)
        self._on_control: Control = lambda message: None
        self.channel = f"{prefix}:streams"
        self.control_channel = f"{prefix}:control"
        self._listener: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self._stopped = False

    async def start(self, on_notice: Notice, on_reconnect: Callable[[], None],
                    on_control: Control) -> None:
        await self.redis.ping()  # fail loudly at start-up if Redis is not there
        self._on_control = on_control
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(on_notice, on_reconnect, on_control))
        await asyncio.wait_for(self.connected.wait(), 10)

    async def _listen(self, on_notice: Notice, on_reconnect: Callable[[], None],
                      on_control: Control) -> None:
        backoff = 0.1
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel, self.control_channel)
                    self.connected.set()
                    backoff = 0.1
                    on_reconnect()  # anything announced while we were away is fetched now
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        if message["channel"].decode() == self.control_channel:
                            on_control(_control_decoder.decode(message["data"]))
                            continue
                        stream, _, seq = message["data"].decode().rpartition(" ")
                        if stream and seq.isdigit():
                            on_notice(stream, int(seq))
            except (RedisError, OSError) as exc:
                self.connected.clear()
                self.health.mark_down(exc)
                log.warning("bus lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)  # back soon after Redis is

    def announce(self, events: list[Event]) -> None:
        """Store commit listener: tell the other processes (fire and forget)."""
        if not events or self._stopped or not self.health.up:
            return
        task = asyncio.get_running_loop().create_task(self._publish(heads(events)))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _publish(self, last: dict[str, int]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream, seq in last.items():
                    pipe.publish(self.channel, f"{stream} {seq}")
                await pipe.execute()
        except REDIS_FAILURES as exc:  # others catch up on their next poll
            log.warning("could not announce %s: %s", last, exc)

    async def control(self, message: dict[str, Any]) -> None:
        """Tell every process, this one included (it hears its own publication); while
        Redis is unreachable, this process only."""
        async def shared() -> None:
            await self.redis.publish(self.control_channel, msgspec.json.encode(message))

        async def local() -> None:
            self._on_control(message)

        await self.health.call(shared, local)

    async def stop(self) -> None:
        self._stopped = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        await self.redis.aclose()
