"""An Idempotency-Key header on an HTTP call means what ``ref`` means on the websocket:
the same key and call get the same answer and apply once; the same key with another
call is a conflict and changes nothing (over HTTP, both backends)."""

from __future__ import annotations

import asyncio

import pytest

from server.domain.events import community_stream
from tests.people import Person

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
