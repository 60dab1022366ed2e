"""Outages degrade; they do not break.

Redis killed under load (a private redis-server this module starts, never the
shared one): both processes keep taking posts on their own limits, say they
are degraded, and the reader on the other process gets every acknowledged
post through the store poll. The store cut under load (a TCP proxy in front
of PostgreSQL; SQLite filled up): posts are answered ``unavailable`` with a
retry hint, never ``internal``, and after recovery every acknowledged post is
there exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
import pytest
from websockets.exceptions import InvalidStatus

from tests.conftest import free_port, make_settings, running_server
from tests.people import Person, signed_in
from tests.pg import DSN, postgres_schema
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
ROOM = "case-review"
STREAM = f"room:{ROOM}"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
RETRYABLE = {"unavailable", "rate_limited"}


class PrivateRedis:
    """A redis-server on a free loopback port, owned by one test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def ready(self) -> None:
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            assert self.proc is not None and self.proc.poll() is None, "redis-server exited"
            await asyncio.sleep(0.02)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL; :meth:`cut` closes it (new connections are
    refused, open ones reset), :meth:`restore` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.port = target_port, free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        await self.cut()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def post_until_settled(client: Client, text: str, outcomes: Counter[str]) -> bool:
    """Post ``text`` as the browser's outbox does: the same ref again after each
    ``unavailable``/``rate_limited`` (waiting retry_after_ms), a bounded number of times.
    Every reply is counted in ``outcomes``; True once acknowledged."""
    ref = f"msg-{text}"
    for _ in range(40):
        reply = await client.command("post", ref=ref, room=ROOM, text=text)
        if reply["type"] == "ack":
            outcomes["ack"] += 1
            return True
        outcomes[reply["code"]] += 1
        assert reply["code"] in RETRYABLE, reply  # never internal
        assert reply["retry_after_ms"] and reply["retry_after_ms"] > 0, reply
        await asyncio.sleep(min(reply["retry_after_ms"], 500) / 1000)
    return False


async def health(url: str) -> tuple[int, dict[str, Any]]:
    async with httpx2.AsyncClient(base_url=url) as http:
        reply = await http.get("/healthz")
        return reply.status_code, reply.json()


async def wait_health(url: str, status: str, *, timeout: float = 20) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _, body = await health(url)
        if body["status"] == status:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"/healthz stayed {body}"
        await asyncio.sleep(0.1)


async def until_seen(reader: Client, texts: list[str], timeout: float = 20) -> Counter[str]:
    """Wait until ``reader`` has received every one of ``texts``; what it has, counted."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = Counter(e["body"].get("text") for e in reader.events(STREAM)
                       if e["body"]["type"] == "message_posted")
        if set(texts) <= set(seen):
            return seen
        assert asyncio.get_running_loop().time() < deadline, set(texts) - set(seen)
        await asyncio.sleep(0.1)


def posted_texts(events: list[Any]) -> Counter[str]:
    """How often each post of this test (not the demo's own) is in the stream."""
    return Counter(e.body.text for e in events if type(e.body).__name__ == "MessagePosted"
                   and e.body.text.startswith(("before-", "during-", "still-down-", "after-",
                                               "full-")))


async def test_redis_killed_under_load_degrades_and_recovers(tmp_path, private_redis):
    await private_redis.ready()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with postgres_schema() as url:
        shared = {"database_url": url, "redis_url": private_redis.url,
                  "redis_prefix": f"t{uuid.uuid4().hex[:10]}",
                  "commands_per_minute": 6000, "command_burst": 200}
        async with running_server(make_settings(tmp_path / "a", **shared)) as a, \
                running_server(make_settings(tmp_path / "b", **shared)) as b:
            writer = await signed_in(a, "Writer")
            assert (await writer.command("join", room=ROOM))["type"] == "ack"
            reader = await signed_in(b, "Reader")
            assert (await reader.command("join", room=ROOM))["type"] == "ack"
            reader.keep_reading()
            outcomes: Counter[str] = Counter()
            acked: list[str] = []

            async def write(label: str, count: int) -> None:
                for i in range(count):
                    text = f"{label}-{i}"
                    if await post_until_settled(writer, text, outcomes):
                        acked.append(text)
                    await asyncio.sleep(0.05)  # about 20 posts a second

            await write("before", 10)
            private_redis.kill()
            await write("during", 20)
            for server in (a, b):
                code, body = await health(server.url)
                assert code == 200 and body["status"] == "degraded", body
                assert body["redis"] == "down"
                assert server.practica.metrics.registry.get_sample_value(
                    "practica_degraded", {"dependency": "redis"}) == 1
            # Sign-up and sign-in count their attempts in the process meanwhile.
            await Person.sign_up(b.url, "Newcomer", login="newcomer")
            assert (await Person.sign_in(b.url, "newcomer")).me["account"] is not None
            await write("still-down", 20)
            # Fan-out falls back to the store poll: the reader has them while Redis is down.
            await until_seen(reader, [t for t in acked if not t.startswith("before-")])
            assert b.practica.redis_degraded()
            private_redis.start()
            await private_redis.ready()
            for server in (a, b):
                await wait_health(server.url, "ok")
                assert server.practica.metrics.registry.get_sample_value(
                    "practica_degraded", {"dependency": "redis"}) == 0
            await write("after", 10)

            assert set(outcomes) <= {"ack", *RETRYABLE}, outcomes
            assert len(acked) == 60, (len(acked), outcomes)
            seen = await until_seen(reader, acked)
            assert max(seen.values()) == 1, "a post reached the reader twice"
            stored = posted_texts(await a.practica.store.read(STREAM, 0, 10_000))
            assert stored == Counter(acked), "the store lost or doubled an acknowledged post"
            await writer.close()
            await reader.close()


def through(proxy: CuttableProxy, database_url: str) -> str:
    parts = urlsplit(database_url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


@contextlib.asynccontextmanager
async def cuttable_postgres() -> AsyncIterator[tuple[str, CuttableProxy]]:
    proxy = CuttableProxy(urlsplit(DSN).port or 5432)
    await proxy.restore()
    try:
        async with postgres_schema() as url:
            yield through(proxy, url), proxy
    finally:
        await proxy.close()


async def test_postgres_cut_under_load_answers_unavailable_and_loses_nothing(tmp_path):
    async with cuttable_postgres() as (url, proxy), \
            running_server(make_settings(tmp_path, database_url=url)) as server:
        writer = await signed_in(server, "Writer")
        assert (await writer.command("join", room=ROOM))["type"] == "ack"
        outcomes: Counter[str] = Counter()
        acked: list[str] = []
        for i in range(5):
            assert await post_until_settled(writer, f"before-{i}", outcomes)
            acked.append(f"before-{i}")
        await proxy.cut()
        refused = await writer.command("post", ref="msg-during-0", room=ROOM, text="during-0")
        assert refused["type"] == "error" and refused["code"] == "unavailable", refused
        assert refused["retry_after_ms"] > 0
        code, body = await health(server.url)
        assert code == 503 and body["store"] == "down", body
        with pytest.raises(InvalidStatus) as refused_socket:  # the session cannot be read
            await writer.person.connect(server.ws_url)
        assert refused_socket.value.response.status_code == 503
        assert int(refused_socket.value.response.headers["retry-after"]) >= 1
        call = await writer.person.call("GET", "/api/me")
        assert call.status_code == 503, call.text
        assert call.json()["code"] == "unavailable" and call.json()["retry_after_ms"] > 0
        assert int(call.headers["retry-after"]) >= 1
        assert server.practica.metrics.registry.get_sample_value(
            "practica_degraded", {"dependency": "store"}) == 1
        restore = asyncio.get_running_loop().call_later(
            2, lambda: asyncio.ensure_future(proxy.restore()))
        try:
            for i in range(20):  # the outage ends while these are being retried
                text = f"during-{i}"
                if await post_until_settled(writer, text, outcomes):
                    acked.append(text)
        finally:
            restore.cancel()
        assert outcomes["unavailable"] >= 1
        assert set(outcomes) <= {"ack", *RETRYABLE}, outcomes
        assert len(acked) == 25, outcomes
        await wait_health(server.url, "ok")
        stored = posted_texts(await server.practica.store.read(STREAM, 0, 10_000))
        assert stored == Counter(acked), "the store lost or doubled an acknowledged post"
        await writer.close()


async def test_sqlite_that_cannot_write_answers_unavailable(tmp_path: Path):
    async with running_server(make_settings(tmp_path)) as server:
        writer = await signed_in(server, "Writer")
        assert (await writer.command("join", room=ROOM))["type"] == "ack"
        store = server.practica.store
        # A real SQLite condition, not a mock: the database may not grow ("database or
        # disk is full"), as on a full disk.
        await store._w.execute("PRAGMA max_page_count = 1")
        outcomes: Counter[str] = Counter()
        refused = None
        for i in range(500):  # the free space left in the last pages runs out
            reply = await writer.command("post", ref=f"msg-full-{i}", room=ROOM,
                                         text=f"full-{i}" + "x" * 2000)
            if reply["type"] == "error":
                refused = (i, reply)
                break
            outcomes["ack"] += 1
        assert refused is not None, "the database never filled up"
        index, reply = refused
        assert reply["code"] == "unavailable" and reply["retry_after_ms"] > 0, reply
        before = posted_texts(await store.read(STREAM, 0, 10_000))
        assert f"full-{index}" + "x" * 2000 not in before  # nothing was applied
        await store._w.execute("PRAGMA max_page_count = 1073741823")
        again = await writer.command("post", ref=f"msg-full-{index}", room=ROOM,
                                     text=f"full-{index}" + "x" * 2000)
        assert again["type"] == "ack", again
        after = posted_texts(await store.read(STREAM, 0, 10_000))
        assert after[f"full-{index}" + "x" * 2000] == 1
        assert sum(after.values()) == sum(before.values()) + 1
        await writer.close()


async def test_a_frozen_redis_does_not_stall_commands(tmp_path, private_redis):
    """Redis stops answering without closing anything (SIGSTOP): the short timeouts
    mark it down, and posts are acknowledged on this process's own limits."""
    import signal

    await private_redis.ready()
    settings = make_settings(tmp_path, redis_url=private_redis.url,
                             redis_prefix=f"t{uuid.uuid4().hex[:10]}")
    async with running_server(settings) as server:
        writer = await signed_in(server, "Writer")
        assert (await writer.command("join", room=ROOM))["type"] == "ack"
        assert private_redis.proc is not None
        private_redis.proc.send_signal(signal.SIGSTOP)
        try:
            outcomes: Counter[str] = Counter()
            for i in range(5):
                assert await post_until_settled(writer, f"during-{i}", outcomes)
            assert set(outcomes) == {"ack"}, outcomes
            code, body = await health(server.url)
            assert code == 200 and body["redis"] == "down", body
        finally:
            private_redis.proc.send_signal(signal.SIGCONT)
        await wait_health(server.url, "ok")
        await writer.close()


async def test_presence_changes_made_during_a_partition_reach_redis_after_it(private_redis):
    """Redis stays up but this process cannot reach it (a cut proxy): a member who left
    meanwhile is removed from the shared presence, and one who came is added, once the
    link is back, without waiting for anyone to leave or join again."""
    import redis.asyncio as aioredis

    from server.cluster.presence import Presence, RedisPresence
    from server.cluster.redis_health import RedisHealth, shared_client

    await private_redis.ready()
    proxy = CuttableProxy(private_redis.port)
    await proxy.restore()
    client = shared_client(f"redis://127.0.0.1:{proxy.port}/0")
    direct = aioredis.Redis.from_url(private_redis.url)
    health = RedisHealth(client, probe_interval_s=0.05)
    local = Presence()
    presence = RedisPresence(client, "proc-1", local, ttl_ms=600, prefix="p", health=health)
    try:
        await presence.start()
        tab = object()
        local.attach("r", "leaver", tab)
        await presence.hold("r", "leaver")
        assert await direct.hkeys("p:presence:r") == [b"proc-1 leaver"]
        await proxy.cut()
        local.detach("r", "leaver", tab)
        await presence.release("r", "leaver")
        local.attach("r", "comer", object())
        await presence.hold("r", "comer")
        assert presence.degraded and await presence.holders("r") == {"comer"}
        await proxy.restore()
        deadline = asyncio.get_running_loop().time() + 10
        while await direct.hkeys("p:presence:r") != [b"proc-1 comer"]:
            assert asyncio.get_running_loop().time() < deadline, await direct.hkeys(
                "p:presence:r")
            await asyncio.sleep(0.05)
        while presence.degraded:  # settled after one liveness period
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert await presence.holders("r") == {"comer"}
    finally:
        await presence.stop()
        await health.stop()
        await client.aclose()
        await direct.aclose()
        await proxy.close()
