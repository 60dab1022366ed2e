"""An Idempotency-Key header on an HTTP call means what ``ref`` means on the websocket:
the same key and call get the same answer and apply once; the same key with another
call is a conflict and changes nothing (over HTTP, both backends)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.authority import now_ms
from server.cluster.lease import Liveness, RedisLeases
from server.domain.events import community_stream
from server.http import api_types as t
from server.http import idempotency
from tests.conftest import make_settings, running_server
from tests.people import Person
from tests.projections.test_search import database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def founded(server) -> Person:
    owner = await Person.sign_up(server.url, "Olu Owner")
    reply = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert reply.status_code == 201, reply.text
    return owner


def keyed(person: Person, key: str) -> dict[str, str]:
    return {"x-csrf-token": person.csrf, "idempotency-key": key}


async def test_the_same_key_and_call_answer_the_same_and_apply_once(server):
    owner = await founded(server)
    rooms = "/api/communities/guild/rooms"
    head = await server.practica.store.head(community_stream("guild"))
    first = await owner.call("POST", rooms, {"name": "Loads"}, headers=keyed(owner, "k-1"))
    again = await owner.call("POST", rooms, {"name": "Loads"}, headers=keyed(owner, "k-1"))
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert len(server.practica.folds.community("guild").rooms) == 1
    assert await server.practica.store.head(community_stream("guild")) == head + 1
    # Sent at once, still one room, one answer.
    racing = await asyncio.gather(*(
        owner.call("POST", rooms, {"name": "Spans"}, headers=keyed(owner, "k-2"))
        for _ in range(4)))
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["room"] for r in racing}) == 1
    assert len(server.practica.folds.community("guild").rooms) == 2
    # Without a key, each call is its own.
    for _ in range(2):
        assert (await owner.call("POST", rooms, {"name": "Spans"})).status_code == 201
    assert len(server.practica.folds.community("guild").rooms) == 4


async def test_the_same_key_with_another_call_is_a_conflict_and_changes_nothing(server):
    owner = await founded(server)
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    role = f"/api/communities/guild/members/{member.id}/role"
    done = await owner.call("PUT", role, {"role": "host"}, headers=keyed(owner, "same"))
    assert done.status_code == 204
    head = await server.practica.store.head(community_stream("guild"))
    audit = await server.practica.store.head("audit:guild")
    for method, path, body in (("PUT", role, {"role": "convener"}),
                               ("POST", "/api/communities/guild/rooms", {"name": "X"})):
        reused = await owner.call(method, path, body, headers=keyed(owner, "same"))
        assert (reused.status_code, reused.json()["code"]) == (409, "conflict"), reused.text
    assert await server.practica.store.head(community_stream("guild")) == head
    assert await server.practica.store.head("audit:guild") == audit
    state = server.practica.folds.community("guild")
    assert state.members[member.id].role == "host" and not state.rooms
    # Keys are per person: another person's "same" is their own.
    mine = await member.call("POST", "/api/communities/guild/leave",
                             headers=keyed(member, "same"))
    assert mine.status_code == 204


async def test_a_refusal_is_kept_as_the_answer_and_a_bad_key_is_invalid(server):
    owner = await founded(server)
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    rooms = "/api/communities/guild/rooms"
    refused = await member.call("POST", rooms, {"name": "Mine"}, headers=keyed(member, "r"))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    await owner.call("PUT", f"/api/communities/guild/members/{member.id}/role",
                     {"role": "convener"})
    await member.refresh()
    again = await member.call("POST", rooms, {"name": "Mine"}, headers=keyed(member, "r"))
    assert (again.status_code, again.json()) == (403, refused.json())
    assert not server.practica.folds.community("guild").rooms
    for bad in ("", "x" * 129, "tab\there"):
        headers = {"x-csrf-token": member.csrf, "idempotency-key": bad}
        reply = await member.call("POST", rooms, {"name": "Bad"}, headers=headers)
        assert (reply.status_code, reply.json()["code"]) == (400, "invalid"), bad
    assert not server.practica.folds.community("guild").rooms


# --- a process that died mid-call ------------------------------------------------------

ROOMS = "/api/communities/guild/rooms"


async def claim(server, member: str, key: str, body: Any, owner: str,
                path: str = ROOMS) -> None:
    """A claim as a process left it when it died after claiming, before answering."""
    digest = idempotency.digest_of("POST", path, msgspec.json.encode(body))
    await server.practica.store.execute([(
        "INSERT INTO http_replies (member, key, digest, status, body, created, owner)"
        " VALUES (?, ?, ?, 0, NULL, ?, ?)", (member, key, digest, now_ms(), owner))])


async def orphan(server, member: str, key: str, owner: str = "dead-process") -> None:
    """Make a kept answer look unanswered: its process died after its change committed."""
    (changed,) = await server.practica.store.execute([(
        "UPDATE http_replies SET status = 0, body = NULL, owner = ? WHERE member = ?"
        " AND key = ?", (owner, member, key))])
    assert changed == 1


async def heads(server) -> tuple[int, int]:
    store = server.practica.store
    return await store.head(community_stream("guild")), await store.head("audit:guild")


async def test_a_claim_of_a_dead_process_is_taken_over_at_once_and_applied_once(server):
    owner = await founded(server)
    # Claimed by a process that is gone: a previous boot (SQLite), a lapsed lease (Redis).
    await claim(server, owner.id, "k-dead", t.CreateRoom(name="Orphan"), "dead-process")
    before = await heads(server)
    first = await owner.call("POST", ROOMS, {"name": "Orphan"}, headers=keyed(owner, "k-dead"))
    assert first.status_code == 201, first.text
    again = await owner.call("POST", ROOMS, {"name": "Orphan"}, headers=keyed(owner, "k-dead"))
    assert (again.status_code, again.json()) == (201, first.json())
    assert [r.name for r in server.practica.folds.community("guild").rooms.values()] == [
        "Orphan"]
    assert await heads(server) == (before[0] + 1, before[1] + 1)  # the room, its audit entry


async def test_a_change_committed_before_its_process_died_is_answered_not_applied_again(
        server):
    owner = await founded(server)
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    made = await owner.call("POST", ROOMS, {"name": "Once"}, headers=keyed(owner, "k-made"))
    role = f"/api/communities/guild/members/{member.id}/role"
    granted = await owner.call("PUT", role, {"role": "host"}, headers=keyed(owner, "k-role"))
    assert (made.status_code, granted.status_code) == (201, 204), made.text
    before = await heads(server)
    for key in ("k-made", "k-role"):
        await orphan(server, owner.id, key)
    again = await owner.call("POST", ROOMS, {"name": "Once"}, headers=keyed(owner, "k-made"))
    assert (again.status_code, again.json()) == (201, made.json())  # the room it made
    regranted = await owner.call("PUT", role, {"role": "host"}, headers=keyed(owner, "k-role"))
    assert regranted.status_code == 204
    assert await heads(server) == before  # nothing applied twice, nothing audited twice
    assert len(server.practica.folds.community("guild").rooms) == 1
    kept = await owner.call("POST", ROOMS, {"name": "Once"}, headers=keyed(owner, "k-made"))
    assert (kept.status_code, kept.json()) == (201, made.json())


async def test_a_dead_process_claim_with_another_call_is_still_a_conflict(server):
    owner = await founded(server)
    await claim(server, owner.id, "k-other", t.CreateRoom(name="First"), "dead-process")
    before = await heads(server)
    reused = await owner.call("POST", ROOMS, {"name": "Second"}, headers=keyed(owner, "k-other"))
    assert (reused.status_code, reused.json()["code"]) == (409, "conflict"), reused.text
    assert "different call" in reused.json()["message"]
    assert await heads(server) == before
    rows = await server.practica.store.fetch(
        "SELECT owner, status FROM http_replies WHERE key = ?", ("k-other",))
    assert [tuple(r) for r in rows] == [("dead-process", 0)]  # not taken over


@pytest.mark.parametrize("backend", ["postgres+redis"])
async def test_a_claim_of_a_live_process_is_being_applied_until_its_lease_lapses(server):
    """Another process (its liveness lease in Redis) claimed the call and works on it: a
    retry is 409 "being applied"; once it dies (its lease is no longer renewed: kill -9),
    the next retry takes over and applies the call once."""
    owner = await founded(server)
    practica = server.practica
    other = Liveness(RedisLeases(practica.redis, "other-process",
                                 prefix=server.settings.redis_prefix, ttl_ms=1000),
                     "other-process", renew_s=0.2)
    await other.start()
    try:
        await claim(server, owner.id, "k-live", t.CreateRoom(name="Busy"), "other-process")
        before = await heads(server)
        busy = await owner.call("POST", ROOMS, {"name": "Busy"}, headers=keyed(owner, "k-live"))
        assert (busy.status_code, busy.json()["code"]) == (409, "conflict"), busy.text
        assert "being applied" in busy.json()["message"]
        assert await heads(server) == before
    finally:
        await other.stop()  # killed: its lease is not renewed, nor released
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        retry = await owner.call("POST", ROOMS, {"name": "Busy"}, headers=keyed(owner, "k-live"))
        if retry.status_code != 409:
            break
        assert asyncio.get_running_loop().time() < deadline, retry.text
        await asyncio.sleep(0.1)
    assert retry.status_code == 201, retry.text
    assert await heads(server) == (before[0] + 1, before[1] + 1)
    assert [r.name for r in practica.folds.community("guild").rooms.values()] == ["Busy"]


async def test_a_claim_left_by_the_previous_run_is_taken_over_after_a_restart(
        backend, tmp_path: Path):
    """The process that claimed the call stopped before answering (SQLite: a previous
    boot; PostgreSQL: its liveness lease is gone): the restarted server applies it once."""
    async with database(backend, tmp_path) as db:
        async with running_server(make_settings(tmp_path, **db)) as before_restart:
            owner = await founded(before_restart)
            await claim(before_restart, owner.id, "k-boot", t.CreateRoom(name="Again"),
                        before_restart.practica.process)
        async with running_server(make_settings(tmp_path, **db)) as server:
            owner.base_url = server.url
            head = await heads(server)
            retry = await owner.call("POST", ROOMS, {"name": "Again"},
                                     headers=keyed(owner, "k-boot"))
            assert retry.status_code == 201, retry.text
            assert await heads(server) == (head[0] + 1, head[1] + 1)
            assert [r.name for r in server.practica.folds.community("guild").rooms.values()
                    ] == ["Again"]
