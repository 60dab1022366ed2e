"""Breakout calls' signalling over real sockets: a ``signal`` reaches the one member of
the sender's group it names (as ``relayed`` kind ``signal``) and nobody else, is never
stored and appends nothing; signalling to someone outside your group, from outside a
group, too large or malformed, through a ``relay`` frame, or while timed out is refused
with a typed error and reaches nobody. Across two processes (PostgreSQL + Redis) a
signal reaches the one member named in whichever process holds their socket.
``GET /api/ice-servers`` gives the configured STUN/TURN servers, TURN with credentials
of one's own."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import httpx2
import msgspec
import pytest

from server.signal_protocol import MAX_SDP_CHARS
from tests import test_session_pairs as pairs
from tests.session_setup import attend, circle, member, op, open_session
from tests.test_session_scaleout import pair as pair  # the two-process fixture
from tests.test_session_scaleout import until_known

pytestmark = pytest.mark.anyio
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture(autouse=True)
async def _close_sockets(server: Any) -> Any:
    yield
    await asyncio.gather(*(ws.close() for ws in pairs._OPEN), return_exceptions=True)
    pairs._OPEN.clear()


def signals(ws: Any) -> list[dict[str, Any]]:
    return [f for f in ws.frames if f["type"] == "relayed" and f["kind"] == "signal"]


async def nothing_more(r: pairs.Room, names: list[str], counts: dict[str, int]) -> None:
    """After a moment, ``names`` (and the host) got no signal beyond ``counts``."""
    await asyncio.sleep(0.2)
    for name in [*names, "host"]:
        assert len(signals(r.ws(name))) == counts.get(name, 0), name


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_a_signal_reaches_the_one_member_named_and_is_never_stored(server):
    r = await pairs.pairs_room(server, 5)
    await r.checked("host", "pair")
    trio = next(g for g in r.groups() if len(g) == 3)
    pair = next(g for g in r.groups() if len(g) == 2)
    a, b, c = (r.name_of(m) for m in trio)
    head = await r.head()
    offer = {"kind": "offer", "call": "c-1", "sdp": SDP}
    sent = await op(r.ws(a), r.session, "signal", to=r.id(b), signal=offer)
    assert sent["type"] == "ack" and "seq" not in sent, sent
    got = await r.ws(b).wait_for(lambda f: f["type"] == "relayed" and f["kind"] == "signal")
    assert got["stream"] == r.stream and got["from"]["id"] == r.id(a)
    assert got["data"] == {"group": r.state.ups.group_of(r.id(a)), "round": 1,
                           "signal": offer}
    candidate = {"kind": "candidate", "call": "c-1", "sdp_mid": "0", "sdp_mline_index": 0,
                 "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host"}
    assert (await op(r.ws(a), r.session, "signal", to=r.id(c),
                     signal=candidate))["type"] == "ack"
    to_c = await r.ws(c).wait_for(lambda f: f["type"] == "relayed" and f["kind"] == "signal")
    assert to_c["data"]["signal"] == candidate
    await nothing_more(r, [r.name_of(m) for m in pair], {b: 1, c: 1})
    assert signals(r.ws(a)) == []  # not echoed to the sender
    assert await r.head() == head
    stored = msgspec.json.encode(await server.practica.store.read(r.stream)).decode()
    assert "c-1" not in stored and "127.0.0.1 40000" not in stored


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_signalling_outside_your_group_is_refused_and_reaches_nobody(server):
    r = await pairs.pairs_room(server, 4, start=False)
    offer = {"kind": "offer", "call": "c-1", "sdp": SDP}
    everyone = list(r.people)
    await r.checked("host", "start")
    await r.refused("ann", "signal", "out_of_order", to=r.id("bob"), signal=offer)  # no round
    await r.checked("host", "pair")
    (partner,) = pairs.partner_of(r, "ann")
    stranger = next(m for g in r.groups() if r.id("ann") not in g for m in g)
    message = await r.refused("ann", "signal", "forbidden", to=stranger, signal=offer)
    assert "not in your breakout room" in message
    await r.refused("ann", "signal", "forbidden", to=r.id("host"), signal=offer)
    await r.refused("ann", "signal", "invalid", to=r.id("ann"), signal=offer)
    await r.refused("host", "signal", "out_of_order", to=r.id("ann"), signal=offer)
    # Too large, or not a session description: refused by the frame's types.
    for bad in ({**offer, "sdp": SDP + "a=x\r\n" * (MAX_SDP_CHARS // 5)},
                {**offer, "sdp": "<script>"}, {"kind": "ring"},
                {"kind": "candidate", "call": "c-1", "candidate": "c" * 2000}):
        assert len(json.dumps(bad)) < 60_000  # within the frame limit: the type refuses it
        await r.refused("ann", "signal", "invalid", to=partner, signal=bad)
    # A client cannot send signalling as a relay frame, to anyone.
    relayed = await r.ws("ann").command("relay", stream=r.stream, kind="signal", to=[partner],
                                        data={"signal": offer})
    assert (relayed["type"], relayed["code"]) == ("error", "invalid"), relayed
    await nothing_more(r, everyone, {})
    # A member timed out may not speak in the session: no call either.
    timeout = await r.c.host.call(
        "POST", f"/api/communities/{r.c.community}/members/{r.id('ann')}/timeout",
        {"minutes": 10, "reason": "heated"})
    assert timeout.status_code == 204, timeout.text
    await r.refused("ann", "signal", "forbidden", to=partner, signal=offer)
    await nothing_more(r, everyone, {})


async def test_ice_servers_from_settings(server):
    r = await pairs.pairs_room(server, 1, start=False)
    reply = await r.c.host.call("GET", "/api/ice-servers")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"ice_servers": [], "expires_s": None}


@pytest.mark.settings(ice_servers=("stun:turn.example.org:3478",
                                   "turn:turn.example.org:3478?transport=udp"),
                      turn_secret="s3cret", turn_ttl_s=600)
async def test_turn_credentials_are_each_persons_own_and_expire(server):
    r = await pairs.pairs_room(server, 1, start=False)
    reply = (await r.c.host.call("GET", "/api/ice-servers")).json()
    stun, turn = reply["ice_servers"]
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    expiry, member = turn["username"].split(":")
    assert member == r.id("host") and int(expiry) == reply["expires_s"]
    digest = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    ann = (await r.people["ann"][0].call("GET", "/api/ice-servers")).json()["ice_servers"][1]
    assert ann["username"].endswith(f":{r.id('ann')}")
    async with httpx2.AsyncClient(base_url=server.url) as http:
        anonymous = await http.get("/api/ice-servers")
    assert anonymous.status_code == 401, anonymous.text


async def test_a_signal_crosses_processes_to_the_one_member_named(pair):
    """PostgreSQL + Redis, two processes: members on both, each group's first member
    signals the others; each receives it in whichever process holds their socket, and
    nobody else receives anything."""
    a, b = pair
    c = await circle(a, members=0)
    session = await open_session(c, agenda=pairs.AGENDA)
    await until_known(b, session)
    people = [await member(a, c.community, name, ws_url=url, other=b)
              for name, url in (("Ann Asker", a.ws_url), ("Bob Voter", b.ws_url),
                                ("Cy Third", a.ws_url), ("Di Fourth", b.ws_url))]
    for _person, socket in people:
        assert (await socket.command("join", room=c.room))["type"] == "ack"
        await attend(socket, session)
    await op(c.host_ws, session, "start")
    for server in (a, b):
        room = await server.practica.folds.room(c.room)
        await until_(lambda room=room: all(p.id in room.present for p, _ in people))
    assert (await op(c.host_ws, session, "pair"))["type"] == "ack"
    groups = a.practica.folds.session(session).ups.member_lists()
    await until_(lambda: b.practica.folds.session(session).ups.member_lists() == groups)
    socket_of = {person.id: socket for person, socket in people}
    expected: dict[str, int] = {}
    for group in groups:
        sender, *others = group
        for to in others:
            hello = await op(socket_of[sender], session, "signal", to=to,
                             signal={"kind": "hello"})
            assert hello["type"] == "ack", hello
            got = await socket_of[to].wait_for(
                lambda f: f["type"] == "relayed" and f["kind"] == "signal")
            assert got["from"]["id"] == sender and got["data"]["signal"] == {"kind": "hello"}
            expected[to] = expected.get(to, 0) + 1
    await asyncio.sleep(0.3)
    for person, socket in people:
        assert len(signals(socket)) == expected.get(person.id, 0), person.id
    assert signals(c.host_ws) == []


async def until_(check: Any, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "in time"
        await asyncio.sleep(0.02)
