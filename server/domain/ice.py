"""The ICE servers (STUN/TURN) a browser's peer connections use, from configuration.
Pure: the time comes in.

STUN URLs go to everyone as they are. TURN relays media, so it is not left open: with
coturn's ``use-auth-secret`` (the "TURN REST API" scheme) Practica and coturn share a
secret, and each person gets a username ``<expiry>:<member>`` and the password
``base64(HMAC-SHA1(secret, username))``, which coturn checks without asking Practica and
refuses after the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import msgspec

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


class IceServer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One entry of ``RTCPeerConnection``'s ``iceServers``."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


def check_urls(urls: tuple[str, ...]) -> None:
    """ValueError naming the first URL that is no STUN or TURN URL."""
    for url in urls:
        if not url.startswith(SCHEMES) or len(url) > 512 or any(c.isspace() for c in url):
            raise ValueError(f"ice server {url!r} is not a stun:, stuns:, turn: or turns: URL")


def turn_password(secret: str, username: str) -> str:
    """coturn's ``use-auth-secret`` password for ``username``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(urls: tuple[str, ...], secret: str, member: str, now_s: int,
                ttl_s: int) -> list[IceServer]:
    """The STUN URLs as one entry; the TURN URLs as another, with ``member``'s
    credentials valid until ``now_s + ttl_s`` when there is a ``secret``."""
    stun = [u for u in urls if u.startswith(("stun:", "stuns:"))]
    turn = [u for u in urls if u.startswith(("turn:", "turns:"))]
    servers = [IceServer(urls=stun)] if stun else []
    if turn:
        if secret:
            username = f"{now_s + ttl_s}:{member}"
            servers.append(IceServer(urls=turn, username=username,
                                     credential=turn_password(secret, username)))
        else:
            servers.append(IceServer(urls=turn))
    return servers
