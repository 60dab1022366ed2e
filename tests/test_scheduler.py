"""Deadlines fire exactly once: across a lease that moves, a restart, and a key seen before.

The scheduler is driven with a clock the test sets, so nothing here waits for
real time to pass; waits are for conditions, with deadlines.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time

import httpx2
import pytest
import redis.asyncio as aioredis

from server.cluster import periodic
from server.cluster.lease import LocalLeases
from server.cluster.scheduler import Scheduler, lease_of
from server.domain.deadlines import TIMER_ACTOR, timer_ref
from server.domain.events import MessagePosted
from server.store import CommandKey
from server.store.postgres import PostgresStore, split_schema
from server.store.sqlite import SqliteStore
from tests.conftest import free_port, make_settings, running_server
from tests.people import Person, signed_in
from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix
from tests.timers import REMINDERS, count_fired, fired_message

pytestmark = pytest.mark.anyio
ROOM = "case-review"
STREAM = f"room:{ROOM}"
T = 1_900_000_000_000
"""The deadline used throughout, in epoch milliseconds."""


def post(text: str, actor: str = "m-1") -> MessagePosted:
    return MessagePosted(author=actor, author_name="Ann", text=text)


class NoLease:
    async def hold(self, name: str) -> bool:
        return False

    async def release_all(self) -> None:
        return None


@pytest.fixture
async def store(tmp_path):
    store = SqliteStore(str(tmp_path / "timers.db"))
    await store.open()
    yield store
    await store.close()


def at(now: list[int]):
    return lambda: now[0]


async def test_a_due_deadline_fires_once_and_not_before(store):
    now = [T - 1]
    scheduler = Scheduler(store, LocalLeases(), [REMINDERS], clock=at(now))
    await store.append(STREAM, "m-1", [post(f"timer d1 {T}")])
    assert await scheduler.sweep_once() == 0
    now[0] = T
    assert await scheduler.sweep_once() == 1
    assert await scheduler.sweep_once() == 0
    events = await store.read(STREAM)
    assert count_fired(events, "d1") == 1
    assert events[-1].actor == TIMER_ACTOR
    assert await store.find_command(CommandKey(TIMER_ACTOR, timer_ref(STREAM, "d1"))) == (
        STREAM, events[-1].seq)


async def test_a_due_command_whose_key_exists_is_not_applied_again(store):
    # Another process fired d1 under its key; this process's fold never learns of it
    # (it ignores firings), so it finds d1 due on every sweep.
    await store.append(STREAM, "m-1", [post(f"timer d1 {T}")])
    key = CommandKey(TIMER_ACTOR, timer_ref(STREAM, "d1"))
    await store.append(STREAM, TIMER_ACTOR, [fired_message("d1")], key)
    blind = dataclasses.replace(
        REMINDERS, apply=lambda state, event: REMINDERS.apply(state, event)
        if event.actor != TIMER_ACTOR else state)
    scheduler = Scheduler(store, LocalLeases(), [blind], clock=at([T]))
    head = await store.head(STREAM)
    for _sweep in range(3):
        assert await scheduler.sweep_once() == 0
    assert await store.head(STREAM) == head
    assert count_fired(await store.read(STREAM), "d1") == 1
    assert scheduler.fired == 0


async def test_a_process_without_the_lease_fires_nothing(store):
    await store.append(STREAM, "m-1", [post(f"timer d1 {T}")])
    scheduler = Scheduler(store, NoLease(), [REMINDERS], clock=at([T + 10]))
    assert await scheduler.sweep_once() == 0
    assert count_fired(await store.read(STREAM), "d1") == 0


async def test_two_schedulers_on_one_store_fire_a_deadline_once(store):
    await store.append(STREAM, "m-1", [post(f"timer d{i} {T}") for i in range(5)])
    first = Scheduler(store, LocalLeases(), [REMINDERS], clock=at([T]))
    second = Scheduler(store, LocalLeases(), [REMINDERS], clock=at([T]))
    fired = await asyncio.gather(first.sweep_once(), second.sweep_once())
    assert sum(fired) == 5
    events = await store.read(STREAM)
    assert [count_fired(events, f"d{i}") for i in range(5)] == [1] * 5


async def test_on_sqlite_a_deadline_missed_while_stopped_fires_once_after_restart(tmp_path):
    settings = make_settings(tmp_path)
    async with running_server(settings) as first:
        first.practica.scheduler.clock = at([T - 60_000])
        first.practica.scheduler.kinds.append(REMINDERS)
        ann = await signed_in(first, "Ann")
        assert (await ann.command("join", room=ROOM))["type"] == "ack"
        assert (await ann.command("post", room=ROOM, text=f"timer d1 {T}"))["type"] == "ack"
        await first.practica.scheduler.sweep_once()  # not due yet: nothing fires
        await ann.close()
    # The server was down when the deadline passed.
    for _restart in range(2):
        async with running_server(settings) as again:
            scheduler = again.practica.scheduler
            scheduler.clock = at([T + 60_000])
            scheduler.kinds.append(REMINDERS)
            await until(lambda: _fired_in(again, "d1"), "the missed deadline fired")
            await scheduler.sweep_once()
            assert count_fired(await again.practica.store.read(STREAM), "d1") == 1
    async with running_server(settings) as last:
        assert count_fired(await last.practica.store.read(STREAM), "d1") == 1


async def _fired_in(server, deadline: str) -> bool:
    return count_fired(await server.practica.store.read(STREAM), deadline) > 0


async def until(check, what: str, within: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def test_the_survivor_fires_once_when_the_lease_holder_dies_before_a_deadline(tmp_path):
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = redis_prefix()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    now = [T - 60_000]
    try:
        async with postgres_schema() as url:
            shared = {"database_url": url, "redis_url": REDIS_URL, "redis_prefix": prefix}
            async with running_server(make_settings(tmp_path / "a", **shared)) as a:
                async with running_server(make_settings(tmp_path / "b", **shared)) as b:
                    for server in (a, b):
                        server.practica.scheduler.clock = at(now)
                    # a sets the deadline and takes the room's lease first.
                    ann = await signed_in(a, "Ann")
                    await ann.command("join", room=ROOM)
                    await ann.command("post", room=ROOM, text=f"timer d1 {T}")
                    a.practica.scheduler.kinds.append(REMINDERS)
                    lease = f"{a.settings.redis_prefix}:lease:{lease_of(STREAM)}"
                    await until(lambda: _held_by(redis, lease, a.practica.process),
                                "a holds the room's deadline lease")
                    watcher = Person(b.url)
                    watcher.cookies, watcher.csrf = ann.person.cookies, ann.person.csrf
                    on_b = await watcher.connect(b.ws_url)
                    await on_b.resume({STREAM: 0})
                    b.practica.scheduler.kinds.append(REMINDERS)
                    # a dies just before the deadline: its sweeps stop, its lease is
                    # never released, only left to lapse.
                    await periodic.stop(a.practica.scheduler._task)
                    now[0] = T + 1
                    fired = await on_b.wait_for(
                        lambda f: f["type"] == "event" and f["body"].get("text") == "fired d1",
                        timeout=20)
                    assert fired["actor"] == TIMER_ACTOR
                    assert await redis.get(lease) == b.practica.process.encode()
                    # The dead holder was only paused: waking, it reads what its
                    # successor did before deciding, and fires nothing.
                    assert await a.practica.scheduler._fire_due(REMINDERS, STREAM) == 0
                    await b.practica.scheduler.sweep_once()
                    assert count_fired(await b.practica.store.read(STREAM), "d1") == 1
                    assert a.practica.scheduler.fired == 0
                    assert b.practica.scheduler.fired == 1
                    await on_b.close()
                    await ann.close()
    finally:
        await redis.aclose()
        await drop_redis_prefix(prefix)


async def _held_by(redis, key: str, process: str) -> bool:
    return await redis.get(key) == process.encode()


@pytest.mark.slow
async def test_a_deadline_fires_once_when_its_lease_holder_is_killed_with_sigkill(tmp_path):
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = redis_prefix()
    processes: list[TimedServer] = []
    try:
        async with postgres_schema() as url:
            for _index in range(2):
                processes.append(TimedServer(url, tmp_path, prefix))
                await until(processes[-1].healthy, "the server started", 60)
            ports = [p.port for p in processes]
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            ann = await Person.sign_up(urls[0], "Ann")
            await ann.join()
            socket = await ann.connect(urls[0].replace("http", "ws") + "/ws")
            await socket.identify()
            await socket.command("join", room=ROOM)
            deadline = int(time.time() * 1000) + 8000
            await socket.command("post", room=ROOM, text=f"timer d1 {deadline}")
            lease = f"{prefix}:lease:{lease_of(STREAM)}"
            await until(lambda: _exists(redis, lease), "someone holds the deadline lease")
            holder = (await redis.get(lease)).decode()
            killed = next(i for i, p in enumerate(processes) if f"-{p.proc.pid}-" in holder)
            assert time.time() * 1000 < deadline, "too slow to kill before the deadline"
            processes[killed].kill_9()  # no shutdown, no lease release
            survivor = urls[1 - killed]
            watcher = Person(survivor)
            watcher.cookies, watcher.csrf = ann.cookies, ann.csrf
            on_survivor = await watcher.connect(survivor.replace("http", "ws") + "/ws")
            await on_survivor.resume({STREAM: 0})
            fired = await on_survivor.wait_for(
                lambda f: f["type"] == "event" and f["body"].get("text") == "fired d1",
                timeout=30)
            assert fired["actor"] == TIMER_ACTOR
            # Later sweeps do not fire it again: d2, due at once, fires on a later one.
            await on_survivor.command("post", room=ROOM, text="timer d2 0")
            await on_survivor.wait_for(
                lambda f: f["type"] == "event" and f["body"].get("text") == "fired d2",
                timeout=30)
            dsn, schema = split_schema(url)
            store = PostgresStore(dsn, schema=schema)
            await store.open()
            try:
                events = await store.read(STREAM)
            finally:
                await store.close()
            assert (count_fired(events, "d1"), count_fired(events, "d2")) == (1, 1)
            await on_survivor.close()
    finally:
        for process in processes:
            process.stop()
        await redis.aclose()
        await drop_redis_prefix(prefix)


class TimedServer:
    """``practica run`` in its own process, with the test timer kind registered."""

    def __init__(self, database_url: str, tmp_path, prefix: str) -> None:
        self.port = free_port()
        env = {**os.environ, "PRACTICA_DATABASE_URL": database_url,
               "PRACTICA_REDIS_URL": REDIS_URL, "PRACTICA_REDIS_PREFIX": prefix,
               "PRACTICA_PORT": str(self.port),
               "PRACTICA_PRESENCE_GRACE_MS": "1000", "PRACTICA_LOG_FORMAT": "text"}
        self.log = open(tmp_path / f"server-{self.port}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.timed_server", "run"],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)

    async def healthy(self) -> bool:
        assert self.proc.poll() is None, "the server process exited"
        async with httpx2.AsyncClient() as http:
            try:
                reply = await http.get(f"http://127.0.0.1:{self.port}/healthz")
            except httpx2.TransportError:
                return False
            return reply.status_code == 200

    def kill_9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def _exists(redis, key: str) -> bool:
    return bool(await redis.exists(key))
