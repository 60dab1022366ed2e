"""A live session across two server processes on PostgreSQL + Redis: the host on one,
members on the other, every change reaching both sides; off-the-record talk relayed
across processes and never stored; and an auto-advancing segment moved on exactly
once when the process holding the session's deadline lease stops sweeping; one person
rejoining a pair-up round from both processes at once is placed once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis

from server.cluster import periodic
from server.cluster.scheduler import lease_of
from server.domain.deadlines import TIMER_ACTOR
from tests.conftest import RunningServer, make_settings, running_server
from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix
from tests.session_setup import attend, circle, member, op, open_session

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pair(tmp_path) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    prefix = redis_prefix()
    await drop_redis_prefix(prefix)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    try:
        async with postgres_schema() as url:
            shared = {"database_url": url, "redis_url": REDIS_URL, "redis_prefix": prefix,
                      "presence_grace_ms": 600_000}
            async with running_server(make_settings(tmp_path / "a", **shared)) as a:
                async with running_server(make_settings(tmp_path / "b", **shared)) as b:
                    yield a, b
    finally:
        await drop_redis_prefix(prefix)


def event_of(kind: str, **fields: Any) -> Any:
    return lambda f: (f["type"] == "event" and f["body"]["type"] == kind
                      and all(f["body"].get(k) == v for k, v in fields.items()))


async def test_host_on_one_process_members_on_the_other(pair):
    a, b = pair
    c = await circle(a, members=0)
    ann_person, ann = await member(a, c.community, "Ann Asker", ws_url=b.ws_url, other=b)
    _, bob = await member(a, c.community, "Bob Voter", ws_url=b.ws_url, other=b)
    session = await open_session(c)
    await until_known(b, session)
    await attend(c.host_ws, session)
    for socket in (ann, bob):
        sync = await attend(socket, session)
        assert sync["mode"] == "snapshot" and sync["snapshot"]["phase"] == "lobby"
    assert (await op(c.host_ws, session, "start"))["type"] == "ack"
    started = await ann.wait_for(event_of("session_started"))
    assert started["body"]["deadline_ms"] > 0
    await op(ann, session, "ask", text="Across processes?", anonymous=True)
    asked = await c.host_ws.wait_for(event_of("question_asked"))
    assert asked["actor"] is None and asked["body"]["asker"] is None
    await op(bob, session, "upvote", question=1)
    await c.host_ws.wait_for(event_of("question_upvoted", question=1))
    assert (await op(ann, session, "edit_question", question=1, text="Still?"))["type"] == "ack"
    await op(bob, session, "raise_hand")
    await c.host_ws.wait_for(event_of("hand_raised"))
    await op(c.host_ws, session, "bring_up", member=bob.member_id)
    await bob.wait_for(event_of("stage_changed", on=True))
    await op(c.host_ws, session, "off_record", on=True)
    await ann.wait_for(event_of("off_record_started"))
    said = await op(ann, session, "say", text="only live")
    assert said["type"] == "ack" and "seq" not in said
    relayed = await c.host_ws.wait_for(lambda f: f["type"] == "relayed")
    assert (relayed["stream"], relayed["kind"], relayed["data"]["text"]) == (
        f"session:{session}", "off_record", "only live")
    await op(c.host_ws, session, "off_record", on=False)
    await op(c.host_ws, session, "advance", index=0)
    await ann.wait_for(event_of("segment_changed", index=1))
    await op(c.host_ws, session, "end")
    await bob.wait_for(event_of("session_ended"))
    stored = await a.practica.store.read(f"session:{session}")
    assert "only live" not in msgspec.json.encode(stored).decode()
    view = (await ann_person.call("GET", f"/api/sessions/{session}")).json()
    assert view["snapshot"]["phase"] == "ended" and view["mine"] == [1]
    on_b = b.practica.folds.session(session)
    assert on_b.seq == stored[-1].seq and on_b.phase == "ended"


async def test_auto_advance_fires_once_when_the_lease_holder_stops(pair):
    a, b = pair
    c = await circle(a, members=0)
    _, watcher = await member(a, c.community, "Wanda", ws_url=b.ws_url, other=b)
    session = await open_session(c, agenda=[
        {"kind": "open", "title": "Short", "minutes": 1, "auto_advance": True},
        {"kind": "qa", "title": "Next", "minutes": 5}])
    stream = f"session:{session}"
    now = [0]
    for server in (a, b):
        server.practica.scheduler.clock = lambda: now[0] or _wall()
    await until_known(b, session)
    await attend(watcher, session)
    await op(c.host_ws, session, "start")
    started = await watcher.wait_for(event_of("session_started"))
    deadline = started["body"]["deadline_ms"]
    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        lease = f"{a.settings.redis_prefix}:lease:{lease_of(stream)}"
        holder = await wait_value(redis, lease)
        dying, survivor = (a, b) if holder == a.practica.process.encode() else (b, a)
        await periodic.stop(dying.practica.scheduler._task)  # it stops sweeping, holding on
        now[0] = deadline + 1
        moved = await watcher.wait_for(event_of("segment_changed", how="auto"), timeout=20)
        assert moved["actor"] == TIMER_ACTOR and moved["body"]["index"] == 1
        # the stopped one wakes and sweeps: it reads what happened first, fires nothing
        assert await dying.practica.scheduler.sweep_once() == 0
        await survivor.practica.scheduler.sweep_once()
        events = await a.practica.store.read(stream)
        autos = [e for e in events if e.body is not None
                 and e.body.__struct_config__.tag == "segment_changed"]
        assert len(autos) == 1
    finally:
        await redis.aclose()


def _wall() -> int:
    import time
    return int(time.time() * 1000)


async def until_known(server: RunningServer, session: str, within: float = 10) -> None:
    """The other process has folded the session's opening (it follows every session)."""
    deadline = asyncio.get_running_loop().time() + within
    while session not in server.practica.folds.sessions or not (
            server.practica.folds.sessions[session].opened):
        assert asyncio.get_running_loop().time() < deadline, "the session reached the process"
        await asyncio.sleep(0.02)


async def wait_value(redis: aioredis.Redis, key: str, within: float = 15) -> bytes:
    deadline = asyncio.get_running_loop().time() + within
    while (value := await redis.get(key)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"{key} was never set"
        await asyncio.sleep(0.05)
    return bytes(value)


async def test_two_hosts_on_two_processes_advance_at_once_one_segment(pair):
    a, b = pair
    c = await circle(a, members=0)
    second, second_ws = await member(a, c.community, "Hugo Host", ws_url=b.ws_url, other=b)
    made = await c.host.call("PUT", f"/api/communities/{c.community}/members/{second.id}/role",
                             {"role": "host"})
    assert made.status_code == 204, made.text
    await until_role(b, c.community, second.id, "host")
    second_ws = await second.connect(b.ws_url)  # the role change closed the old socket
    await second_ws.identify(community=c.community)
    session = await open_session(c, agenda=[
        {"kind": "open", "title": f"Part {i}", "minutes": 5} for i in range(5)])
    await until_known(b, session)
    await op(c.host_ws, session, "start")
    for seen in range(3):
        await until_seq(b, session, a.practica.folds.session(session).seq)
        replies = await asyncio.gather(op(c.host_ws, session, "advance", index=seen),
                                       op(second_ws, session, "advance", index=seen))
        assert sorted(r["type"] for r in replies) == ["ack", "error"], replies
        assert [r["code"] for r in replies if r["type"] == "error"] == ["out_of_order"]
    events = await a.practica.store.read(f"session:{session}")
    moves = [e.body.index for e in events if e.body is not None  # type: ignore[union-attr]
             and e.body.__struct_config__.tag == "segment_changed"]
    assert moves == [1, 2, 3]



async def test_two_hosts_on_two_processes_press_pair_at_once_one_round(pair):
    a, b = pair
    c = await circle(a, members=0)
    second, second_ws = await member(a, c.community, "Hugo Host", ws_url=b.ws_url, other=b)
    made = await c.host.call("PUT", f"/api/communities/{c.community}/members/{second.id}/role",
                             {"role": "host"})
    assert made.status_code == 204, made.text
    await until_role(b, c.community, second.id, "host")
    second_ws = await second.connect(b.ws_url)
    await second_ws.identify(community=c.community)
    session = await open_session(c, agenda=[{"kind": "pairs", "title": "Pairs", "minutes": 10},
                                            {"kind": "open", "title": "After", "minutes": 5}])
    await until_known(b, session)
    people = [await member(a, c.community, name, ws_url=url, other=b)
              for name, url in (("Ann Asker", a.ws_url), ("Bob Voter", b.ws_url),
                                ("Cy Third", a.ws_url), ("Di Fourth", b.ws_url))]
    for _person, socket in people:
        assert (await socket.command("join", room=c.room))["type"] == "ack"
        await attend(socket, session)
    await op(c.host_ws, session, "start")
    for server in (a, b):
        await until_seq(server, session, a.practica.folds.session(session).seq)
        room = await server.practica.folds.room(c.room)
        deadline = asyncio.get_running_loop().time() + 10
        while not all(p.id in room.present for p, _ in people):
            assert asyncio.get_running_loop().time() < deadline, "everyone present"
            await asyncio.sleep(0.02)
    # each presses "pair" on the round their screen shows (none yet), as the browser does
    replies = await asyncio.gather(op(c.host_ws, session, "pair", round=0),
                                   op(second_ws, session, "pair", round=0))
    assert sorted(r["type"] for r in replies) == ["ack", "error"], replies
    assert [r["code"] for r in replies if r["type"] == "error"] == ["out_of_order"]
    events = await a.practica.store.read(f"session:{session}")
    made_rounds = [e.body for e in events if e.body is not None
                   and e.body.__struct_config__.tag == "pairs_made"]
    assert len(made_rounds) == 1 and made_rounds[0].round == 1  # type: ignore[union-attr]
    await until_seq(b, session, events[-1].seq)
    assert b.practica.folds.session(session).ups.member_lists() == (
        a.practica.folds.session(session).ups.member_lists())
    assert len(b.practica.folds.session(session).ups.groups) == 2


async def test_one_person_rejoining_on_two_processes_at_once_is_placed_once(pair):
    a, b = pair
    c = await circle(a, members=0)
    session = await open_session(c, agenda=[{"kind": "pairs", "title": "Pairs", "minutes": 10},
                                            {"kind": "open", "title": "After", "minutes": 5}])
    await until_known(b, session)
    people = [await member(a, c.community, name, ws_url=a.ws_url, other=b)
              for name in ("Ann Asker", "Bob Voter", "Cy Third", "Di Fourth")]
    for _person, socket in people:
        assert (await socket.command("join", room=c.room))["type"] == "ack"
        await attend(socket, session)
    await op(c.host_ws, session, "start")
    assert (await op(c.host_ws, session, "pair"))["type"] == "ack"
    ups = a.practica.folds.session(session).ups
    sockets = {p.id: (p, s) for p, s in people}
    leaver, partner = (sockets[m] for m in ups.member_lists()[0])
    assert (await op(leaver[1], session, "leave_pair"))["type"] == "ack"
    assert (await op(partner[1], session, "partner_choice", choice="main_room"))["type"] == "ack"
    on_b = await leaver[0].connect(b.ws_url)  # the same person's page on the other process
    try:
        await on_b.identify(community=c.community)
        await until_seq(b, session, a.practica.folds.session(session).seq)
        room = await b.practica.folds.room(c.room)
        deadline = asyncio.get_running_loop().time() + 10
        while leaver[0].id not in room.present:
            assert asyncio.get_running_loop().time() < deadline, "present on b"
            await asyncio.sleep(0.02)
        replies = await asyncio.gather(op(leaver[1], session, "rejoin_pairs", round=1),
                                       op(on_b, session, "rejoin_pairs", round=1))
    finally:
        await on_b.close()
    assert sorted(r["type"] for r in replies) == ["ack", "error"], replies
    (refused,) = [r for r in replies if r["type"] == "error"]
    assert refused["code"] == "out_of_order" and "already" in refused["message"], refused
    events = await a.practica.store.read(f"session:{session}")
    rejoins = [e.body for e in events if e.body is not None
               and e.body.__struct_config__.tag == "pairs_changed"
               and e.body.why == "rejoin"]  # type: ignore[union-attr]
    assert [r.member for r in rejoins] == [leaver[0].id]  # type: ignore[union-attr]
    await until_seq(b, session, events[-1].seq)
    assert b.practica.folds.session(session).ups.group_of(leaver[0].id) is not None


async def until_role(server: RunningServer, community: str, member_id: str, role: str,
                     within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (info := server.practica.folds.community(community).members.get(member_id)) is None \
            or info.role != role:
        assert asyncio.get_running_loop().time() < deadline, "the role reached the process"
        await asyncio.sleep(0.02)


async def until_seq(server: RunningServer, session: str, seq: int, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while server.practica.folds.session(session).seq < seq:
        assert asyncio.get_running_loop().time() < deadline, "the other process caught up"
        await asyncio.sleep(0.02)
