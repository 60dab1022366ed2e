"""Configuration, read once from environment variables (see README)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


def find_web_dir() -> Path:
    """The browser client's folder: the installed ``practica_web`` package (a wheel ships
    ``web/`` under that name, see pyproject.toml), else the checkout's ``web/`` next to
    ``server/``. ``practica_web`` has no ``__init__.py`` (it is the client's folder as
    is), and Python 3.11's ``importlib.resources`` fails on such namespace packages, so
    its location comes from the import system's spec instead."""
    spec = importlib.util.find_spec("practica_web")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "index.html").is_file():
            return Path(location)
    return Path(__file__).resolve().parent.parent / "web"


WEB_DIR = find_web_dir()


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///practica.db"
    """``sqlite:///path`` (created and migrated on first run) or ``postgresql://...``."""
    redis_url: str = ""
    """``redis://host:port/db`` to run several processes: it carries "new events"
    announcements, shared presence, leases and rate limits between them."""
    redis_prefix: str = "practica"
    """Namespace of every Redis key and channel, so deployments can share one Redis."""
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: tuple[str, ...] = ()
    """Origins (``https://chat.example.org``) whose pages may open ``/ws``, besides the
    server's own; a websocket from any other Origin is refused with HTTP 403."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/8``) of the reverse proxies whose
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed; ``*`` trusts anyone (only
    behind a proxy that overwrites them). Default: none, so no client can choose the
    address its rate limits are counted against."""
    metrics_token: str = ""
    """A bearer token that ``/metrics`` requires; empty: ``/metrics`` is not served on
    the public listener (see ``metrics_port``)."""
    metrics_port: int = 0
    """When set, ``/metrics`` is also served, without a token, on this port of
    ``metrics_host`` (a separate listener for the monitoring network)."""
    metrics_host: str = "127.0.0.1"
    heartbeat_interval_ms: int = 15_000
    heartbeat_timeout_ms: int = 70_000
    """Silence from a client longer than this ends its connection (4004). Generous on
    purpose: browsers run a hidden tab's timers only about once a minute."""
    keepalive_ms: int = 5_000
    """The server pings every socket at the websocket level this often and ends one whose
    pong has not come back within the same time (1011), so a member whose network died
    leaves rooms within seconds, not after ``heartbeat_timeout_ms``. Browsers answer
    pings themselves, even in a hidden tab whose timers are throttled. 0 turns it off."""
    identify_timeout_ms: int = 10_000
    max_frame_bytes: int = 64 * 1024
    commands_per_minute: int = 120
    command_burst: int = 30
    relays_per_minute: int = 120
    """Ephemeral relay frames (typing, later signalling) per connection, apart from commands."""
    relay_burst: int = 20
    max_relay_bytes: int = 4096
    """The largest ``data`` a relay frame may carry, as JSON."""
    ice_servers: tuple[str, ...] = ()
    """STUN/TURN URLs for browsers' peer-to-peer calls in breakout rooms, comma separated
    (``stun:turn.example.org:3478,turn:turn.example.org:3478?transport=udp``); empty:
    none (peers on one network need none). See README "Audio and video in pairs"."""
    turn_secret: str = ""
    """coturn's ``static-auth-secret``: each person gets TURN credentials of their own
    that expire after ``turn_ttl_s``. Empty: TURN URLs are sent without credentials."""
    turn_ttl_s: int = 6 * 3600
    send_queue_frames: int = 1024
    max_resume_streams: int = 32
    max_replay_events: int = 1000
    max_server_frame_bytes: int = 256 * 1024
    """No frame the server sends is larger: long replays, snapshots and history pages are
    split (see server/paging.py), so a client with a 1 MiB frame limit always resumes."""
    presence_grace_ms: int = 15_000
    """How long a dropped connection still shows its member present."""
    session_snapshot_every: int = 200
    """A live session's fold is written to the store every this many events, so a
    starting process folds that snapshot and the events after it, not the whole stream."""
    presence_tick_ms: int = 50
    """Presence changes of a room arriving within this long of its last presence event
    are coalesced into its next one (``members_changed``), so a crowd joining at once
    costs each member one frame per tick, not one per joiner."""
    community: str = "clinical-practice-circle"
    """The community this server hosts (seeded as the demo on first run)."""
    seed_demo: bool = True
    owner_login: str = "owner"
    """The demo community's owner account, created on first run; its password is printed
    once, then only its hash is kept."""
    session_days: int = 30
    """How long a sign-in lasts."""
    secure_cookies: bool = False
    """Mark cookies Secure even when the request did not arrive over https (set it behind
    a TLS-terminating proxy that does not send ``X-Forwarded-Proto``)."""
    signin_failures_per_login_address: int = 5
    """Failed sign-ins allowed per login from one client address in 15 minutes; more get
    HTTP 429 (that address only: the account's owner signs in from elsewhere)."""
    signin_failures_per_account: int = 50
    """Failed sign-ins allowed per login from all addresses together in 15 minutes, a
    ceiling against guessing from many addresses."""
    signin_failures_per_address: int = 30
    """Failed sign-ins allowed per client address (any login) in 15 minutes."""
    signups_per_hour_per_address: int = 20
    reset_link_hours: int = 24
    refusals_per_minute: int = 30
    """Refused actions per person per minute that are audited; beyond, ``rate_limited``
    (so nobody can flood a community's audit log)."""
    outsider_refusals_per_minute: int = 0
    """Refused actions per client address per minute by people who are not in the
    community (never audited); beyond, ``rate_limited``. 0: as ``refusals_per_minute``."""
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    synchronous: str = "FULL"
    """SQLite's ``synchronous`` pragma: FULL (fsync every commit) or NORMAL."""
    log_format: str = "json"
    eager_send: bool = True
    """Write frames without a task switch when the socket can take them. Needs an ASGI
    server whose send suspends before writing (uvicorn's websockets-sansio, which
    ``practica run`` uses); turn off when serving the app some other way."""
    web_dir: Path = field(default=WEB_DIR)
    janus_url: str = "ws://127.0.0.1:8188"
    """Janus's websocket API (VideoRoom plugin), for room-wide video; Practica proxies it
    and browsers never reach it. Empty: room-wide video is off."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """``PRACTICA_<FIELD>`` for every field (``PORT`` and ``DATABASE_URL`` too)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"PRACTICA_{f.name.upper()}")
            if raw is None and f.name in ("port", "database_url", "redis_url"):
                raw = env.get(f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.name, raw, type(getattr(cls(), f.name)))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def sweep_interval_s(self) -> float:
        """How often the janitor and the feed poll look for work."""
        return min(1.0, self.presence_grace_ms / 3000)

    @property
    def heartbeat_timeout_s(self) -> float:
        return self.heartbeat_timeout_ms / 1000


def _parse(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind is int:
            return int(raw)
        if kind is tuple:
            return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
        if kind is Path or issubclass(kind, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise SystemExit(
            f"PRACTICA_{name.upper()}={raw!r} is not a valid {kind.__name__}") from None
