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

import msgspec
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from . import __version__
from .actions.identity import Identity
from .actions.rooms import Actions
from .actions.sessions import Sessions
from .cluster.relay import Relayer
from .connection import Connection
from .domain.community import CommunityState
from .domain.events import Event
from .errors import CloseCode, CommandError, ConnectionClosing, ErrorCode, RateLimited
from .frames import decode, encode, ref_of
from .http.api import origin_allowed
from .http.endpoints import SESSION_COOKIE
from .metrics import Metrics
from .outage import as_unavailable, refuse_websocket
from .paging import fit_history
from .pipeline import refusal
from .protocol import (
    COMMANDS_WITH_REF,
    PROTOCOL_VERSION,
    Ack,
    ClientFrame,
    Delete,
    Edit,
    Error,
    Follow,
    Heartbeat,
    HeartbeatAck,
    Hello,
    History,
    HistoryPage,
    Identify,
    Join,
    Leave,
    Limits,
    Post,
    Relay,
    Resume,
    SessionCommand,
)
from .ratelimit import LocalRateLimiter, RedisRateLimiter
from .session_protocol import AttendOp
from .settings import Settings
from .wire import DirectWriter

log = logging.getLogger("practica.gateway")

MAX_INVALID_FRAMES = 10


class Gateway:
    def __init__(
        self, actions: Actions, settings: Settings, metrics: Metrics,
        limiter: LocalRateLimiter | RedisRateLimiter, identity: Identity,
        relayer: Relayer | None = None, sessions: Sessions | None = None,
    ) -> None:
        self.actions, self.settings, self.metrics = actions, settings, metrics
        self.sessions = sessions
        self.identity = identity
        self.limiter = limiter
        self.relayer = relayer
        self.connections: set[Connection] = set()
        self.hello = Hello(
            protocol=PROTOCOL_VERSION, server=f"practica/{__version__}", server_time_ms=0,
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
                max_server_frame_bytes=settings.max_server_frame_bytes,
                max_invalid_frames=MAX_INVALID_FRAMES,
                relays_per_minute=settings.relays_per_minute,
                relay_burst=settings.relay_burst,
                max_relay_bytes=settings.max_relay_bytes,
            ),
        )
        metrics.watch_queues(lambda: [len(c.queue) for c in self.connections])
        actions.folds.community_changed.append(self.community_changed)

    def origin_allowed(self, websocket: WebSocket) -> bool:
        return origin_allowed(websocket.headers.get("origin"),
                              websocket.headers.get("host", ""), self.settings.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = await self._admit(scope, receive, send)
        if conn is None:
            return
        self.connections.add(conn)
        self.metrics.connections.inc()
        try:
            conn.push(encode(msgspec.structs.replace(
                self.hello, server_time_ms=int(time.time() * 1000))))
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

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> Connection | None:
        """Check the upgrade (origin, session) and accept it; None when refused. Apart
        from ``__call__`` so that the request's objects (Starlette's ``WebSocket``, its
        parsed headers and cookies) are not kept alive with the socket."""
        websocket = WebSocket(scope, receive, send)
        if not self.origin_allowed(websocket):
            log.warning("refused websocket from origin %r", websocket.headers.get("origin"))
            await websocket.close(int(CloseCode.POLICY_VIOLATION))  # before accept: HTTP 403
            return None
        client = scope.get("client") or ("?", 0)
        try:
            principal = await self.identity.principal(websocket.cookies.get(SESSION_COOKIE),
                                                      str(client[0]))
        except Exception as exc:
            if (unavailable := as_unavailable(exc)) is None:
                raise
            await refuse_websocket(websocket, unavailable)  # the store is down: 503
            return None
        if principal is None:
            await websocket.close(int(CloseCode.POLICY_VIOLATION))  # sign in first: HTTP 403
            return None
        await websocket.accept()
        conn = Connection(
            send, queue_limit=self.settings.send_queue_frames,
            catch_up=lambda stream, after: self._catch_up(conn, stream, after),
            bucket=self.limiter.bucket(time.monotonic()),
            peer=f"{client[0]}:{client[1]}", eager=self.settings.eager_send,
            principal=principal,
            direct=DirectWriter.of(scope) if self.settings.eager_send else None,
            own_sender=True,
        )
        return conn

    async def _receive_loop(self, conn: Connection, receive: Receive) -> None:
        """Handle frames until the socket closes, in this one task: awaiting ``receive``
        under a deadline (no task per frame, none waiting per idle socket). When the
        sender closes the socket first, the deadline is moved to now to stop waiting."""
        deadline: asyncio.Timeout | None = None

        def sender_finished(_: object) -> None:
            if deadline is not None and deadline.expired() is False:
                deadline.reschedule(asyncio.get_running_loop().time())

        conn.finished().add_done_callback(sender_finished)
        while conn.closing is None:
            timeout = (self.settings.identify_timeout_ms / 1000 if conn.member is None
                       else self.settings.heartbeat_timeout_s)
            try:
                async with asyncio.timeout(timeout) as deadline:
                    message = await receive()
            except TimeoutError:
                if conn.closing is None:
                    conn.close(CloseCode.IDENTIFY_TIMEOUT if conn.member is None
                               else CloseCode.HEARTBEAT_TIMEOUT, "no frame in time")
                return
            finally:
                deadline = None
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
        except ConnectionClosing as exc:
            self.metrics.commands.labels(kind, "closed").inc()
            conn.close(exc.code, exc.reason)
        except Exception as exc:  # the same mapping as HTTP's (pipeline)
            error = refusal(exc, f"command {kind} from {conn.peer}")
            self.metrics.commands.labels(kind, error.code.value).inc()
            retry = getattr(error, "retry_after_ms", None)  # rate_limited, unavailable
            conn.push(encode(Error(ref=ref, code=error.code, message=error.message,
                                   retry_after_ms=retry)))

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
            conn.push(encode(HeartbeatAck(server_time_ms=int(time.time() * 1000))))
            return
        if isinstance(command, Identify | Resume):
            if conn.member is not None:
                raise CommandError("already identified", code=ErrorCode.ALREADY_IDENTIFIED)
            if isinstance(command, Identify):
                await actions.identify(conn, command)
            else:
                await actions.resume(conn, command)
            return
        if isinstance(command, Relay) and self.relayer is not None:
            await self.relayer.send(conn, command)  # ephemeral: never stored
            return
        started = time.perf_counter()
        reply: Any
        if isinstance(command, Join):
            await actions.join(conn, command)
            return
        if isinstance(command, Follow):
            actions._member(conn)  # follows are read only: nothing to apply once by ref
            ack = Ack(ref=command.ref,
                      syncs=await actions.subscriptions.follow(conn, dict(command.streams)))
            await actions.subscriptions.send_synced(conn, ack)
            return
        if isinstance(command, Post):
            reply = await actions.post(conn, command)
        elif isinstance(command, Edit | Delete):
            reply = await actions.change(conn, command)
        elif isinstance(command, Leave):
            reply = await actions.leave(conn, command)
        elif isinstance(command, History):
            reply = await actions.history(conn, command)
        elif isinstance(command, SessionCommand) and self.sessions is not None:
            actions._member(conn)
            assert conn.principal is not None
            reply = await self.sessions.command(conn.principal, command)
            if isinstance(command.op, AttendOp) and reply.stream is not None:
                # Attending follows the session, as joining a room follows the room: the
                # ack carries its snapshot, and its events follow from sync.seq + 1.
                (reply.sync,) = await actions.subscriptions.open(conn, {reply.stream: None})
                conn.listening.discard(reply.stream)  # there now: its relays reach them
                await actions.subscriptions.send_synced(conn, reply)
                return
        else:  # pragma: no cover - decode() only returns the types above
            raise CommandError(f"unhandled {command!r}", code=ErrorCode.INTERNAL)
        if getattr(reply, "seq", None) is not None:
            self.metrics.append_latency.observe(time.perf_counter() - started)
        conn.push(fit_history(reply, self.settings.max_server_frame_bytes)
                  if isinstance(reply, HistoryPage) else encode(reply))

    async def _catch_up(self, conn: Connection, stream: str,
                        after: int) -> list[tuple[int, str]]:
        """Fill a gap in a stream ``conn`` follows, if it may still read it."""
        if stream in self.actions.recheck(conn):
            return []
        events = await self.actions.store.read(stream, after=after,
                                               limit=self.settings.max_replay_events)
        return [(e.seq, encode(e)) for e in events]

    def community_changed(self, state: CommunityState, event: Event) -> None:
        """A community event was folded (here or in another process): decide again what
        each socket of the person it names may read there, whichever community the
        socket entered; an event about no one person is checked for every socket."""
        member = getattr(event.body, "member", None)
        for conn in list(self.connections):
            principal = conn.principal
            if principal is None or conn.member is None:
                continue
            if member is not None and principal.member != member:
                continue
            self.actions.recheck(conn, state.community)

    def recheck_member(self, member: str, community: str) -> None:
        for conn in list(self.connections):
            if conn.principal is not None and conn.principal.member == member:
                self.actions.recheck(conn, community)

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
