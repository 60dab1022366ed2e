"""``GET /api/ice-servers``: the STUN/TURN servers a signed-in person's browser gives
its peer connections (a breakout room's call), TURN with credentials of their own that
expire (see :mod:`server.domain.ice`). Guests get them too: they talk in pairs."""

from __future__ import annotations

import time

import msgspec

from ..domain.ice import IceServer, check_urls, ice_servers
from ..settings import Settings
from .endpoints import Call, Endpoint


class IceConfig(msgspec.Struct, kw_only=True):
    ice_servers: list[IceServer]
    """``RTCPeerConnection({iceServers})`` as it is; empty when none are configured
    (peers on one network find each other without)."""
    expires_s: int | None = None
    """When TURN credentials stop working (seconds since the epoch): fetch again for a
    call that starts later. None: nothing expires."""


def ice_endpoints(settings: Settings) -> list[Endpoint]:
    check_urls(settings.ice_servers)  # a bad URL stops the start, not a call

    async def servers(call: Call) -> IceConfig:
        now = int(time.time())
        found = ice_servers(settings.ice_servers, settings.turn_secret, call.who.member, now,
                            settings.turn_ttl_s)
        expires = now + settings.turn_ttl_s if any(s.credential for s in found) else None
        return IceConfig(ice_servers=found, expires_s=expires)

    return [Endpoint("GET", "/api/ice-servers", "The STUN/TURN servers for a breakout "
                     "room's peer-to-peer call (TURN credentials of your own)", servers,
                     reply=IceConfig)]
