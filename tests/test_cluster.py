"""Two servers sharing PostgreSQL and Redis: what must hold across processes."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.asyncio as aioredis
from websockets.exceptions import ConnectionClosed

from server.cluster.lease import RedisLeases
from server.domain.events import MessagePosted
from server.store.postgres import PostgresStore, split_schema
from tests.conftest import make_settings, running_server
from tests.people import Person, signed_in
from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
ROOM = "case-review"
STREAM = f"room:{ROOM}"


@contextlib.asynccontextmanager
async def two_servers(tmp_path, **overrides):
    prefix = redis_prefix()  # this test's own keys: no FLUSHDB of a shared database
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    async with postgres_schema() as url:
        settings = {"database_url": url, "redis_url": REDIS_URL, "redis_prefix": prefix,
                    **overrides}
        try:
            async with running_server(make_settings(tmp_path / "a", **settings)) as a:
                async with running_server(make_settings(tmp_path / "b", **settings)) as b:
                    yield a, b, url
        finally:
            await drop_redis_prefix(prefix)


async def resumed(server, person: Person, streams: dict[str, int]) -> Client:
    client = await person.connect(server.ws_url)
    await client.send({"type": "resume", "streams": streams})
    await client.wait_for(lambda f: f["type"] == "ready")
    return client


async def test_one_member_has_one_rate_limit_across_processes(tmp_path):
    async with two_servers(tmp_path, commands_per_minute=60, command_burst=4) as (a, b, _):
        on_a = await signed_in(a, "Ann")
        assert (await on_a.command("join", room=ROOM))["type"] == "ack"
        on_b = await resumed(b, on_a.person, {STREAM: 0})
        replies = [await on_a.command("post", room=ROOM, text="a1"),
                   await on_b.command("post", room=ROOM, text="b1"),
                   await on_a.command("post", room=ROOM, text="a2"),
                   await on_b.command("post", room=ROOM, text="b2")]
        assert [r["type"] for r in replies] == ["ack", "ack", "ack", "error"]
        assert replies[-1]["code"] == "rate_limited"
        await on_a.close()
        await on_b.close()


async def test_presence_holds_while_any_process_holds_the_member(tmp_path):
    async with two_servers(tmp_path, presence_grace_ms=300) as (a, b, _):
        watcher = await signed_in(a, "Watcher")
        await watcher.command("join", room=ROOM)
        tab_a = await signed_in(a, "Two Tabs")
        await tab_a.command("join", room=ROOM)
        tab_b = await resumed(b, tab_a.person, {STREAM: 0})
        member = tab_a.member_id
        await tab_a.close()
        await asyncio.sleep(1.5)  # several sweeps past the grace: b still holds them
        assert not [e for e in watcher.events(STREAM) if e["body"]["type"] == "member_left"]
        await tab_b.close()
        left = await watcher.wait_for(
            lambda f: f["type"] == "event" and f["body"]["type"] == "member_left", timeout=10)
        assert left["body"]["member"] == member
        await asyncio.sleep(1.0)
        assert len([e for e in watcher.events(STREAM)
                    if e["body"]["type"] == "member_left"]) == 1
        await watcher.close()


async def test_an_event_whose_announcement_was_lost_still_arrives(tmp_path):
    async with two_servers(tmp_path) as (_, b, url):
        reader = await signed_in(b, "Reader")
        await reader.command("join", room=ROOM)
        dsn, schema = split_schema(url)
        outsider = PostgresStore(dsn, schema=schema)  # appends, announces nothing
        await outsider.open()
        await outsider.append(STREAM, "m-x", [MessagePosted(author="m-x", author_name="X",
                                                            text="unannounced")])
        await outsider.close()
        event = await reader.wait_for(
            lambda f: f["type"] == "event" and f["body"].get("text") == "unannounced",
            timeout=5)
        assert event["stream"] == STREAM
        await reader.close()


async def test_a_lease_has_one_holder_and_moves_when_it_lapses():
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = redis_prefix()
    first = RedisLeases(redis, "proc-1", ttl_ms=300, prefix=prefix)
    second = RedisLeases(redis, "proc-2", ttl_ms=300, prefix=prefix)
    assert await first.hold("job") and not await second.hold("job")
    assert await first.hold("job")  # renewing
    # proc-1 stops renewing (dies): the lease lapses and proc-2 gets it (bounded wait).
    for _ in range(100):
        if await second.hold("job"):
            break
        await asyncio.sleep(0.05)
    assert "job" in second.held and not await first.hold("job")
    await second.release_all()
    assert await first.hold("job")
    await first.release_all()
    await redis.aclose()


async def test_deployments_with_different_prefixes_share_a_redis_without_meeting():
    redis = aioredis.Redis.from_url(REDIS_URL)
    a, b = redis_prefix(), redis_prefix()
    ours = RedisLeases(redis, "proc-1", prefix=a)
    theirs = RedisLeases(redis, "proc-2", prefix=b)
    assert await ours.hold("room:case-review") and await theirs.hold("room:case-review")
    assert await redis.get(f"{a}:lease:room:case-review") == b"proc-1"
    await ours.release_all()
    await theirs.release_all()
    await redis.aclose()


def on(server, person: Person) -> Person:
    """The same signed-in person, talking to another process."""
    there = Person(server.url)
    there.cookies, there.csrf, there.me = person.cookies, person.csrf, person.me
    return there


async def until_true(check, what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def two_owners_leave_at_once(a, b, community: str) -> None:
    first = await Person.sign_up(a.url, "First Owner")
    made = await first.call("POST", "/api/communities", {
        "community": community, "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    second = await Person.sign_up(a.url, "Second Owner")
    await second.join(community)
    path = f"/api/communities/{community}"
    await first.call("PUT", f"{path}/members/{second.id}/role", {"role": "owner"})
    folds = [s.practica.folds for s in (a, b)]
    await until_true(lambda: all(
        community in f.communities and len(f.communities[community].owners()) == 2
        for f in folds), "both processes know both owners")
    replies = await asyncio.gather(first.call("POST", f"{path}/leave"),
                                   on(b, second).call("POST", f"{path}/leave"))
    assert sorted(r.status_code for r in replies) == [204, 409], [r.text for r in replies]
    await until_true(lambda: all(
        f.communities[community].seq == folds[0].communities[community].seq
        for f in folds), "both processes caught up")
    assert [len(f.communities[community].owners()) for f in folds] == [1, 1]


async def test_two_owners_leaving_through_two_processes_leave_one_owner(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        for round_ in range(3):
            await two_owners_leave_at_once(a, b, f"guild-{round_}")


async def test_revoking_a_guest_link_closes_its_guests_sockets_in_every_process(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        host = await Person.sign_up(a.url, "Hana Host")
        made = await host.call("POST", "/api/communities", {
            "community": "guild", "name": "Guild", "domain": "d", "purpose": "p"})
        room = (await host.call("POST", "/api/communities/guild/rooms",
                                {"name": "Clinic"})).json()["rooms"][0]["room"]
        assert made.status_code == 201
        link = (await host.call("POST", "/api/communities/guild/invites",
                                {"kind": "guest", "room": room})).json()
        guest = Person(b.url)
        await guest.refresh()
        entered = await guest.call("POST", "/api/guest", {"token": link["token"], "name": "Vera"})
        assert entered.status_code == 201, entered.text
        socket = await guest.connect(b.ws_url)
        await until_true(lambda: "guild" in b.practica.folds.communities
                         and b.practica.folds.communities["guild"].seq > 0, "b knows guild")
        assert (await socket.identify())["type"] == "ready"
        revoked = await host.call("DELETE", f"/api/communities/guild/invites/{link['id']}")
        assert revoked.status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.next_frame(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
