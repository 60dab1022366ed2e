"""Reading a stream is one decision: resume, join, history, gap catch-up and live
delivery all ask who may read it, over a real socket, on both backends.

A stream one may not read, or that is no stream, is refused with a typed error and
nothing of it is sent: no snapshot, no replay, no live event.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from server.domain.events import audit_stream
from tests.people import Person
from tests.wsclient import Client

pytestmark = pytest.mark.anyio

GUILD = "guild"
OTHER = "other-guild"
_ids = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- set-up ----------------------------------------------------------------------------


async def found(owner: Person, community: str) -> str:
    """Create ``community`` (owned by ``owner``) with one room; the room's id."""
    made = await owner.call("POST", "/api/communities", {
        "community": community, "name": community.title(), "domain": "Bridges",
        "purpose": "Build", "join_policy": "approval"})
    assert made.status_code == 201, made.text
    page = await owner.call("POST", f"/api/communities/{community}/rooms",
                            {"name": f"Workshop {next(_ids)}"})
    assert page.status_code == 201, page.text
    return str(page.json()["rooms"][-1]["room"])


async def add_room(owner: Person, community: str) -> str:
    page = await owner.call("POST", f"/api/communities/{community}/rooms",
                            {"name": f"Side room {next(_ids)}"})
    assert page.status_code == 201, page.text
    return str(page.json()["rooms"][-1]["room"])


async def admit(owner: Person, community: str, person: Person, role: str = "member") -> None:
    reply = await owner.call("POST", f"/api/communities/{community}/invites", {"max_uses": 1})
    assert reply.status_code == 201, reply.text
    accepted = await person.call("POST", f"/api/invites/{reply.json()['token']}/accept")
    assert accepted.json()["outcome"] == "joined", accepted.text
    if role != "member":
        await set_role(owner, community, person, role)


async def set_role(owner: Person, community: str, person: Person, role: str) -> None:
    reply = await owner.call("PUT", f"/api/communities/{community}/members/{person.id}/role",
                             {"role": role})
    assert reply.status_code == 204, reply.text


async def guest(server: Any, owner: Person, community: str, room: str) -> Person:
    link = await owner.call("POST", f"/api/communities/{community}/invites",
                            {"kind": "guest", "room": room})
    assert link.status_code == 201, link.text
    person = Person(server.url)
    await person.refresh()
    entered = await person.call("POST", "/api/guest", {"token": link.json()["token"],
                                                       "name": "Visiting Vera"})
    assert entered.status_code == 201, entered.text
    person.me, person.csrf = entered.json(), entered.json()["csrf"]
    return person


async def resumed(server: Any, person: Person, streams: dict[str, int],
                  community: str | None = None) -> tuple[Client, dict[str, Any]]:
    client = await person.connect(server.ws_url)
    client.keep_reading()
    fields = {"community": community} if community else {}
    ready = await client.resume(streams, **fields)
    assert ready["type"] == "ready", ready
    return client, {s["stream"]: s for s in ready["syncs"]}


async def settled(client: Client) -> None:
    """Everything the server queued for ``client`` so far has arrived."""
    await client.send({"type": "heartbeat"})
    await client.wait_for(lambda f: f["type"] == "heartbeat_ack")


def assert_refused(sync: dict[str, Any], code: str) -> None:
    assert sync["mode"] == "refused" and sync["error"] == code, sync
    assert "snapshot" not in sync and not sync.get("events"), sync
    assert sync["seq"] == 0 and sync.get("reason"), sync


def frames_of(client: Client, stream: str) -> list[dict[str, Any]]:
    return [f for f in client.frames if f.get("stream") == stream and f["type"] == "event"]


async def post(client: Client, room: str, text: str) -> None:
    reply = await client.command("post", room=room, text=text)
    assert reply["type"] == "ack", reply


# --- the audit stream -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "host", "guest"])
async def test_only_conveners_and_owners_read_the_audit_stream(server, role):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    if role == "guest":
        reader = await guest(server, owner, GUILD, room)
    else:
        reader = await Person.sign_up(server.url, "Reader")
        await admit(owner, GUILD, reader, role)
    convener = await Person.sign_up(server.url, "Convener")
    await admit(owner, GUILD, convener, "convener")
    head = await server.practica.store.head(audit_stream(GUILD))

    refused, syncs = await resumed(server, reader, {audit_stream(GUILD): 0}, GUILD)
    assert_refused(syncs[audit_stream(GUILD)], "forbidden")
    watcher, syncs = await resumed(server, convener, {audit_stream(GUILD): head}, GUILD)
    assert syncs[audit_stream(GUILD)]["mode"] == "replay"

    # New audit entries: the convener sees them live, the refused socket never does.
    await add_room(owner, GUILD)
    entry = await watcher.wait_for(lambda f: f["type"] == "event"
                                   and f["stream"] == audit_stream(GUILD))
    assert entry["body"]["action"] == "create_room"
    await settled(refused)
    assert [f for f in refused.frames if f.get("stream") == audit_stream(GUILD)
            and f["type"] != "ready"] == []
    await refused.close()
    await watcher.close()


async def test_a_resume_without_a_community_enters_the_one_its_streams_name(server):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    member = await Person.sign_up(server.url, "Member")  # not in the default community
    await admit(owner, GUILD, member)
    for streams in ({audit_stream(GUILD): 0}, {f"room:{room}": 0, "zzz": 0}):
        client, syncs = await resumed(server, member, streams)
        assert client.ready["session"]["community"] == GUILD
        assert syncs[f"community:{GUILD}"]["mode"] == "snapshot"
        if audit_stream(GUILD) in streams:
            assert_refused(syncs[audit_stream(GUILD)], "forbidden")
        else:
            assert syncs[f"room:{room}"]["mode"] in ("replay", "snapshot")
            assert_refused(syncs["zzz"], "not_found")
        await client.close()


# --- made-up names -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["guest", "member"])
async def test_names_that_are_no_readable_stream_are_refused_without_a_snapshot(server, who):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    second_room = await add_room(owner, GUILD)
    other_owner = await Person.sign_up(server.url, "Other owner")
    other_room = await found(other_owner, OTHER)
    if who == "guest":
        reader = await guest(server, owner, GUILD, room)
    else:
        reader = await Person.sign_up(server.url, "Member")
        await admit(owner, GUILD, reader)
    expected = {
        "community:x": "not_found",
        "room:nope": "not_found",
        "zzz": "not_found",
        f"xyz:{GUILD}": "not_found",
        f"rooms:{room}": "not_found",
        f"room:{room}/x": "not_found",
        "audit:nowhere": "not_found",
        audit_stream(OTHER): "forbidden",
        audit_stream(GUILD): "forbidden",
        f"community:{OTHER}": "forbidden",
        f"room:{other_room}": "forbidden",
    }
    if who == "guest":
        expected |= {f"community:{GUILD}": "forbidden", f"room:{second_room}": "forbidden"}
    client, syncs = await resumed(server, reader, dict.fromkeys(expected, 0), GUILD)
    for stream, code in expected.items():
        assert_refused(syncs[stream], code)
    served = {s for s, sync in syncs.items() if sync["mode"] != "refused"}
    assert served == (set() if who == "guest" else {f"community:{GUILD}"})

    # Nothing of them arrives later either.
    poster = await other_owner.connect(server.ws_url)
    await poster.identify(community=OTHER)
    await poster.command("join", room=other_room)
    await post(poster, other_room, "not for you")
    await add_room(other_owner, OTHER)
    await add_room(owner, GUILD)
    await settled(client)
    assert [f for f in client.frames if f.get("stream") in expected] == []
    await poster.close()
    await client.close()


@pytest.mark.settings(refusals_per_minute=2, outsider_refusals_per_minute=2)
async def test_a_resume_refused_more_often_than_the_limit_still_gets_ready(server):
    owner = await Person.sign_up(server.url, "Owner")
    rooms = [await found(owner, GUILD)]
    other_owner = await Person.sign_up(server.url, "Other owner")
    rooms.append(await found(other_owner, OTHER))
    rooms += [await add_room(other_owner, OTHER) for _ in range(3)]
    member = await Person.sign_up(server.url, "Member")
    await admit(owner, GUILD, member)
    wanted = {audit_stream(GUILD): 0, audit_stream(OTHER): 0, f"community:{OTHER}": 0,
              **{f"room:{room}": 0 for room in rooms[1:]}, "zzz": 0}
    client, syncs = await resumed(server, member, wanted, GUILD)
    for stream in wanted:
        assert syncs[stream]["mode"] == "refused", syncs[stream]
    assert syncs[f"community:{GUILD}"]["mode"] == "snapshot"
    await client.close()


async def test_a_guest_resuming_only_made_up_names_gets_no_community(server):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    visitor = await guest(server, owner, GUILD, room)
    client, syncs = await resumed(server, visitor, {"zzz": 0, f"audit:{GUILD}": 0})
    assert set(syncs) == {"zzz", f"audit:{GUILD}"}
    assert all(sync["mode"] == "refused" for sync in syncs.values())
    assert "members" not in str(client.frames)
    await client.close()


# --- rooms of a community one is not in ---------------------------------------------------


async def test_join_and_history_outside_your_communities_are_refused(server):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    stranger = await Person.sign_up(server.url, "Stranger")
    own_room = await found(stranger, OTHER)
    store = server.practica.store
    heads = [await store.head(s) for s in (audit_stream(GUILD), f"room:{room}")]
    client = await stranger.connect(server.ws_url)
    assert (await client.identify(community=OTHER))["type"] == "ready"
    assert (await client.command("join", room=own_room))["type"] == "ack"
    for command in ("join", "history"):
        reply = await client.command(command, room=room)
        assert (reply["type"], reply["code"]) == ("error", "forbidden"), reply
        reply = await client.command(command, room="no-such-room")
        assert (reply["type"], reply["code"]) == ("error", "not_found"), reply
    await settled(client)
    assert frames_of(client, f"room:{room}") == []
    assert [await store.head(s) for s in (audit_stream(GUILD), f"room:{room}")] == heads
    await client.close()


# --- removals and role changes take effect on every socket ---------------------------------


async def two_communities(server: Any) -> tuple[Person, Person, str, str]:
    """An owner of GUILD (room a) and OTHER (room b), and a member of both."""
    owner = await Person.sign_up(server.url, "Owner")
    room_a, room_b = await found(owner, GUILD), await found(owner, OTHER)
    member = await Person.sign_up(server.url, "Member")
    await admit(owner, GUILD, member)
    await admit(owner, OTHER, member)
    return owner, member, room_a, room_b


async def test_a_member_removed_from_b_stops_reading_b_on_a_socket_that_entered_a(server):
    owner, member, room_a, room_b = await two_communities(server)
    client = await member.connect(server.ws_url)
    client.keep_reading()
    assert (await client.identify(community=GUILD))["type"] == "ready"
    for room in (room_a, room_b):
        assert (await client.command("join", room=room))["type"] == "ack"
    poster = await owner.connect(server.ws_url)
    await poster.identify(community=OTHER)
    await poster.command("join", room=room_b)
    await post(poster, room_b, "before")
    await client.wait_for(lambda f: f.get("body", {}).get("text") == "before")

    removed = await owner.call("POST", f"/api/communities/{OTHER}/members/{member.id}/remove",
                               {"reason": "spam"})
    assert removed.status_code == 204, removed.text
    notice = await client.wait_for(lambda f: f["type"] == "unsubscribed")
    assert notice["stream"] == f"room:{room_b}" and notice["code"] == "forbidden"
    await post(poster, room_b, "after")
    await settled(client)
    assert "after" not in [f["body"].get("text") for f in frames_of(client, f"room:{room_b}")]
    assert client.closed_by is None  # the socket lives on in GUILD
    assert (await client.command("history", room=room_b))["code"] == "forbidden"
    await post(client, room_a, "still here")
    await poster.close()
    await client.close()


async def test_a_convener_made_member_stops_reading_the_audit_stream(server):
    owner, member, _, _ = await two_communities(server)
    await set_role(owner, OTHER, member, "convener")
    client, syncs = await resumed(server, member, {audit_stream(OTHER): 0}, GUILD)
    assert syncs[audit_stream(OTHER)]["mode"] == "replay"
    await add_room(owner, OTHER)
    await client.wait_for(lambda f: f.get("stream") == audit_stream(OTHER))

    await set_role(owner, OTHER, member, "member")
    notice = await client.wait_for(lambda f: f["type"] == "unsubscribed")
    assert notice["stream"] == audit_stream(OTHER)
    seen = len(frames_of(client, audit_stream(OTHER)))
    await add_room(owner, OTHER)
    await settled(client)
    assert len(frames_of(client, audit_stream(OTHER))) == seen
    await client.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_gap_catch_up_asks_again(server, backend, monkeypatch):
    """A gap is filled from the store only for a socket that may still read the stream
    (here the live re-checks are switched off, so catch-up is what must notice)."""
    owner, member, _, room_b = await two_communities(server)
    client = await member.connect(server.ws_url)
    client.keep_reading()
    await client.identify(community=GUILD)
    assert (await client.command("join", room=room_b))["type"] == "ack"
    practica = server.practica
    practica.folds.community_changed.clear()
    monkeypatch.setattr(practica.gateway, "recheck_member", lambda member, community: None)
    conn = next(c for c in practica.gateway.connections if c.principal.member == member.id)
    stream = f"room:{room_b}"
    await settled(client)
    before = len(frames_of(client, stream))
    await owner.call("POST", f"/api/communities/{OTHER}/members/{member.id}/remove", {})
    conn.deliver(stream, conn.cursors[stream] + 2, '{"type": "event"}')  # a gap
    notice = await client.wait_for(lambda f: f["type"] == "unsubscribed")
    assert notice["stream"] == stream
    await settled(client)
    assert len(frames_of(client, stream)) == before  # nothing past the gap was sent
    assert stream not in conn.streams()
    await client.close()


# --- outsiders' refusals -------------------------------------------------------------------


@pytest.mark.parametrize("limit", [
    pytest.param("own", marks=pytest.mark.settings(outsider_refusals_per_minute=3)),
    pytest.param("shared", marks=pytest.mark.settings(refusals_per_minute=3)),
])
async def test_outsiders_refusals_are_not_audited_but_limited_per_address(server, limit):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    first = await Person.sign_up(server.url, "First stranger")
    await found(first, OTHER)
    second = await Person.sign_up(server.url, "Second stranger")
    head = await server.practica.store.head(audit_stream(GUILD))

    client = await first.connect(server.ws_url)
    await client.identify(community=OTHER)
    codes = [(await client.command("join", room=room))["code"],
             (await client.command("history", room=room))["code"]]
    audit = await second.call("GET", f"/api/communities/{GUILD}/audit")  # same address
    codes.append(audit.json()["code"])
    codes += [(await client.command("join", room=room))["code"]]
    audit = await second.call("GET", f"/api/communities/{GUILD}/audit")
    codes.append(audit.json()["code"])
    assert codes == ["forbidden"] * 3 + ["rate_limited"] * 2
    assert audit.status_code == 429
    assert await server.practica.store.head(audit_stream(GUILD)) == head
    await client.close()


async def test_members_refusals_are_still_audited(server):
    owner = await Person.sign_up(server.url, "Owner")
    room = await found(owner, GUILD)
    member = await Person.sign_up(server.url, "Member")
    await admit(owner, GUILD, member)
    head = await server.practica.store.head(audit_stream(GUILD))
    client, syncs = await resumed(server, member, {audit_stream(GUILD): 0}, GUILD)
    assert_refused(syncs[audit_stream(GUILD)], "forbidden")
    assert (await member.call("GET", f"/api/communities/{GUILD}/audit")).status_code == 403
    entries = await server.practica.store.read(audit_stream(GUILD), after=head)
    assert [(e.actor, e.body.outcome) for e in entries] == [(member.id, "refused")] * 2
    assert room
    await client.close()


# --- across processes --------------------------------------------------------------------


async def test_a_removal_on_one_process_ends_reading_on_the_other(tmp_path):
    from tests.test_cluster import two_servers

    async with two_servers(tmp_path) as (a, b, _):
        owner, member, _, room_b = await two_communities(a)
        watcher = await Person.sign_up(a.url, "Watcher")
        await admit(owner, OTHER, watcher)
        sockets = []
        for person, community in ((member, GUILD), (watcher, OTHER)):
            client = await person.connect(b.ws_url)
            client.keep_reading()
            assert (await client.identify(community=community))["type"] == "ready"
            assert (await client.command("join", room=room_b))["type"] == "ack"
            sockets.append(client)
        on_b, watching = sockets
        poster = await owner.connect(a.ws_url)
        await poster.identify(community=OTHER)
        await poster.command("join", room=room_b)
        await post(poster, room_b, "before")
        await on_b.wait_for(lambda f: f.get("body", {}).get("text") == "before")

        removed = await owner.call("POST", f"/api/communities/{OTHER}/members/{member.id}"
                                   "/remove", {"reason": "spam"})
        assert removed.status_code == 204, removed.text
        notice = await on_b.wait_for(lambda f: f["type"] == "unsubscribed", timeout=10)
        assert notice["stream"] == f"room:{room_b}"
        await post(poster, room_b, "after")
        await watching.wait_for(lambda f: f.get("body", {}).get("text") == "after", timeout=10)
        await settled(on_b)
        assert "after" not in [f["body"].get("text") for f in frames_of(on_b, f"room:{room_b}")]
        assert on_b.closed_by is None
        for client in (on_b, watching, poster):
            await client.close()


async def test_a_convener_on_one_process_reads_audit_entries_written_on_the_other(tmp_path):
    from tests.test_cluster import two_servers

    async with two_servers(tmp_path) as (a, b, _):
        owner = await Person.sign_up(a.url, "Owner")
        await found(owner, GUILD)
        convener = await Person.sign_up(a.url, "Convener")
        await admit(owner, GUILD, convener, "convener")
        member = await Person.sign_up(a.url, "Member")
        await admit(owner, GUILD, member)
        head = await b.practica.store.head(audit_stream(GUILD))
        watcher, syncs = await resumed(b, convener, {audit_stream(GUILD): head}, GUILD)
        refused, syncs = await resumed(b, member, {audit_stream(GUILD): head}, GUILD)
        assert_refused(syncs[audit_stream(GUILD)], "forbidden")
        for _ in range(2):
            await add_room(owner, GUILD)  # audited on a
        entries = [await watcher.wait_for(lambda f: f.get("stream") == audit_stream(GUILD),
                                          timeout=10) for _ in range(3)]
        assert [(e["body"]["action"], e["body"]["outcome"]) for e in entries] == [
            ("view_audit", "refused"), ("create_room", "done"), ("create_room", "done")]
        await settled(refused)
        assert frames_of(refused, audit_stream(GUILD)) == []
        await watcher.close()
        await refused.close()
