"""The ephemeral relay: typing reaches the members present in that room, in every
process, and nothing else; it is authorized, rate limited, and never stored."""

from __future__ import annotations

import pytest

from server.domain.events import room_stream
from tests.people import Person
from tests.test_cluster import on, two_servers
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
C = "/api/communities/guild"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def found_guild(server) -> tuple[Person, str, str]:
    """An owner, community ``guild`` (open) and its rooms Clinic and Library."""
    owner = await Person.sign_up(server.url, "Olu Owner")
    made = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    for name in ("Clinic", "Library"):
        assert (await owner.call("POST", f"{C}/rooms", {"name": name})).status_code == 201
    rooms = {r.name: r.room for r in server.practica.folds.community("guild").rooms.values()}
    return owner, rooms["Clinic"], rooms["Library"]


async def member(server, name: str) -> Person:
    person = await Person.sign_up(server.url, name)
    await person.join("guild")
    return person


async def guest_of(server, owner: Person, room: str, name: str) -> Person:
    link = (await owner.call("POST", f"{C}/invites", {"kind": "guest", "room": room})).json()
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link["token"], "name": name})
    assert entered.status_code == 201, entered.text
    guest.me, guest.csrf = entered.json(), entered.json()["csrf"]
    return guest


async def present(person: Person, server, room: str | None) -> Client:
    socket = await person.connect(server.ws_url)
    socket.keep_reading()
    assert (await socket.identify(community="guild"))["type"] == "ready"
    if room is not None:
        assert (await socket.command("join", room=room))["type"] == "ack"
    return socket


def relayed(socket: Client) -> list[dict]:
    return [f for f in socket.frames if f["type"] == "relayed"]


async def typing(socket: Client, room: str, **fields) -> dict:
    return await socket.command("relay", stream=room_stream(room), kind="typing", **fields)


async def heads(server) -> dict[str, int]:
    store = server.practica.store
    return {s: await store.head(s) for s in await store.streams("")}


async def typing_reaches_only_those_present(a, b) -> None:
    """``a`` and ``b`` may be one process or two sharing PostgreSQL and Redis."""
    owner, clinic, library = await found_guild(a)
    ann, bob, cid, dee = [await member(a, n) for n in ("Ann", "Bob", "Cid", "Dee")]
    gus = await guest_of(a, owner, library, "Gus")
    ann_s = await present(ann, a, clinic)
    bob_s = await present(on(b, bob), b, clinic)
    cid_s = await present(on(b, cid), b, library)    # another room
    dee_s = await present(on(b, dee), b, None)       # in the community, in no room
    gus_s = await present(on(b, gus), b, library)    # a guest of another room
    sam_s = await present(owner, a, library)
    before = await heads(a)

    assert (await typing(ann_s, clinic))["type"] == "ack"
    seen = await bob_s.wait_for(lambda f: f["type"] == "relayed")
    assert seen == {"type": "relayed", "stream": room_stream(clinic), "kind": "typing",
                    "from": {"id": ann.id, "name": "Ann"}}
    # Later relays through the same process arrive after Ann's would have.
    assert (await typing(sam_s, library))["type"] == "ack"
    for socket in (cid_s, gus_s):
        await socket.wait_for(lambda f: f["type"] == "relayed")
        assert [f["from"]["name"] for f in relayed(socket)] == ["Olu Owner"]
    assert await heads(a) == before  # nothing stored: no event, no audit entry
    assert (await dee_s.command("join", room=clinic))["type"] == "ack"
    before = await heads(a)
    assert (await typing(ann_s, clinic, to=[dee.id]))["type"] == "ack"
    await dee_s.wait_for(lambda f: f["type"] == "relayed")
    assert [f["stream"] for f in relayed(dee_s)] == [room_stream(clinic)]
    assert (await typing(ann_s, clinic))["type"] == "ack"
    await bob_s.wait_for(lambda f: f["type"] == "relayed")
    assert len(relayed(bob_s)) == 2  # the one addressed to Dee alone passed Bob by
    assert relayed(ann_s) == [] and relayed(sam_s) == []
    assert await heads(a) == before
    for socket in (ann_s, bob_s, cid_s, dee_s, gus_s, sam_s):
        await socket.close()


async def test_typing_reaches_only_members_present_in_that_room(server):
    await typing_reaches_only_those_present(server, server)


async def test_typing_crosses_processes_to_those_present_only(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        await typing_reaches_only_those_present(a, b)


async def test_a_relay_nobody_may_send_is_refused_and_goes_nowhere(server):
    owner, clinic, library = await found_guild(server)
    bob = await present(await member(server, "Bob"), server, clinic)
    gus = await present(await guest_of(server, owner, library, "Gus"), server, library)
    stranger = await Person.sign_up(server.url, "Stranger")
    await stranger.join()  # the demo community: in the server, not in guild
    outsider = await stranger.connect(server.ws_url)
    outsider.keep_reading()
    assert (await outsider.identify())["type"] == "ready"
    tess = await member(server, "Tess")
    tess_s = await present(tess, server, clinic)
    assert (await owner.call("POST", f"{C}/members/{tess.id}/timeout",
                             {"minutes": 10, "reason": "heated"})).status_code == 204
    dee_s = await present(await member(server, "Dee"), server, None)
    before = await heads(server)
    for socket, code in [(gus, "forbidden"), (outsider, "forbidden"), (tess_s, "forbidden"),
                         (dee_s, "not_joined")]:
        reply = await typing(socket, clinic)
        assert (reply["type"], reply["code"]) == ("error", code), reply
    reply = await typing(bob, "no-such-room")
    assert (reply["type"], reply["code"]) == ("error", "not_found")
    reply = await bob.command("relay", stream="community:guild", kind="typing")
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    reply = await bob.command("relay", stream=room_stream(clinic), kind="shout")
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    reply = await typing(bob, clinic, data={"x": "y" * 5000})
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    assert relayed(tess_s) == [] and relayed(bob) == []
    after = await heads(server)
    audit = "audit:guild"
    assert {s: h for s, h in after.items() if s != audit} == {
        s: h for s, h in before.items() if s != audit}  # nothing relayed was stored
    refused = await server.practica.store.read(audit, after=before[audit])
    # Refusals by role of people in the community are audited (the guest's and the
    # timed-out member's); an outsider's is not (rate limited per address); the rest
    # write nothing.
    assert sorted(e.body.action for e in refused) == ["relay_typing"] * 2
    for socket in (bob, gus, outsider, tess_s, dee_s):
        await socket.close()


@pytest.mark.settings(relay_burst=2, relays_per_minute=1)
async def test_relays_beyond_their_own_limit_are_rate_limited_and_commands_still_pass(server):
    _, clinic, _ = await found_guild(server)
    ann = await present(await member(server, "Ann"), server, clinic)
    bob = await present(await member(server, "Bob"), server, clinic)
    replies = [await typing(ann, clinic) for _ in range(3)]
    assert [r["type"] for r in replies] == ["ack", "ack", "error"]
    assert replies[-1]["code"] == "rate_limited" and replies[-1]["retry_after_ms"] > 0
    assert (await ann.command("post", room=clinic, text="still here"))["type"] == "ack"
    await bob.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "still here")
    assert len(relayed(bob)) == 2
    for socket in (ann, bob):
        await socket.close()


@pytest.mark.settings(relay_burst=2, relays_per_minute=1)
async def test_relaying_on_while_rate_limited_closes_the_socket_with_4006(server):
    _, clinic, _ = await found_guild(server)
    ann = await present(await member(server, "Ann"), server, clinic)
    for _ in range(6):
        await ann.send({"type": "relay", "stream": room_stream(clinic), "kind": "typing"})
    with pytest.raises(EOFError):
        while True:
            await ann.next_frame(timeout=10)
    assert ann.closed_by is not None and ann.closed_by.rcvd is not None
    assert ann.closed_by.rcvd.code == 4006
    # Two refusals are answered; the third strike (beyond the burst) closes instead.
    assert [f["code"] for f in ann.frames if f["type"] == "error"] == ["rate_limited"] * 2
