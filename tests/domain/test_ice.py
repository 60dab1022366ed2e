"""ICE servers from configuration: STUN as it is, TURN with per-person credentials that
coturn's ``use-auth-secret`` accepts (checked against the scheme's definition)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from server.domain.ice import IceServer, check_urls, ice_servers, turn_password

URLS = ("stun:turn.example.org:3478", "turn:turn.example.org:3478?transport=udp",
        "turns:turn.example.org:5349")


def test_stun_and_turn_with_expiring_credentials():
    stun, turn = ice_servers(URLS, "s3cret", "m-ann", now_s=1_000, ttl_s=600)
    assert stun == IceServer(urls=["stun:turn.example.org:3478"])
    assert turn.urls == list(URLS[1:])
    assert turn.username == "1600:m-ann"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1600:m-ann", hashlib.sha1).digest())
    assert turn.credential == expected.decode() == turn_password("s3cret", "1600:m-ann")
    other = ice_servers(URLS, "s3cret", "m-bob", now_s=1_000, ttl_s=600)[1]
    assert other.credential != turn.credential


def test_without_a_secret_or_servers():
    assert ice_servers((), "s3cret", "m-ann", 0, 60) == []
    (turn,) = ice_servers(URLS[1:2], "", "m-ann", 0, 60)
    assert turn.username is None and turn.credential is None


def test_a_bad_url_is_refused_at_start():
    check_urls(URLS)
    for bad in ("http://turn.example.org", "turn:a b", "stun:" + "x" * 600, ""):
        with pytest.raises(ValueError, match="is not a stun"):
            check_urls((bad,))
