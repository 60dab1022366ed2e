"""Concurrent decisions on one community, through HTTP, in one process and in two
(PostgreSQL + Redis): every committed transition must have been legal on the state it
was decided on. The stream is folded again from the start and each event is checked
against the fold just before it."""

from __future__ import annotations

import asyncio
import random

import pytest

from server.domain import community as community_fold
from server.domain.community import CommunityState
from server.domain.events import (
    AuditRecorded,
    Event,
    MemberRemoved,
    MemberTimedOut,
    RoleChanged,
    community_stream,
)
from server.domain.policy import Action, Actor, Resource, Role, allowed
from tests.people import Person
from tests.test_cluster import two_servers

pytestmark = pytest.mark.anyio
ROLES = ["member", "host", "convener", "owner"]


def on(base_url: str, person: Person) -> Person:
    """The same signed-in person, calling another process."""
    other = Person(base_url)
    other.cookies, other.csrf, other.me = dict(person.cookies), person.csrf, person.me
    return other


async def cast(urls: list[str]) -> tuple[list[Person], list[Person]]:
    """Two owners and a convener (who act), and three members (acted on)."""
    first = await Person.sign_up(urls[0], "Olu Owner")
    reply = await first.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert reply.status_code == 201, reply.text
    people = [await Person.sign_up(urls[0], f"P{i}") for i in range(5)]
    for person in people:
        await person.join("guild")
    for person, role in ((people[0], "owner"), (people[1], "convener")):
        done = await first.call("PUT", f"/api/communities/guild/members/{person.id}/role",
                                {"role": role})
        assert done.status_code == 204, done.text
    return [first, people[0], people[1]], people[2:]


async def storm(urls: list[str], actors: list[Person], everyone: list[Person],
                seed: int, calls: int = 40) -> list[int]:
    rng = random.Random(seed)
    base = "/api/communities/guild"

    async def one(i: int) -> int:
        who = on(urls[i % len(urls)], rng.choice(actors))
        target = rng.choice(everyone).id
        kind = rng.choice(["role", "role", "remove", "timeout", "leave"])
        if kind == "role":
            reply = await who.call("PUT", f"{base}/members/{target}/role",
                                   {"role": rng.choice(ROLES)})
        elif kind == "remove":
            reply = await who.call("POST", f"{base}/members/{target}/remove",
                                   {"reason": "race"})
        elif kind == "timeout":
            reply = await who.call("POST", f"{base}/members/{target}/timeout",
                                   {"minutes": rng.randint(0, 3), "reason": "race"})
        else:
            reply = await who.call("POST", f"{base}/leave")
        assert reply.status_code < 500, reply.text
        return reply.status_code

    return list(await asyncio.gather(*(one(i) for i in range(calls))))


def legal(state: CommunityState, event: Event) -> str | None:
    """Why ``event`` was not a legal transition from ``state``; None if it was."""
    body, actor_id = event.body, event.actor or ""
    actor = Actor(id=actor_id, role=state.role_of(actor_id),
                  muted_until_ms=state.timed_out_until(actor_id), now_ms=event.ts)
    resource = Resource(community=state.community)
    if isinstance(body, RoleChanged):
        decision = allowed(actor, Action.SET_ROLE, resource._replace(
            target_role=state.role_of(body.member), new_role=Role.parse(body.role)))
        return None if decision else f"set_role: {decision.reason}"
    if isinstance(body, MemberRemoved) and body.how == "left":
        if body.member not in state.members:
            return "left while not a member"
        return "the last owner left" if state.owners() == [body.member] else None
    if isinstance(body, MemberRemoved) and body.how == "removed":
        decision = allowed(actor, Action.REMOVE_MEMBER,
                           resource._replace(target_role=state.role_of(body.member)))
        return None if decision else f"remove: {decision.reason}"
    if isinstance(body, MemberTimedOut):
        decision = allowed(actor, Action.TIMEOUT_MEMBER,
                           resource._replace(target_role=state.role_of(body.member)))
        return None if decision else f"timeout: {decision.reason}"
    return None


async def check_history(store, community: str = "guild") -> None:
    events = await store.read(community_stream(community), limit=100_000)
    state = CommunityState(community)
    kinds: dict[str, int] = {}
    for event in events:
        why = legal(state, event)
        assert why is None, (event, why)
        community_fold.apply(state, event)
        assert state.owners(), f"no owner after {event}"
        tag = str(type(event.body).__struct_config__.tag)
        if not (isinstance(event.body, MemberRemoved) and event.body.how == "left"):
            kinds[tag] = kinds.get(tag, 0) + 1
    audited: dict[str, int] = {}
    for event in await store.read(f"audit:{community}", limit=100_000):
        if isinstance(event.body, AuditRecorded) and event.body.outcome == "done":
            audited[event.body.action] = audited.get(event.body.action, 0) + 1
    # Every privileged transition committed has its audit entry (one transaction).
    assert audited.get("set_role", 0) == kinds.get("role_changed", 0)
    assert audited.get("remove_member", 0) == kinds.get("member_removed", 0)
    assert audited.get("timeout_member", 0) == kinds.get("member_timed_out", 0)


@pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"])
@pytest.mark.parametrize("seed", [1, 2])
async def test_concurrent_community_changes_commit_only_legal_transitions(server, seed):
    actors, acted_on = await cast([server.url])
    statuses = await storm([server.url], actors, actors + acted_on, seed)
    assert 204 in statuses and any(s in (403, 404, 409) for s in statuses), statuses
    await check_history(server.practica.store)


async def test_two_processes_deciding_on_one_community_commit_a_legal_sequence(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        actors, acted_on = await cast([a.url])
        statuses = await storm([a.url, b.url], actors, actors + acted_on, seed=7, calls=60)
        assert 204 in statuses, statuses
        await check_history(a.practica.store)
        # Both processes fold the same state from it.
        stream = community_stream("guild")
        head = await a.practica.store.head(stream)
        folded = []
        for server in (a, b):
            await server.practica.feed.sync(stream)
            state = server.practica.folds.community("guild")
            assert state.seq == head
            folded.append({m: i.role for m, i in state.members.items()})
        assert folded[0] == folded[1]


async def test_two_processes_editing_and_deleting_one_room_commit_a_legal_sequence(tmp_path):
    from server.domain.events import MessageDeleted, MessageEdited
    from tests.people import signed_in
    from tests.test_cluster import ROOM, STREAM, resumed

    async with two_servers(tmp_path, commands_per_minute=6000, command_burst=1000) as (
            a, b, _):
        on_a = await signed_in(a, "Ann")
        assert (await on_a.command("join", room=ROOM))["type"] == "ack"
        on_b = await resumed(b, on_a.person, {STREAM: 0})
        assert (await on_b.command("join", room=ROOM))["type"] == "ack"
        posted = [(await on_a.command("post", room=ROOM, text=f"m{i}"))["seq"]
                  for i in range(30)]
        sent: list[tuple[object, str]] = []
        for seq in posted:  # sent without waiting: the two processes decide at once
            for client, frame in (
                    (on_a, {"type": "delete", "message": seq}),
                    (on_b, {"type": "edit", "message": seq, "text": f"edited {seq}"}),
                    (on_b, {"type": "edit", "message": seq, "text": f"again {seq}"})):
                ref = f"x{len(sent)}"
                await client.send({**frame, "ref": ref, "room": ROOM})
                sent.append((client, ref))
        replies = [await client.wait_for(  # type: ignore[attr-defined]
            lambda f, ref=ref: f.get("ref") == ref and f["type"] != "event", timeout=20)
            for client, ref in sent]
        assert all(r["type"] == "ack" or r.get("code") in ("not_found", "conflict")
                   for r in replies), replies
        deleted: set[int] = set()
        for event in await a.practica.store.read(STREAM, limit=10_000):
            if isinstance(event.body, MessageEdited | MessageDeleted):
                assert event.body.message not in deleted, f"{event} after its deletion"
            if isinstance(event.body, MessageDeleted):
                deleted.add(event.body.message)
        assert deleted == set(posted)
        await on_a.close()
        await on_b.close()
