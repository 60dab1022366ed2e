"""Ephemeral frames between the members present in a room: typing now; WebRTC
signalling and off-the-record talk later.

A ``relay`` frame is authorized (its kind is an action in the permission table,
checked with the sender's role now), rate limited per connection apart from
commands, encoded once as ``relayed`` and handed to the sockets subscribed to
the room in this process, then published on the Redis channel
``<prefix>:relay`` so every other process does the same for its own sockets.
A relay writes nothing to the store: no event, no seq. (A relay the sender's role
forbids is audited like any refusal, within the authority's refusal rate limit;
the browser never sends one, since its composer is closed to whoever may not
type.) At most once: a process that misses a publication misses the frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..authority import Authority, Principal
from ..connection import Connection
from ..domain.policy import Action
from ..domain.room import Member
from ..errors import (
    CloseCode,
    CommandError,
    ErrorCode,
    InvalidCommand,
    RateLimited,
)
from ..folds import Folds
from ..frames import encode
from ..hub import LocalHub
from ..protocol import Ack, Relay, Relayed, RelayKind
from ..ratelimit import TokenBucket
from ..settings import Settings
from ..streams import KINDS, StreamRef, parse, resource_of, split

log = logging.getLogger("practica.relay")



def relay_action(stream: str, kind: str) -> tuple[StreamRef, Action]:
    """The stream a relay targets and the action sending it needs, as the stream-kind
    registry declares (:attr:`StreamKind.relays`); InvalidCommand when the stream's kind
    takes no relay of that kind (or the name is no stream)."""
    ref = parse(stream)
    if ref is None or kind not in ref.kind.relays:
        takes = [f"{k.name}:<id>" for k in KINDS if kind in k.relays]
        raise InvalidCommand(f"a {kind!r} relay goes to a stream of {', '.join(takes) or 'none'}")
    return ref, ref.kind.relays[kind]


def present(conn: Connection, ref: StreamRef) -> bool:
    """Whether ``conn`` is where a relay on ``ref`` reaches: in it, for kinds members enter
    (a room: joined); else following it as one taking part (a session: attended), not
    only listening to its events (a ``follow``: :attr:`Connection.listening`)."""
    if ref.kind.enter is not None:
        return ref.ident in conn.rooms
    return ref.name in conn.cursors and ref.name not in conn.listening


class Envelope(msgspec.Struct, array_like=True):
    """A relayed frame on its way between processes."""

    origin: str
    stream: str
    sender: str
    to: list[str] | None
    frame: str


_envelope_decoder = msgspec.json.Decoder(Envelope)
_envelope_encoder = msgspec.json.Encoder()


class Channel(Protocol):
    async def start(self, on_envelope: Callable[[Envelope], None]) -> None: ...
    async def publish(self, envelope: Envelope) -> None: ...
    async def stop(self) -> None: ...


class LocalChannel:
    """One process: everyone present is here already."""

    async def start(self, on_envelope: Callable[[Envelope], None]) -> None:
        return None

    async def publish(self, envelope: Envelope) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisChannel:
    """Redis pub/sub on ``<prefix>:relay``; reconnects with backoff, like the bus."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "practica") -> None:
        self.redis = redis
        self.channel = f"{prefix}:relay"
        self.connected = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    async def start(self, on_envelope: Callable[[Envelope], None]) -> None:
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(on_envelope), name="relay listener")
        await asyncio.wait_for(self.connected.wait(), 10)

    async def _listen(self, on_envelope: Callable[[Envelope], None]) -> None:
        backoff = 0.1
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected.set()
                    backoff = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            envelope = _envelope_decoder.decode(message["data"])
                        except msgspec.DecodeError:
                            log.warning("ignored a malformed relay envelope")
                            continue
                        on_envelope(envelope)
            except (RedisError, OSError) as exc:
                self.connected.clear()
                log.warning("relay channel lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def publish(self, envelope: Envelope) -> None:
        await self.redis.publish(self.channel, _envelope_encoder.encode(envelope))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


class Relayer:
    def __init__(self, hub: LocalHub, folds: Folds, authority: Authority, settings: Settings,
                 process: str) -> None:
        self.hub, self.folds, self.authority = hub, folds, authority
        self.settings, self.process = settings, process
        self.channel: Channel = LocalChannel()
        self._buckets: weakref.WeakKeyDictionary[Connection, TokenBucket] = (
            weakref.WeakKeyDictionary())
        self.delivered = 0
        """Relayed frames this process handed to its sockets."""

    async def start(self) -> None:
        await self.channel.start(self._arrived)

    async def stop(self) -> None:
        await self.channel.stop()

    async def send(self, conn: Connection, cmd: Relay) -> None:
        """Check, deliver here, publish to the other processes; ack when there is a ref."""
        member = conn.member
        if member is None or conn.principal is None:
            raise CommandError("identify or resume first", code=ErrorCode.NOT_IDENTIFIED)
        self._limit(conn)
        ref, action = relay_action(cmd.stream, cmd.kind)
        community = self.folds.home(ref).community  # NotFound: no such room
        await self.authority.check(conn.principal, action, community,
                                   room=resource_of(ref, community).room)
        if not present(conn, ref):
            raise CommandError("join the room first: a relay reaches those present in it",
                               code=ErrorCode.NOT_JOINED)
        if len(_envelope_encoder.encode(cmd.data)) > self.settings.max_relay_bytes:
            raise InvalidCommand(f"relay data is larger than {self.settings.max_relay_bytes} "
                                 "bytes as JSON")
        frame = encode(Relayed(stream=cmd.stream, sender=member, kind=cmd.kind, data=cmd.data))
        envelope = Envelope(origin=self.process, stream=cmd.stream, sender=member.id,
                            to=cmd.to, frame=frame)
        self.deliver(envelope)
        try:
            await self.channel.publish(envelope)
        except (RedisError, OSError) as exc:  # this process's members still got it
            log.warning("could not relay %s to other processes: %s", cmd.kind, exc)
        if cmd.ref is not None:
            conn.push(encode(Ack(ref=cmd.ref, stream=cmd.stream)))

    async def send_off_record(self, sender: Principal, stream: str,
                              data: dict[str, Any]) -> None:
        """Hand what was said off the record in a session (already authorized and
        decided) to everyone following its stream, here and in every other process."""
        frame = encode(Relayed(stream=stream, sender=Member(id=sender.member, name=sender.name),
                               kind="off_record", data=data))
        envelope = Envelope(origin=self.process, stream=stream, sender=sender.member, to=None,
                            frame=frame)
        self.deliver(envelope)
        try:
            await self.channel.publish(envelope)
        except (RedisError, OSError) as exc:  # this process's followers still got it
            log.warning("could not relay off the record to other processes: %s", exc)

    async def send_breakout(self, sender: Principal, stream: str, data: dict[str, Any],
                            to: list[str], kind: str = "breakout") -> None:
        """Hand what was said in a pair-up's breakout room (already authorized and
        decided) to ``to`` only (the group's other members and the hosts visiting it)
        among those following the session's stream, here and in every other process;
        ``kind`` ``signal``: a breakout call's signalling, to the one member named."""
        relay_kind: RelayKind = "signal" if kind == "signal" else "breakout"
        frame = encode(Relayed(stream=stream, sender=Member(id=sender.member, name=sender.name),
                               kind=relay_kind, data=data))
        envelope = Envelope(origin=self.process, stream=stream, sender=sender.member,
                            to=list(to), frame=frame)
        self.deliver(envelope)
        try:
            await self.channel.publish(envelope)
        except (RedisError, OSError) as exc:  # this process's listeners still got it
            log.warning("could not relay breakout %s to other processes: %s", kind, exc)

    def _limit(self, conn: Connection) -> None:
        now = time.monotonic()
        bucket = self._buckets.get(conn)
        if bucket is None:
            bucket = self._buckets[conn] = TokenBucket(
                self.settings.relays_per_minute, self.settings.relay_burst, now)
        wait_ms = bucket.take(now)
        if wait_ms:
            if bucket.strikes > self.settings.relay_burst:  # as for commands: 4006
                conn.close(CloseCode.RATE_LIMITED, "kept relaying while rate limited")
            raise RateLimited(f"too many relays; retry in {wait_ms} ms", retry_after_ms=wait_ms)

    def _arrived(self, envelope: Envelope) -> None:
        if envelope.origin != self.process:  # ours went out when it was sent
            self.deliver(envelope)

    def deliver(self, envelope: Envelope) -> int:
        """Hand the frame to this process's sockets present in the stream (not the sender's)."""
        ref = split(envelope.stream)
        if ref is None:
            return 0
        wanted = set(envelope.to) if envelope.to is not None else None
        count = 0
        for subscriber in self.hub.subscribed(envelope.stream):
            if not isinstance(subscriber, Connection):
                continue
            member = subscriber.member
            if (member is None or member.id == envelope.sender or not present(subscriber, ref)
                    or (wanted is not None and member.id not in wanted)):
                continue
            subscriber.push(envelope.frame)
            count += 1
        self.delivered += count
        return count
