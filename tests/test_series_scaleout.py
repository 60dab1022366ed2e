"""A lobby opens once, on time, with two server processes on PostgreSQL and Redis and
the one holding the series' deadline lease killed (SIGKILL) shortly before: the other
opens it, before the occurrence starts, and a member following the series there sees
it light up."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from server.cluster.scheduler import lease_of
from server.domain.deadlines import TIMER_ACTOR
from server.store.postgres import PostgresStore, split_schema
from tests.people import Person
from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix
from tests.test_scheduler import TimedServer, until

pytestmark = pytest.mark.anyio
LEAD_S = 9
"""The lobby opens this long after the series is made: time to find and kill its holder."""


def kinds(events) -> list[str]:
    return [e.body.__struct_config__.tag for e in events if e.body is not None]


async def _exists(redis, key: str) -> bool:
    return bool(await redis.exists(key))


@pytest.mark.slow
async def test_a_lobby_opens_once_on_time_when_its_lease_holder_is_killed(tmp_path):
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = redis_prefix()
    processes: list[TimedServer] = []
    try:
        async with postgres_schema() as url:
            for _index in range(2):
                processes.append(TimedServer(url, tmp_path, prefix))
                await until(processes[-1].healthy, "the server started", 60)
            urls = [f"http://127.0.0.1:{p.port}" for p in processes]
            owner = await Person.sign_up(urls[0], "Olga Owner")
            made = await owner.call("POST", "/api/communities", {
                "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
                "join_policy": "open"})
            assert made.status_code == 201, made.text
            reply = await owner.call("POST", "/api/communities/guild/rooms", {"name": "Clinic"})
            room = reply.json()["rooms"][0]["room"]
            ann = await Person.sign_up(urls[0], "Ann")
            await ann.join("guild")
            lobby_s = int(time.time()) + LEAD_S
            start = datetime.fromtimestamp(lobby_s + 60, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            reply = await owner.call("POST", "/api/communities/guild/series", {
                "series": "clinic", "room": room, "title": "Case clinic", "rule": "FREQ=DAILY",
                "start": start, "zone": "UTC", "lobby_min": 1, "reminder_min": 0})
            assert reply.status_code == 201, reply.text
            (first,) = (await ann.call(
                "GET", f"/api/series/clinic/occurrences?from_ms={lobby_s * 1000}"
                f"&to_ms={lobby_s * 1000 + 120_000}")).json()
            key = first["occurrence"]
            assert first["lobby_opens_ms"] == lobby_s * 1000
            assert (await ann.call("PUT", f"/api/series/clinic/occurrences/{key}/rsvp",
                                   {"answer": "yes"})).status_code == 200
            lease = f"{prefix}:lease:{lease_of('series:clinic')}"
            await until(lambda: _exists(redis, lease), "someone holds the series' lease")
            holder = (await redis.get(lease)).decode()
            killed = next(i for i, p in enumerate(processes) if f"-{p.proc.pid}-" in holder)
            assert time.time() < lobby_s - 1, "too slow to kill before the lobby opens"
            processes[killed].kill_9()  # no shutdown, no lease release
            killed_at = time.time()
            survivor = urls[1 - killed]
            watcher = Person(survivor)
            watcher.cookies, watcher.csrf = ann.cookies, ann.csrf
            socket = await watcher.connect(survivor.replace("http", "ws") + "/ws")
            await socket.resume({"series:clinic": 0})
            lit = await socket.wait_for(
                lambda f: f["type"] == "event" and f["body"]["type"] == "lobby_opened",
                timeout=40)
            assert lit["actor"] == TIMER_ACTOR
            session = lit["body"]["session"]
            view = await watcher.call("GET", f"/api/series/clinic/occurrences/{key}")
            assert view.json()["session"] == session
            assert (await watcher.call("GET", f"/api/sessions/{session}")).status_code == 200
            await asyncio.sleep(2)  # more sweeps: nothing fires again
            dsn, schema = split_schema(url)
            store = PostgresStore(dsn, schema=schema)
            await store.open()
            try:
                series_events = await store.read("series:clinic")
                session_events = await store.read(f"session:{session}")
            finally:
                await store.close()
            assert kinds(series_events).count("lobby_opened") == 1
            assert kinds(session_events) == ["session_opened"]
            (opened,) = [e for e in series_events if kinds([e]) == ["lobby_opened"]]
            # On time: not before the lobby time, and before the occurrence starts.
            assert lobby_s * 1000 <= opened.ts < first["start_ms"]
            print(f"lobby opened {opened.ts - lobby_s * 1000} ms after its time; its lease "
                  f"holder was killed {lobby_s - killed_at:.1f} s before")
            await socket.close()
    finally:
        for process in processes:
            process.stop()
        await redis.aclose()
        await drop_redis_prefix(prefix)
