"""``practica run | verify | make-owner | reset-password | rebuild | schemas``."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import threading
from typing import Any

import uvicorn

from . import logs
from .settings import Settings
from .ws_protocol import LeanWebSocketProtocol


def uvicorn_config(app: Any, settings: Settings, **extra: Any) -> uvicorn.Config:
    """Practica's websocket settings: 64 KiB frames, no compression, uvicorn's sansio
    protocol with lighter per-connection state (server/ws_protocol.py); forwarded headers
    believed only from ``trusted_proxies`` (uvicorn's own default trusts loopback, which
    would let any local client pick its address)."""
    logs.redact_access_log()
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, ws=LeanWebSocketProtocol,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        ws_max_size=settings.max_frame_bytes, ws_per_message_deflate=False,
        ws_ping_interval=settings.keepalive_ms / 1000 or None,
        ws_ping_timeout=settings.keepalive_ms / 1000 or None, lifespan="on", log_config=None,
        timeout_graceful_shutdown=10, **extra,
    )


class PracticaServer(uvicorn.Server):
    """uvicorn, but sockets are closed with 1001 (reconnect) before uvicorn's own 1012."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        app = getattr(self.config, "loaded_app", None)
        practica = _find_practica(app)
        if practica is not None:
            practica.gateway.close_all_going_away()
            await asyncio.sleep(0.2)
        await super().shutdown(sockets)


def _find_practica(app: Any) -> Any:
    for _ in range(8):  # unwrap uvicorn's and Starlette's middleware layers
        if app is None:
            return None
        state = getattr(app, "state", None)
        if state is not None and hasattr(state, "practica"):
            return state.practica
        app = getattr(app, "app", None)
    return None


def metrics_listener(settings: Settings, registry: Any) -> Any:
    """Serve ``/metrics`` (no token) on ``metrics_host:metrics_port``, a listener apart
    from the public one; None when no port is set. Returns the WSGI server (shutdown())."""
    if not settings.metrics_port:
        return None
    from prometheus_client import start_http_server

    httpd, _ = start_http_server(settings.metrics_port, settings.metrics_host,
                                 registry=registry)
    return httpd


def run(settings: Settings) -> int:
    """Serve until stopped (0); 1, with the reason on stderr, when it could not start."""
    from .app import create_app

    logs.configure(settings.log_format)
    try:
        app = create_app(settings)
    except Exception as exc:  # settings the store or Redis client refuse outright
        return _startup_failed(f"{type(exc).__name__}: {exc}")
    metrics_listener(settings, app.state.practica.metrics.registry)
    server = PracticaServer(uvicorn_config(app, settings))
    print(f"Practica is starting: open {_public_url(settings)}/", flush=True)
    try:
        server.run()
    except SystemExit:  # uvicorn exits this way when it cannot listen
        if server.started:
            raise
    if server.started:
        return 0
    return _startup_failed(app.state.practica.startup_error
                           or f"could not listen on {settings.host}:{settings.port}")


def _startup_failed(reason: str) -> int:
    lingering = [t for t in threading.enumerate()
                 if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if lingering:  # said first, so the reason stays the last line an operator reads
        print(f"practica: {len(lingering)} threads did not stop; exiting anyway",
              file=sys.stderr, flush=True)
    print(f"practica: could not start: {reason}", file=sys.stderr, flush=True)
    if lingering:  # a library thread left behind must not keep a failed start alive
        os._exit(1)
    return 1


def verify(path: str) -> int:
    from .store.sqlite import SqliteStore

    async def check() -> int:
        store = SqliteStore(path.removeprefix("sqlite:///"))
        await store.open()
        try:
            report = await store.verify()
        finally:
            await store.close()
        print(f"integrity_check: {report.integrity_check}")
        for stream in report.streams:
            status = "ok" if stream.ok else f"BROKEN: {stream.problem}"
            print(f"  {stream.stream}: {stream.events} events, {stream.erased} erased, {status}")
        print(f"{len(report.streams)} streams, {report.events} events: "
              + ("all hash chains verify" if report.ok else "PROBLEMS FOUND"))
        return 0 if report.ok else 1

    return asyncio.run(check())


def make_owner(url: str, login: str, community: str) -> int:
    """Make an account an owner of a community, from the command line: for a community
    founded before accounts existed (it has no owner), or one whose owners are gone."""
    from .domain.events import AuditRecorded, MemberAdmitted, RoleChanged, community_stream
    from .domain.names import readable_name
    from .folds import Folds
    from .store import open_store

    async def grant() -> int:
        store = open_store(url)
        await store.open()
        try:
            rows = await store.fetch("SELECT id, name FROM accounts WHERE login = ?",
                                     (login.lower(),))
            if not rows:
                print(f"no account with login {login!r}", file=sys.stderr)
                return 1
            account, name = rows[0][0], readable_name(rows[0][1])
            folds = Folds(store)
            state = await folds.load_community(community)
            if state.seq == 0:
                print(f"no community {community!r}", file=sys.stderr)
                return 1
            if state.role_of(account) is not None and state.members[account].role == "owner":
                print(f"{login} is already an owner of {state.name}")
                return 0
            body = (RoleChanged(member=account, role="owner") if account in state.members
                    else MemberAdmitted(member=account, name=name, role="owner",
                                        via="operator"))
            await store.append(community_stream(community), None, [body])
            await store.append(f"audit:{community}", None, [AuditRecorded(
                action="make_owner", outcome="done", target=account,
                detail="by the server operator (practica make-owner)")])
            print(f"{login} is now an owner of {state.name}")
            return 0
        finally:
            await store.close()

    return asyncio.run(grant())


def reset_password(url: str, login: str, base_url: str, hours: int) -> int:
    """Print a one-time reset link for an account (any account: the operator is trusted,
    unlike a community's owner). Earlier links for the account stop working."""
    from .actions.resets import OPERATOR, issue_link
    from .store import open_store

    async def issue() -> int:
        store = open_store(url)
        await store.open()
        try:
            rows = await store.fetch("SELECT id FROM accounts WHERE login = ?",
                                     (login.lower(),))
            if not rows:
                print(f"no account with login {login!r}", file=sys.stderr)
                return 1
            link = await issue_link(store, rows[0][0], issued_by=OPERATOR, hours=hours)
        finally:
            await store.close()
        print(f"One-time password-reset link for {login.lower()} (valid {hours} h; "
              "hand it over privately):")
        print(f"{base_url.rstrip('/')}{link.path}")
        return 0

    return asyncio.run(issue())


def rebuild(url: str, names: list[str]) -> int:
    """Drop projections and apply every stream again from the start (stop the server
    first on SQLite; on PostgreSQL running servers keep applying meanwhile, harmlessly)."""
    from .projections import Projector
    from .projections.pairings import PairingsProjection
    from .projections.repertoire_search import ArtefactSearch, TranscriptSearch
    from .projections.search import SearchProjection
    from .store import open_store

    known = {p.name: p for p in (SearchProjection(), PairingsProjection(), ArtefactSearch(),
                                 TranscriptSearch())}
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"no projection {unknown[0]!r}; there are: {', '.join(known)}", file=sys.stderr)
        return 1

    async def run_all() -> int:
        store = open_store(url)
        await store.open()
        try:
            for name in names or list(known):
                applied = await Projector(store, known[name]).rebuild()
                print(f"rebuilt {name} from {applied} events")
        finally:
            await store.close()
        return 0

    return asyncio.run(run_all())


def _public_url(settings: Settings) -> str:
    shown = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0", "::") else settings.host
    return f"http://{shown}:{settings.port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="practica", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="serve Practica (SQLite by default; seeds the demo)")
    run_p.add_argument("--host")
    run_p.add_argument("--port", type=int)
    run_p.add_argument("--database", help="sqlite:///path (default: $PRACTICA_DATABASE_URL)")
    verify_p = sub.add_parser("verify", help="check a database's integrity and hash chains")
    verify_p.add_argument("database", nargs="?", help="sqlite:///path or a path")
    owner_p = sub.add_parser(
        "make-owner", help="make an account an owner of a community (stop the server first "
        "when on SQLite)")
    owner_p.add_argument("login")
    owner_p.add_argument("--community", help="default: $PRACTICA_COMMUNITY")
    owner_p.add_argument("--database", help="default: $PRACTICA_DATABASE_URL")
    reset_p = sub.add_parser(
        "reset-password", help="print a one-time password-reset link for an account")
    reset_p.add_argument("login")
    reset_p.add_argument("--database", help="default: $PRACTICA_DATABASE_URL")
    reset_p.add_argument("--base-url", help="the server's public address, for the link "
                         "(default: from $PRACTICA_HOST and $PORT)")
    rebuild_p = sub.add_parser(
        "rebuild", help="drop projections (search) and rebuild them from the streams (stop "
        "the server first when on SQLite)")
    rebuild_p.add_argument("--projection", action="append", default=[],
                           help="only this one (repeatable; default: all)")
    rebuild_p.add_argument("--database", help="default: $PRACTICA_DATABASE_URL")
    schemas_p = sub.add_parser("schemas", help="write (or --check) the generated schemas/")
    schemas_p.add_argument("--check", action="store_true", help="fail if schemas/ has drifted")
    schemas_p.add_argument("--out", default="schemas")
    args = parser.parse_args(argv)

    if args.command == "run":
        overrides = {k: v for k, v in (("host", args.host), ("port", args.port),
                                       ("database_url", args.database)) if v is not None}
        return run(Settings.from_env(**overrides))
    if args.command == "verify":
        return verify(args.database or Settings.from_env().database_url)
    if args.command == "make-owner":
        settings = Settings.from_env()
        return make_owner(args.database or settings.database_url, args.login,
                          args.community or settings.community)
    if args.command == "reset-password":
        settings = Settings.from_env()
        return reset_password(args.database or settings.database_url, args.login,
                              args.base_url or _public_url(settings),
                              settings.reset_link_hours)
    if args.command == "rebuild":
        return rebuild(args.database or Settings.from_env().database_url, args.projection)
    from .schemagen import write_or_check

    return write_or_check(args.out, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
