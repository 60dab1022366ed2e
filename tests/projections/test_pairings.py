"""Pair-up history over a real server, on both stores: the projection follows attendance,
stage and pair-up events; conveners see the community's history, members whom they met;
blocks are private, bounded and idempotent; the matcher's inputs come from all of it; a
restart resumes without duplicates and a rebuild gives the same answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from server.cli import main
from server.domain.matching import Stage
from server.domain.session_pair_events import PairGroup, PairsChanged, PairsMade
from server.pairing_inputs import pairing_inputs
from server.store import open_store
from server.store.pairings import PairTables
from tests.conftest import make_settings, running_server
from tests.people import DEMO, Person
from tests.projections.test_search import database
from tests.session_setup import Circle, attend, circle, op, open_session

BACKENDS = ["sqlite", "postgres+redis"]
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", BACKENDS)]


def made(round_: int, *groups: list[str]) -> PairsMade:
    return PairsMade(round=round_, seed=f"seed-{round_}", groups=[
        PairGroup(group=i + 1, members=g) for i, g in enumerate(groups)])


async def pair_up(c: Circle, session: str, *events: Any) -> None:
    """Pair-up events of a round, appended to the session's stream as the session's
    pair op appends them (the host is their actor)."""
    await c.server.practica.store.append(f"session:{session}", c.host.id, list(events))


async def get(person: Person, path: str) -> Any:
    reply = await person.call("GET", path)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def seeded(c: Circle) -> tuple[str, list[str]]:
    """A session everyone attended, Ann on stage, and two rounds of pair-ups."""
    session = await open_session(c)
    for _, socket in c.members:
        await attend(socket, session)
    await attend(c.host_ws, session)
    ann, bob, cy = (p.id for p, _ in c.members)
    assert (await op(c.host_ws, session, "stage", member=ann, on=True))["type"] == "ack"
    await pair_up(c, session, made(1, [ann, bob], [cy, c.host.id]),
                  made(2, [ann, cy, bob]))
    return session, [ann, bob, cy]


async def test_history_mine_blocks_and_inputs(server):
    c = await circle(server, members=3)
    session, (ann, bob, cy) = await seeded(c)
    owner = c.host
    base = f"/api/communities/{c.community}"

    page = await get(owner, base + "/pairings")
    rows = [(p["round"], p["a_name"], p["b_name"]) for p in page["pairings"]]
    assert len(rows) == 5 and page["next"] is None
    assert {(p["session"], p["title"], p["room"]) for p in page["pairings"]} == {
        (session, "Thursday hour", c.room)}
    names = {ann: "Ann Asker", bob: "Bob Voter", cy: "Cy Third", owner.id: "Olga Host"}
    assert sorted(rows) == sorted(
        (r, *(names[x] for x in sorted(pair))) for r, pair in [
            (1, [ann, bob]), (1, [cy, owner.id]), (2, [ann, bob]), (2, [ann, cy]),
            (2, [bob, cy])])
    assert [p["round"] for p in page["pairings"]][:3] == [2, 2, 2]  # newest first
    first = await get(owner, base + "/pairings?limit=2")
    rest = await get(owner, base + f"/pairings?limit=10&before={first['next']}")
    assert first["pairings"] + rest["pairings"] == page["pairings"] and rest["next"] is None
    only = await get(owner, base + f"/pairings?member={c.host.id}")
    assert [(p["a"], p["b"]) for p in only["pairings"]] == [tuple(sorted([cy, owner.id]))]
    for bad in ["?limit=0", "?limit=201", "?before=nonsense", "?before=" + "x" * 401]:
        reply = await owner.call("GET", base + "/pairings" + bad)
        assert reply.status_code == 400 and reply.json()["code"] == "invalid", bad

    ann_person = c.members[0][0]
    refused = await ann_person.call("GET", base + "/pairings")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    mine = (await get(ann_person, base + "/pairings/mine"))["met"]
    assert [(m["name"], m["times"]) for m in mine] in (
        [("Bob Voter", 2), ("Cy Third", 1)], [("Cy Third", 1), ("Bob Voter", 2)])
    bob_met = next(m for m in mine if m["member"] == bob)
    assert [(s["round"], s["title"]) for s in bob_met["sessions"]] == [
        (2, "Thursday hour"), (1, "Thursday hour")]
    assert bob_met["last_ms"] == bob_met["sessions"][0]["ts"]
    outsider = await Person.sign_up(server.url, "Out Sider")
    for path in ["/pairings/mine", "/pair-blocks", "/pairings"]:
        reply = await outsider.call("GET", base + path)
        assert reply.status_code == 403 and reply.json()["code"] == "forbidden", path

    # Blocks: one's own, idempotent, never oneself or a stranger, bounded.
    blocks = base + "/pair-blocks"
    assert (await ann_person.call("PUT", f"{blocks}/{bob}")).status_code == 204
    assert (await ann_person.call("PUT", f"{blocks}/{bob}")).status_code == 204
    listed = await get(ann_person, blocks)
    assert [(b["member"], b["name"]) for b in listed["blocks"]] == [(bob, "Bob Voter")]
    assert listed["limit"] == 200
    assert (await get(c.members[1][0], blocks))["blocks"] == []  # bob is never told
    for target, status, code in [(ann, 400, "invalid"), ("m-nobody", 404, "not_found"),
                                 (outsider.id, 404, "not_found")]:
        reply = await ann_person.call("PUT", f"{blocks}/{target}")
        assert (reply.status_code, reply.json()["code"]) == (status, code), target
    assert (await outsider.call("PUT", f"{blocks}/{ann}")).status_code == 403
    server.practica.pair_blocks.limit = 1
    full = await ann_person.call("PUT", f"{blocks}/{cy}")
    assert full.status_code == 409 and full.json()["code"] == "conflict"
    assert [b["member"] for b in (await get(ann_person, blocks))["blocks"]] == [bob]

    # What the matcher reads: history among the people, stages, blocks either way.
    store = server.practica.store
    state = server.practica.folds.community(c.community)
    people = [ann, bob, cy, owner.id]
    inputs = await pairing_inputs(store, state, people, now_ms=page["pairings"][0]["ts"])
    assert sorted((m.a, m.b) for m in inputs.history) == sorted(
        tuple(sorted(pair)) for pair in [(ann, bob), (cy, owner.id), (ann, cy), (ann, bob),
                                         (bob, cy)])
    assert inputs.blocks == [(ann, bob)]  # (who keeps the block, whom)
    # All joined today; Ann presented once, so she is past newcomer.
    assert inputs.stages == {**dict.fromkeys(people, Stage.NEWCOMER), ann: Stage.MEMBER}
    later = page["pairings"][0]["ts"] + 40 * 86_400_000
    aged = await pairing_inputs(store, state, [ann, cy, "m-unseen"], now_ms=later)
    assert aged.stages == {ann: Stage.MEMBER, cy: Stage.MEMBER, "m-unseen": Stage.NEWCOMER}
    assert aged.blocks == [] and sorted((m.a, m.b) for m in aged.history) == [
        tuple(sorted([ann, cy]))]
    assert (await ann_person.call("DELETE", f"{blocks}/{bob}")).status_code == 204
    assert (await ann_person.call("DELETE", f"{blocks}/{bob}")).status_code == 204
    assert (await pairing_inputs(store, state, people, now_ms=later)).blocks == []


async def test_a_restart_resumes_without_duplicates_and_rebuild_agrees(backend, tmp_path: Path):
    async with database(backend, tmp_path) as db:
        settings = make_settings(tmp_path, **db)
        async with running_server(settings) as server:
            c = await circle(server, members=3)
            session, (ann, bob, cy) = await seeded(c)
            base = f"/api/communities/{c.community}/pairings"
            before = await get(c.host, base)
        assert len(before["pairings"]) == 5

        store = open_store(settings.database_url)  # stopped: commits nobody hears of
        await store.open()
        try:
            await store.append(f"session:{session}", c.host.id, [PairsChanged(
                round=2, why="late", member=c.host.id, groups=[
                    PairGroup(group=1, members=[ann, cy, bob]),
                    PairGroup(group=2, members=[c.host.id, "g-late"])])])
        finally:
            await store.close()

        async with running_server(make_settings(tmp_path, **db)) as server:
            c.host.base_url = server.url
            await server.practica.projections["pairings"].settle()
            after = await get(c.host, base)
            assert len(after["pairings"]) == 6  # one new meeting, nothing twice
            assert after["pairings"][0]["b_name"] in ("g-late", "Olga Host")
            assert after["pairings"][1:] == before["pairings"]

        assert await asyncio.to_thread(main, [
            "rebuild", "--projection", "pairings", "--database", settings.database_url]) == 0
        async with running_server(make_settings(tmp_path, **db)) as server:
            c.host.base_url = server.url
            await server.practica.projections["pairings"].settle()
            assert await get(c.host, base) == after


async def test_the_demo_has_a_pairing_history(server):
    await server.practica.projections["pairings"].settle()
    tables = PairTables(server.practica.store)
    met = await tables.meetings_since(DEMO, 0)
    assert sorted((m.a, m.b) for m in met) == [
        ("m-demo-amara", "m-demo-li"), ("m-demo-jonas", "m-demo-owner")]
    assert (await tables.practice(DEMO))["m-demo-li"].sessions_attended == 1
