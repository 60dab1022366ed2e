"""The ``/ws`` endpoint: origin and session check, hello, identify/resume, heartbeats,
commands.

The upgrade needs a valid session cookie (an account's or a guest's): without
one, or from a foreign Origin, it is refused before accept (HTTP 403).

Lifecycle: the server sends ``hello``; the client answers ``identify`` or
``resume`` within ``identify_timeout_ms`` and gets ``ready``; from then on
commands are answered with ``ack``/``error``/``history`` and committed
events stream in. Frames from one connection are handled in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from . import __version__
from .actions import Actions
from .api import SESSION_COOKIE
from .connection import Connection
from .errors import CloseCode, CommandError, ConnectionClosing, ErrorCode, RateLimited, StoreError
from .identity import Identity
from .metrics import Metrics
from .protocol import (
    COMMANDS_WITH_REF,
    PROTOCOL_VERSION,
    ClientFrame,
    Delete,
    Edit,
    Error,
    Heartbeat,
    HeartbeatAck,
    Hello,
    History,
    Identify,
    Join,
    Leave,
    Limits,
    Post,
    Resume,
    decode,
    encode,
    ref_of,
)
from .ratelimit import LocalRateLimiter, RedisRateLimiter
from .settings import Settings
from .wire import DirectWriter

log = logging.getLogger("practica.gateway")

MAX_INVALID_FRAMES = 10
_HEARTBEAT_ACK = encode(HeartbeatAck())


class Gateway:
    def __init__(
        self, actions: Actions, settings: Settings, metrics: Metrics,
        limiter: LocalRateLimiter | RedisRateLimiter, identity: Identity,
    ) -> None:
        self.actions, self.settings, self.metrics = actions, settings, metrics
        self.identity = identity
        self.limiter = limiter
        self.connections: set[Connection] = set()
        self.hello = encode(Hello(
            protocol=PROTOCOL_VERSION, server=f"practica/{__version__}",
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
            limits=Limits(
                heartbeat_timeout_ms=settings.heartbeat_timeout_ms,
                max_frame_bytes=settings.max_frame_bytes,
                commands_per_minute=settings.commands_per_minute,
                command_burst=settings.command_burst,
                send_queue_frames=settings.send_queue_frames,
                identify_timeout_ms=settings.identify_timeout_ms,
                max_resume_streams=settings.max_resume_streams,
                max_replay_events=settings.max_replay_events,
            ),
        ))
        metrics.watch_queues(lambda: [len(c.queue) for c in self.connections])

    def origin_allowed(self, websocket: WebSocket) -> bool:
        origin = websocket.headers.get("origin")
        if origin is None:  # not a browser: the Origin check protects browsers only
            return True
        origin = origin.rstrip("/")
        if origin in self.settings.allowed_origins:
            return True
        host = websocket.headers.get("host", "")
        return urlsplit(origin).netloc == host and urlsplit(origin).scheme in ("http", "https")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if not self.origin_allowed(websocket):
            log.warning("refused websocket from origin %r", websocket.headers.get("origin"))
            await websocket.close(int(CloseCode.POLICY_VIOLATION))  # before accept: HTTP 403
            return
        principal = await self.identity.principal(websocket.cookies.get(SESSION_COOKIE))
        if principal is None:
            await websocket.close(int(CloseCode.POLICY_VIOLATION))  # sign in first: HTTP 403
            return
        await websocket.accept()
        client = scope.get("client") or ("?", 0)
        conn = Connection(
            send, queue_limit=self.settings.send_queue_frames, catch_up=self._catch_up,
            bucket=self.limiter.bucket(time.monotonic()),
            peer=f"{client[0]}:{client[1]}", eager=self.settings.eager_send,
            principal=principal,
            direct=DirectWriter.of(scope) if self.settings.eager_send else None,
            own_sender=True,
        )
        self.connections.add(conn)
        self.metrics.connections.inc()
        try:
            conn.push(self.hello)
            await self._receive_loop(conn, receive)
        finally:
            self.connections.discard(conn)
            self.metrics.connections.dec()
            if conn.closing is not None and conn.closing.code == CloseCode.SLOW_CONSUMER:
                self.metrics.slow_consumers.inc()
            self.actions.disconnect(conn)
            if conn.closing is None:
                conn.close(CloseCode.NORMAL, "bye")
            try:
                await asyncio.wait_for(conn.closed.wait(), 5)
            except TimeoutError:
                if conn.sender is not None:
                    conn.sender.cancel()

    async def _receive_loop(self, conn: Connection, receive: Receive) -> None:
        closed = conn.finished()
        while conn.closing is None:
            timeout = (self.settings.identify_timeout_ms / 1000 if conn.member is None
                       else self.settings.heartbeat_timeout_s)
            incoming = asyncio.ensure_future(receive())
            waiting: set[asyncio.Future[Any]] = {incoming, closed}
            done, _ = await asyncio.wait(waiting, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if incoming not in done:
                incoming.cancel()
                if not done:
                    conn.close(CloseCode.IDENTIFY_TIMEOUT if conn.member is None
                               else CloseCode.HEARTBEAT_TIMEOUT, "no frame in time")
                return
            message = incoming.result()
            if message["type"] == "websocket.disconnect":
                conn.close(CloseCode.NORMAL, "client went away")
                return
            if conn.principal is not None and conn.principal.expires <= time.time() * 1000:
                conn.close(CloseCode.AUTH_FAILED, "session expired; sign in again")
                return
            frame = message.get("text") or message.get("bytes") or b""
            await self._handle(conn, frame)

    async def _handle(self, conn: Connection, frame: str | bytes) -> None:
        kind = "invalid"
        ref: str | None = None
        try:
            try:
                command = decode(frame)
            except CommandError:
                ref = ref_of(frame)
                conn.invalid_frames += 1
                if conn.invalid_frames > MAX_INVALID_FRAMES:
                    conn.close(CloseCode.PROTOCOL_VIOLATION, "too many malformed frames")
                await self._limit(conn)
                raise
            conn.invalid_frames = 0
            kind = type(command).__struct_config__.tag  # type: ignore[assignment]
            ref = getattr(command, "ref", None)
            if isinstance(command, COMMANDS_WITH_REF):
                await self._limit(conn)
            await self._dispatch(conn, command)
            self.metrics.commands.labels(kind, "ok").inc()
        except CommandError as exc:
            self.metrics.commands.labels(kind, exc.code.value).inc()
            retry = exc.retry_after_ms if isinstance(exc, RateLimited) else None
            conn.push(encode(Error(ref=ref, code=exc.code, message=exc.message,
                                   retry_after_ms=retry)))
        except ConnectionClosing as exc:
            self.metrics.commands.labels(kind, "closed").inc()
            conn.close(exc.code, exc.reason)
        except StoreError as exc:
            self.metrics.commands.labels(kind, "unavailable").inc()
            conn.push(encode(Error(ref=ref, code=ErrorCode.UNAVAILABLE,
                                   message=f"not applied: {exc}; retry")))
        except Exception:
            log.exception("command %s from %s failed", kind, conn.peer)
            self.metrics.commands.labels(kind, "internal").inc()
            conn.push(encode(Error(ref=ref, code=ErrorCode.INTERNAL,
                                   message="server error; nothing was applied")))

    async def _limit(self, conn: Connection) -> None:
        member = conn.member.id if conn.member else None
        wait_ms = await self.limiter.take(conn.bucket, member, time.monotonic())
        if not wait_ms:
            return
        if conn.bucket.strikes > self.settings.command_burst:
            conn.close(CloseCode.RATE_LIMITED, "kept sending while rate limited")
        raise RateLimited(f"too many commands; retry in {wait_ms} ms", retry_after_ms=wait_ms)

    async def _dispatch(self, conn: Connection, command: ClientFrame) -> None:
        actions = self.actions
        if isinstance(command, Heartbeat):
            conn.push(_HEARTBEAT_ACK)
            return
        if isinstance(command, Identify | Resume):
            if conn.member is not None:
                raise CommandError("already identified", code=ErrorCode.ALREADY_IDENTIFIED)
            if isinstance(command, Identify):
                await actions.identify(conn, command)
            else:
                await actions.resume(conn, command)
            return
        started = time.perf_counter()
        reply: Any
        if isinstance(command, Join):
            await actions.join(conn, command)
            return
        if isinstance(command, Post):
            reply = await actions.post(conn, command)
        elif isinstance(command, Edit | Delete):
            reply = await actions.change(conn, command)
        elif isinstance(command, Leave):
            reply = await actions.leave(conn, command)
        elif isinstance(command, History):
            reply = await actions.history(conn, command)
        else:  # pragma: no cover - decode() only returns the types above
            raise CommandError(f"unhandled {command!r}", code=ErrorCode.INTERNAL)
        if getattr(reply, "seq", None) is not None:
            self.metrics.append_latency.observe(time.perf_counter() - started)
        conn.push(encode(reply))

    async def _catch_up(self, stream: str, after: int) -> list[tuple[int, str]]:
        events = await self.actions.store.read(stream, after=after,
                                               limit=self.settings.max_replay_events)
        return [(e.seq, encode(e)) for e in events]

    def close_all_going_away(self) -> None:
        self.close_all(CloseCode.GOING_AWAY, "server restarting; reconnect and resume")

    def close_all(self, code: CloseCode, reason: str) -> None:
        for conn in list(self.connections):
            conn.close(code, reason)

    def kick(self, code: CloseCode, reason: str, *, session: str | None = None,
             member: str | None = None, community: str | None = None,
             invite: str | None = None) -> int:
        """Close this process's sockets of a session, of a member (in one community), or
        of the guests who came in through a guest link."""
        reason = reason.encode()[:120].decode(errors="ignore")  # a close reason is short
        closed = 0
        for conn in list(self.connections):
            principal = conn.principal
            if principal is None:
                continue
            if session is not None and principal.session != session:
                continue
            if member is not None and principal.member != member:
                continue
            if invite is not None and principal.guest_invite != invite:
                continue
            if community is not None and conn.community not in (community, None):
                continue
            conn.close(code, reason)
            closed += 1
        return closed
