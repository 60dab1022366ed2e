"""Moderation that sticks, over HTTP and the websocket against a running server, on both
backends: a timeout runs its time whatever the member does; a removal is a ban until
lifted (open join, invite and request are all refused, and audited); hosts remove and
time out guests."""

from __future__ import annotations

import contextlib
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.domain.events import community_stream, room_stream
from tests.conftest import make_settings, running_server
from tests.people import Person
from tests.pg import REDIS_URL, postgres_schema, redis_prefix
from tests.test_communities import REFUSE_AUDIT, found
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
C = "/api/communities/guild"


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def closed_code(client: Client, within: float = 5.0) -> int:
    """Wait (at most ``within`` seconds) for the server to close the socket."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next_frame(timeout=within - (time.monotonic() - started))
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def guild(server, join_policy: str = "open") -> tuple[Person, str]:
    """An owner, their community ``guild`` and one room in it."""
    owner = await Person.sign_up(server.url, "Olu Owner")
    reply = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "Loads", "purpose": "Check",
        "join_policy": join_policy})
    assert reply.status_code == 201, reply.text
    page = await owner.call("POST", f"{C}/rooms", {"name": "Desk"})
    return owner, page.json()["rooms"][0]["room"]


async def in_room(person: Person, server, room: str) -> Client:
    socket = await person.connect(server.ws_url)
    ready = await socket.identify(community="guild")
    assert ready["type"] == "ready", ready
    assert (await socket.command("join", room=room))["type"] == "ack"
    return socket


async def test_a_timed_out_member_who_leaves_and_rejoins_stays_timed_out_until_it_ends(
        server, monkeypatch):
    owner, room = await guild(server)
    member = await Person.sign_up(server.url, "Tess")
    await member.join("guild")
    path = f"{C}/members/{member.id}"
    assert (await owner.call("POST", f"{path}/timeout",
                             {"minutes": 10, "reason": "heated"})).status_code == 204
    until = server.practica.folds.community("guild").members[member.id].timed_out_until
    assert (await member.call("POST", f"{C}/leave")).status_code == 204
    watcher = await owner.connect(server.ws_url)
    await watcher.identify(community="guild")
    await member.join("guild")
    # Everyone following the community learns the timeout carries on.
    restated = await watcher.wait_for(lambda f: f["type"] == "event"
                                      and f["body"]["type"] == "member_timed_out")
    assert (restated["body"]["member"], restated["body"]["until"]) == (member.id, until)
    socket = await in_room(member, server, room)
    mine = next(m for m in socket.ready["syncs"][0]["snapshot"]["members"]
                if m["member"] == member.id)
    assert (mine["timed_out_until"], mine["timeout_reason"]) == (until, "heated")
    head = await server.practica.store.head(room_stream(room))
    refused = await socket.command("post", room=room, text="I am back")
    assert refused["code"] == "forbidden" and "timed out" in refused["message"]
    assert await server.practica.store.head(room_stream(room)) == head
    # When its time is up (the server's clock says so), posting works again.
    monkeypatch.setattr("server.authority.now_ms", lambda: until + 1)
    assert (await socket.command("post", room=room, text="calmer now"))["type"] == "ack"
    await socket.close()
    await watcher.close()


async def test_a_removed_member_cannot_come_back_by_any_door_until_a_convener_lifts_it(
        server):
    owner, room = await guild(server)
    member = await Person.sign_up(server.url, "Tess")
    await member.join("guild")
    socket = await in_room(member, server, room)
    path = f"{C}/members/{member.id}"
    await owner.call("POST", f"{path}/timeout", {"minutes": 30, "reason": "heated"})
    assert (await owner.call("POST", f"{path}/remove", {"reason": "spam"})).status_code == 204
    assert await closed_code(socket) == 4010
    store, stream = server.practica.store, community_stream("guild")
    head = await store.head(stream)

    joined = await member.call("POST", f"{C}/join", {})
    assert (joined.status_code, joined.json()["code"]) == (403, "forbidden")
    assert "removed" in joined.json()["message"]
    invite = (await owner.call("POST", f"{C}/invites", {"max_uses": 1})).json()
    accepted = await member.call("POST", f"/api/invites/{invite['token']}/accept")
    assert (accepted.status_code, accepted.json()["code"]) == (403, "forbidden")
    await owner.call("PATCH", C, {"name": "Guild", "domain": "Loads", "purpose": "Check",
                                  "join_policy": "approval"})
    head = await store.head(stream)
    requested = await member.call("POST", f"{C}/join", {"note": "sorry"})
    assert (requested.status_code, requested.json()["code"]) == (403, "forbidden")
    assert (await owner.call("GET", f"{C}/requests")).json() == []
    assert await store.head(stream) == head  # nothing changed
    uses = {i["id"]: i["uses"] for i in (await owner.call("GET", f"{C}/invites")).json()}
    assert uses[invite["id"]] == 0
    refusals = [e for e in (await owner.call("GET", f"{C}/audit")).json()["entries"]
                if e["actor"] == member.id and e["outcome"] == "refused"]
    assert len(refusals) == 3

    removed = (await owner.call("GET", f"{C}/removed")).json()
    assert [(r["member"], r["name"], r["reason"], r["removed_by"], r["removed_by_name"])
            for r in removed] == [(member.id, "Tess", "spam", owner.id, "Olu Owner")]
    assert removed[0]["removed_at"] > 0 and removed[0]["timed_out_until"] > time.time() * 1000

    bystander = await Person.sign_up(server.url, "Bo")
    await owner.call("PATCH", C, {"name": "Guild", "domain": "Loads", "purpose": "Check",
                                  "join_policy": "open"})
    await bystander.join("guild")
    for method, suffix in [("GET", "/removed"), ("POST", f"/removed/{member.id}/lift")]:
        refused = await bystander.call(method, C + suffix)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert member.id in server.practica.folds.community("guild").removed

    assert (await owner.call("POST", f"{C}/removed/{member.id}/lift")).status_code == 204
    assert (await owner.call("GET", f"{C}/removed")).json() == []
    entry = (await owner.call("GET", f"{C}/audit")).json()["entries"][0]
    assert (entry["action"], entry["outcome"], entry["target_name"]) == (
        "lift_removal", "done", "Tess")
    again = await owner.call("POST", f"{C}/removed/{member.id}/lift")
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    # Back in through the invite; the removal did not clear the timeout.
    accepted = await member.call("POST", f"/api/invites/{invite['token']}/accept")
    assert accepted.json()["outcome"] == "joined", accepted.text
    info = server.practica.folds.community("guild").members[member.id]
    assert (info.timeout_reason, info.timed_out_until) == ("heated",
                                                           removed[0]["timed_out_until"])


async def guest_in(server, host: Person, room: str, name: str = "Visiting Vera",
                   ) -> tuple[Person, Client, dict]:
    link = (await host.call("POST", f"{C}/invites", {"kind": "guest", "room": room})).json()
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link["token"], "name": name})
    assert entered.status_code == 201, entered.text
    guest.me, guest.csrf = entered.json(), entered.json()["csrf"]
    socket = await guest.connect(server.ws_url)
    assert (await socket.identify())["type"] == "ready"
    assert (await socket.command("join", room=room))["type"] == "ack"
    return guest, socket, link


async def test_hosts_time_out_and_remove_guests_but_not_members(server):
    owner, room = await guild(server)
    host = await Person.sign_up(server.url, "Hana Host")
    await host.join("guild")
    await owner.call("PUT", f"{C}/members/{host.id}/role", {"role": "host"})
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    guest, socket, _ = await guest_in(server, host, room)
    target = f"{C}/members/{guest.id}"

    assert (await host.call("POST", f"{target}/timeout",
                            {"minutes": 10, "reason": "shouting"})).status_code == 204
    head = await server.practica.store.head(room_stream(room))
    muted = await socket.command("post", room=room, text="HELLO")
    assert muted["code"] == "forbidden" and "timed out" in muted["message"]
    assert await server.practica.store.head(room_stream(room)) == head

    for who, path, body in [(member, f"{target}/remove", {"reason": "x"}),
                            (member, f"{target}/timeout", {"minutes": 5}),
                            (host, f"{C}/members/{member.id}/remove", {"reason": "x"}),
                            (host, f"{C}/members/{member.id}/timeout", {"minutes": 5})]:
        refused = await who.call("POST", path, body)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), path
    assert member.id in server.practica.folds.community("guild").members

    assert (await host.call("POST", f"{target}/remove",
                            {"reason": "trolling"})).status_code == 204
    assert await closed_code(socket) == 4010
    assert (await guest.refresh())["guest"] is None  # the session is over
    with pytest.raises(InvalidStatus):
        await guest.connect(server.ws_url)
    entries = [e for e in (await owner.call("GET", f"{C}/audit")).json()["entries"]
               if e["outcome"] == "done"]
    assert [(e["action"], e["outcome"], e["detail"]) for e in entries[:2]] == [
        ("remove_guest", "done", "guest Visiting Vera: trolling"),
        ("timeout_guest", "done", "guest Visiting Vera: 10 min: shouting")]


async def test_timeouts_and_removals_survive_a_restart(tmp_path, backend):
    async with contextlib.AsyncExitStack() as stack:
        overrides = {}
        if backend != "sqlite":
            url = await stack.enter_async_context(postgres_schema())
            overrides = {"database_url": url, "redis_url": REDIS_URL,
                         "redis_prefix": redis_prefix()}
        settings = make_settings(tmp_path, **overrides)
        async with running_server(settings) as server:
            owner, _ = await guild(server)
            timed = await Person.sign_up(server.url, "Tim")
            removed = await Person.sign_up(server.url, "Rea")
            for person in (timed, removed):
                await person.join("guild")
            await owner.call("POST", f"{C}/members/{timed.id}/timeout", {"minutes": 20})
            await owner.call("POST", f"{C}/members/{removed.id}/remove", {"reason": "spam"})
            until = server.practica.folds.community("guild").timed_out_until(timed.id)
        async with running_server(settings) as server:
            state = server.practica.folds.community("guild")
            assert state.members[timed.id].timed_out_until == until
            assert state.removed[removed.id].reason == "spam"
            refused = await removed.call("POST", f"{C}/join", {})
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_moderators_deletion_and_its_audit_entry_are_written_together(server, backend):
    owner = await found(server, join_policy="open")
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["room"]
    author = await Person.sign_up(server.url, "Ann")
    await author.join("guild")
    writer = await author.connect(server.ws_url)
    await writer.identify(community="guild")
    await writer.command("join", room=room)
    posted = await writer.command("post", room=room, text="hello")
    moderator = await owner.connect(server.ws_url)
    await moderator.identify(community="guild")
    await moderator.command("join", room=room)
    store = server.practica.store
    room_head, audit_head = await store.head(f"room:{room}"), await store.head("audit:guild")
    refuse, allow = REFUSE_AUDIT[backend]
    await store.execute([(refuse, ())])
    failed = await moderator.command("delete", room=room, message=posted["seq"])
    assert (failed["type"], failed["code"]) == ("error", "unavailable"), failed
    assert await store.head(f"room:{room}") == room_head  # the message stays
    assert await store.head("audit:guild") == audit_head
    await store.execute([(allow, ())])
    done = await moderator.command("delete", room=room, message=posted["seq"])
    assert done["type"] == "ack", done
    assert await store.head(f"room:{room}") == room_head + 1
    assert await store.head("audit:guild") == audit_head + 1
    await writer.close()
    await moderator.close()
