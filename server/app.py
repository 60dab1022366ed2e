"""The Starlette application: wires store, folds, hub and gateway; serves the web client."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import msgspec
import redis.asyncio as aioredis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from . import logs
from .actions.artefacts import Artefacts
from .actions.communities import Communities
from .actions.erasure import Erasure
from .actions.identity import Identity
from .actions.pair_blocks import PairBlockList
from .actions.rooms import Actions
from .actions.series import Series
from .actions.sessions import Sessions
from .actions.transcripts import Transcripts
from .authority import Authority
from .cluster.bus import Bus, LocalBus, RedisBus
from .cluster.feed import Feed
from .cluster.janitor import Janitor
from .cluster.lease import Leases, Liveness, LocalLeases, RedisLeases
from .cluster.presence import Presence, RedisPresence
from .cluster.redis_health import RedisHealth, shared_client
from .cluster.relay import RedisChannel, Relayer
from .cluster.scheduler import Scheduler
from .domain.events import Event, community_stream
from .errors import CloseCode
from .folds import Folds
from .gateway import Gateway
from .health import health_report
from .http.api import Api
from .http.artefact_api import artefact_endpoints
from .http.headers import SecurityHeaders
from .http.ice_api import ice_endpoints
from .http.media_api import media_endpoints
from .http.openapi import openapi_document
from .http.pairings_api import pairing_endpoints
from .http.series_api import series_endpoints
from .hub import LocalHub
from .media.stage import StageMedia
from .metrics import Metrics
from .pairing_history import PairingHistory
from .pairing_inputs import pairing_inputs
from .passwords import Passwords
from .projections import Projections
from .projections.pairings import PairingsProjection
from .projections.repertoire_query import RepertoireSearch
from .projections.repertoire_search import ArtefactSearch, TranscriptSearch
from .projections.search import Search, SearchProjection
from .ratelimit import Attempts, LocalAttempts, LocalRateLimiter, RedisAttempts, RedisRateLimiter
from .seed import seed_demo
from .settings import Settings
from .store import EventStore, open_store
from .streams import ROOM, SESSION
from .wire import KeepRawSend

log = logging.getLogger("practica.app")

STARTUP_TIMEOUT_S = 120
"""Opening the store, migrating and folding every community must finish within this."""

class Practica:
    """One server process's runtime: everything the routes share."""

    def __init__(self, settings: Settings, store: EventStore | None = None) -> None:
        self.settings = settings
        self.startup_error: str | None = None
        """Why :meth:`start` failed, when it did (``practica run`` prints it and exits 1)."""
        self.process = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.store = store or open_store(settings.database_url, synchronous=settings.synchronous)
        self.metrics = Metrics()
        self.hub = LocalHub()
        self.folds = Folds(self.store)
        self.presence = Presence()
        self.authority = Authority(self.store, self.folds,
                                   refusals_per_minute=settings.refusals_per_minute,
                                   outsider_refusals_per_minute=(
                                       settings.outsider_refusals_per_minute
                                       or settings.refusals_per_minute))
        self.actions = Actions(self.store, self.folds, self.hub, self.presence, settings,
                               self.authority)
        self.feed = Feed(self.store, self.folds, self.hub)
        self.actions.sync = self.feed.sync  # a stale decision catches its fold up here
        self.bus: Bus = LocalBus()
        self.leases: Leases = LocalLeases()
        limiter: LocalRateLimiter | RedisRateLimiter = LocalRateLimiter(
            settings.commands_per_minute, settings.command_burst)
        self.redis: aioredis.Redis | None = None
        self.redis_health: RedisHealth | None = None
        attempts: Attempts = LocalAttempts()
        if settings.redis_url:
            self.redis = shared_client(settings.redis_url)
            health = self.redis_health = RedisHealth(self.redis)
            prefix = settings.redis_prefix
            self.bus = RedisBus(settings.redis_url, prefix=prefix, health=health)
            self.leases = RedisLeases(self.redis, self.process, prefix=prefix, health=health)
            self.actions.shared = RedisPresence(self.redis, self.process, self.presence,
                                                prefix=prefix, health=health)
            limiter = RedisRateLimiter(self.redis, settings.commands_per_minute,
                                       settings.command_burst, prefix=prefix, health=health)
            attempts = RedisAttempts(self.redis, prefix=prefix, health=health)
            self.metrics.watch_dependency("redis", lambda: not health.up)
        self.metrics.watch_dependency(
            "store", lambda: bool(getattr(self.store, "failing", False)))
        self.authority.attempts = attempts
        self.passwords = Passwords(memory_kib=settings.argon2_memory_kib,
                                   time_cost=settings.argon2_time_cost)
        self.identity = Identity(self.store, self.folds, self.passwords, attempts, settings,
                                 self.kick)
        self.communities = Communities(self.store, self.folds, self.authority, self.identity,
                                       self.kick, sync=self.feed.sync)
        self.identity.end_memberships = self.communities.forget
        self.projections = Projections(self.store, [
            SearchProjection(), PairingsProjection(), ArtefactSearch(), TranscriptSearch()])
        self.search = Search(self.store, self.folds, self.authority, self.projections["search"])
        for projector in self.projections.projectors.values():
            self.metrics.watch_projection(projector)
        self.liveness = Liveness(self.leases, self.process)
        self.relayer = Relayer(self.hub, self.folds, self.authority, settings, self.process)
        if self.redis is not None:
            self.relayer.channel = RedisChannel(self.redis, prefix=settings.redis_prefix)
        self.sessions = Sessions(self.store, self.folds, self.authority, self.feed.sync,
                                 self.relayer.send_off_record,
                                 snapshot_every=settings.session_snapshot_every,
                                 breakout=self.relayer.send_breakout,
                                 pairing_inputs=pairing_inputs)
        self.folds.listeners(ROOM).append(self._room_changed)
        self.transcripts = Transcripts(self.store, self.folds, self.authority,
                                       self.sessions.key_of)
        self.pair_blocks = PairBlockList(self.store, self.folds, self.authority)
        self.pairing_history = PairingHistory(self.store, self.folds, self.authority,
                                              self.projections["pairings"])
        self.series = Series(self.store, self.folds, self.authority, self.feed.sync)
        self.artefacts = Artefacts(self.store, self.folds, self.authority, self.feed.sync)
        self.erasure = self.artefacts.erasure = Erasure(self.store, self.folds, self.authority,
                                                        self.sessions.key_of)
        for name in ("artefact_search", "transcript_search"):
            self.erasure.after.append(functools.partial(
                self.projections[name].projection.reconcile, self.store))
        self.artefacts.search = RepertoireSearch(
            self.store, self.folds, self.authority,
            [self.projections["artefact_search"], self.projections["transcript_search"]])
        self.media = StageMedia(self.sessions, settings.janus_url)
        self.folds.listeners(SESSION).append(self.media.session_changed)
        self.api = Api(self.identity, self.communities, settings, self.search, self.liveness,
                       self.sessions, self.transcripts,
                       pairing_endpoints(self.pair_blocks, self.pairing_history)
                       + series_endpoints(self.series) + artefact_endpoints(self.artefacts)
                       + media_endpoints(self.media) + ice_endpoints(settings))
        self.gateway = Gateway(self.actions, settings, self.metrics, limiter, self.identity,
                               relayer=self.relayer, sessions=self.sessions)
        self.janitor = Janitor(self.folds, self.actions.shared, self.leases,
                               grace_ms=settings.presence_grace_ms, sync=self.feed.sync,
                               expire=self.actions.expire)
        self.scheduler = Scheduler(self.store, self.leases)
        # Order matters: folds before fan-out, so a snapshot taken meanwhile is current.
        self.store.on_commit(self.feed.deliver)
        self.store.on_commit(self.bus.announce)
        self.store.on_commit(lambda events: self.metrics.events_appended.inc(len(events)))

    async def start(self) -> None:
        await self.store.open()
        if self.settings.seed_demo:
            await seed_demo(self.store, self.settings, self.passwords)
        await self.folds.load_communities()
        if any(c.review_confidential for c in self.folds.communities.values()):
            self.artefacts.warm()  # the confidential-details detectors, in a thread
        await self.projections.start()  # catches up from its cursors, then follows commits
        await self.actions.shared.start()
        await self.liveness.start()  # before serving: claims this process makes are live
        await self.bus.start(self._announced, self._poll_soon, self._on_control)
        await self.relayer.start()
        self.feed.start_polling(self.settings.sweep_interval_s, degraded=self.redis_degraded)
        self.janitor.start(self.settings.sweep_interval_s)
        self.scheduler.start(self.settings.sweep_interval_s)
        log.info("process %s serving %d communities", self.process,
                 len(self.folds.communities))

    def redis_degraded(self) -> bool:
        """Redis is configured but unreachable, or the bus has not resubscribed yet."""
        if self.redis_health is None:
            return False
        connected = getattr(self.bus, "connected", None)
        return not self.redis_health.up or (connected is not None and not connected.is_set())

    async def kick(self, *, code: CloseCode, reason: str, **target: str | None) -> None:
        """Close the sockets of a session or member here at once, then in every process."""
        self.gateway.kick(code, reason, **target)
        try:
            await self.bus.control({"kick": {"code": int(code), "reason": reason, **target}})
        except Exception:  # this process's sockets are closed; others' heartbeats lapse
            log.exception("could not tell other processes to close %s", target)

    def _on_control(self, message: dict[str, Any]) -> None:
        kick = message.get("kick")
        if isinstance(kick, dict):
            try:
                code = CloseCode(kick.pop("code"))
                reason = str(kick.pop("reason"))
                self.gateway.kick(code, reason, **{k: kick.get(k) for k in
                                                   ("session", "member", "community",
                                                    "invite")})
            except (KeyError, ValueError, TypeError):
                log.warning("ignored a malformed control message %r", message)
                return
            member, community = kick.get("member"), kick.get("community")
            if isinstance(member, str) and isinstance(community, str):
                self.actions._background(self._recheck(member, community))

    async def _recheck(self, member: str, community: str) -> None:
        """A member's place in a community changed (removed, role changed): fold the change
        here now, rather than at the next announcement or poll, so their sockets in this
        process that entered another community stop reading this one's streams at once."""
        await self.feed.sync(community_stream(community))
        self.gateway.recheck_member(member, community)

    def _room_changed(self, state: Any, event: Event) -> None:
        """Someone left a room: a pair-up round running in one of its sessions goes on
        without them (in every process that sees it; one change is made)."""
        for room, member in self.sessions.room_changed(state, event):
            self.actions._background(self.sessions.member_left(room, member))

    def _announced(self, stream: str, seq: int) -> None:
        """Another process committed ``stream`` up to ``seq``."""
        self.feed.notify(stream, seq)
        self.projections.notify(stream, seq)

    def _poll_soon(self) -> None:
        self.actions._background(self.feed.poll_once())

    async def stop(self) -> None:
        """Close sockets with 1001 so clients reconnect, then flush the writer.

        Each step has a deadline, so a stuck network peer cannot stop a shutdown;
        the store's flush gets the longest, since it holds acknowledged-to-be events.
        """
        self.gateway.close_all(CloseCode.GOING_AWAY, "server restarting")
        await _bounded("scheduler", self.scheduler.stop(), 5)
        await _bounded("liveness", self.liveness.stop(), 5)
        await _bounded("janitor", self.janitor.stop(), 5)  # releases the leases
        await _bounded("feed", self.feed.stop(), 5)
        await _bounded("background tasks", self.actions.drain(), 5)
        await _bounded("projections", self.projections.stop(), 6)
        await _bounded("store", self.store.close(), 30)  # its last commits still announced
        await _bounded("bus", self.bus.stop(), 5)
        await _bounded("relay", self.relayer.stop(), 5)
        await _bounded("media", self.media.close(), 5)
        await _bounded("presence", self.actions.shared.stop(), 5)
        if self.redis_health is not None:
            await _bounded("redis probe", self.redis_health.stop(), 5)
        if self.redis is not None:
            await _bounded("redis", self.redis.aclose(), 5)


async def _bounded(step: str, work: Awaitable[None], seconds: float) -> None:
    try:
        await asyncio.wait_for(work, seconds)
    except TimeoutError:
        log.error("shutdown: %s did not finish within %.0fs; going on", step, seconds)
    except Exception:
        log.exception("shutdown: %s failed; going on", step)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    practica = Practica(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(practica.start(), STARTUP_TIMEOUT_S)
        except BaseException as exc:
            # Release what did open (the store's threads, sockets): left behind, they keep
            # the process alive after uvicorn gives up, and it hangs without listening.
            practica.startup_error = (
                f"not ready within {STARTUP_TIMEOUT_S}s"
                if isinstance(exc, TimeoutError) and not str(exc)
                else f"{type(exc).__name__}: {exc}")
            log.error("startup failed: %s", practica.startup_error)
            await practica.stop()
            raise
        try:
            yield
        finally:
            await practica.stop()

    async def index(request: Request) -> Response:
        return FileResponse(settings.web_dir / "index.html",
                            headers={"cache-control": "no-cache"})

    async def not_found(request: Request, exc: Exception) -> Response:
        """An unknown address: JSON under /api, else a page in the app's style."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": "not_found", "message": "no such endpoint"},
                                status_code=404)
        return FileResponse(settings.web_dir / "404.html", status_code=404,
                            headers={"cache-control": "no-cache"})

    async def healthz(request: Request) -> Response:
        return JSONResponse(*await health_report(practica))

    async def metrics(request: Request) -> Response:
        """Only with ``Authorization: Bearer <metrics_token>``; without a token set, the
        public listener has no ``/metrics`` at all (``metrics_port`` serves it apart)."""
        token = settings.metrics_token
        sent = request.headers.get("authorization", "")
        if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(generate_latest(practica.metrics.registry),
                        media_type=CONTENT_TYPE_LATEST)

    async def not_an_upgrade(request: Request) -> Response:
        return JSONResponse({"code": "invalid", "message": "/ws is a websocket: send an "
                             "upgrade request (see /api/openapi.json and asyncapi.json)"},
                            status_code=426, headers={"upgrade": "websocket"})

    async def openapi(request: Request) -> Response:
        return Response(msgspec.json.encode(openapi_document(practica.api.endpoints)),
                        media_type="application/json")

    routes: list[Any] = [
        Route("/", index),
        Route("/s/{session}", index),  # a live session (web/session.js)
        *(Route(path, index) for path in ("/c/{community}", "/invite/{token}",
                                           "/guest/{token}", "/reset/{token}",
                                           "/s/{session}/transcript", "/r/{artefact}",
                                           "/c/{community}/repertoire")),
        Route("/api/openapi.json", openapi),
        *practica.api.routes(),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        WebSocketRoute("/ws", practica.gateway),
        Route("/ws", not_an_upgrade),  # the same path as plain HTTP
        Mount("/static", StaticFiles(directory=settings.web_dir), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found},
                    middleware=[Middleware(KeepRawSend, gateway=practica.gateway),
                                Middleware(SecurityHeaders)])
    # Starlette's trailing-slash redirect builds an absolute Location from the Host
    # header (a client-chosen value); no route needs it, so "/x/" is simply not found.
    app.router.redirect_slashes = False
    logs.register_token_routes(getattr(route, "path", "") for route in routes)
    app.state.practica = practica
    return app
