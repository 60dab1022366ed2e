"""Two server processes on PostgreSQL + Redis, and one of them killed with SIGKILL.

Clients on either process see one order; the killed process's clients
reconnect to the survivor and resume with nothing lost and nothing twice
(counted, Jepsen-style); its members who do not come back leave every room
exactly once, because the room's lease moved to the survivor.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx2
import pytest
import redis.asyncio as aioredis

from tests.conftest import free_port
from tests.people import Person, http_of
from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix
from tests.wsclient import Client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
ROOM = "case-review"
STREAM = f"room:{ROOM}"


class Process:
    def __init__(self, database_url: str, tmp_path, prefix: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        env = {**os.environ, "PRACTICA_DATABASE_URL": database_url,
               "PRACTICA_REDIS_URL": REDIS_URL, "PRACTICA_REDIS_PREFIX": prefix,
               "PRACTICA_PORT": str(self.port),
               "PRACTICA_PRESENCE_GRACE_MS": "1000", "PRACTICA_LOG_FORMAT": "text",
               "PRACTICA_COMMANDS_PER_MINUTE": "100000", "PRACTICA_COMMAND_BURST": "10000",
               "PRACTICA_MAX_REPLAY_EVENTS": "100000"}
        self.log = open(tmp_path / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "run"], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    async def ready(self) -> None:
        async with httpx2.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(self.url + "/healthz")).status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                assert self.proc.poll() is None, "server process exited"
                await asyncio.sleep(0.05)
        raise TimeoutError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
async def cluster(tmp_path):
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = redis_prefix()  # this test's own keys: no FLUSHDB of a shared database
    processes: list[Process] = []
    async with postgres_schema() as database_url:
        def start() -> Process:
            process = Process(database_url, tmp_path, prefix)
            processes.append(process)
            return process
        try:
            yield start, redis, prefix
        finally:
            for process in processes:
                process.stop()
            await redis.aclose()
            await drop_redis_prefix(prefix)


class Member:
    """A client that reconnects to whichever process is up and resumes, resending
    every command it has not seen acknowledged under the same ref."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client: Client | None = None
        self.seen: list[tuple[int, str]] = []  # (seq, text) of message_posted, in arrival order
        self.acked: set[str] = set()
        self.last_seq = 0

    async def start(self, url: str) -> None:
        self.person = await Person.sign_up(http_of(url), self.name)
        await self.person.join()
        self.client = await self.person.connect(url)
        await self.client.identify()
        ack = await self.client.command("join", room=ROOM)
        self.last_seq = ack["sync"]["seq"]
        self.id = self.client.member_id
        self.client.frames.clear()
        self.client._taken.clear()
        self.client.keep_reading()

    def absorb(self) -> None:
        assert self.client is not None
        for frame in self.client.frames:
            if frame["type"] == "ready":
                for sync in frame["syncs"]:
                    if sync["stream"] == STREAM:
                        for event in sync.get("events", []):
                            self._take(event)
            elif frame["type"] == "event" and frame["stream"] == STREAM:
                self._take(frame)
            elif frame["type"] == "ack" and frame.get("ref", "").startswith("msg-"):
                self.acked.add(frame["ref"][4:])
        self.client.frames.clear()
        self.client._taken.clear()

    def _take(self, event: dict) -> None:
        if event["seq"] <= self.last_seq:
            return
        self.last_seq = event["seq"]
        if event["body"]["type"] == "message_posted":
            self.seen.append((event["seq"], event["body"]["text"]))

    async def resume(self, url: str) -> None:
        self.client = await self.person.connect(url)
        self.client.keep_reading()
        await self.client.send({"type": "resume", "streams": {STREAM: self.last_seq}})
        await self.client.wait_for(lambda f: f["type"] == "ready")
        self.absorb()


async def test_two_processes_one_order_and_kill_9_loses_nothing(cluster):
    start, redis, prefix = cluster
    a = start()
    await a.ready()
    b = start()
    await b.ready()

    senders_a = [Member(f"a-sender-{i}") for i in range(3)]
    lurkers_a = [Member(f"a-lurker-{i}") for i in range(2)]
    members_b = [Member(f"b-member-{i}") for i in range(3)]
    for m in senders_a + lurkers_a:
        await m.start(a.ws_url)
    owner = None
    for _ in range(100):  # a's janitor takes the room's lease first
        if owner := await redis.get(f"{prefix}:lease:{STREAM}"):
            break
        await asyncio.sleep(0.05)
    assert owner is not None and f"-{a.proc.pid}-" in owner.decode()
    for m in members_b:
        await m.start(b.ws_url)

    sent: dict[str, Member] = {}

    async def send_some(member: Member, count: int, prefix: str) -> None:
        assert member.client is not None
        for i in range(count):
            text = f"{prefix}-{member.name}-{i}"
            sent[text] = member
            try:
                await member.client.send({"type": "post", "ref": f"msg-{text}", "room": ROOM,
                                          "text": text})
            except Exception:  # the process died under us; resent after resume
                return
            await asyncio.sleep(0.002)

    # Phase 1: both processes take writes; everyone must see one order.
    await asyncio.gather(*(send_some(m, 15, "p1") for m in senders_a + members_b))
    everyone = senders_a + members_b + lurkers_a
    deadline = time.monotonic() + 20
    while True:  # until every client has every post (or the deadline says which did not)
        for m in everyone:
            m.absorb()
        if all(len(m.seen) >= 15 * 6 for m in everyone):
            break
        assert time.monotonic() < deadline, [len(m.seen) for m in everyone]
        await asyncio.sleep(0.05)
    orders = {tuple(m.seen) for m in senders_a + members_b + lurkers_a}
    assert len(orders) == 1, "clients on different processes saw different orders"
    assert len(next(iter(orders))) == 15 * 6

    # Phase 2: a's senders keep sending while a is killed with SIGKILL.
    sending = [asyncio.create_task(send_some(m, 200, "p2")) for m in senders_a + members_b]
    await asyncio.sleep(0.15)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    killed_at = time.monotonic()
    await asyncio.gather(*sending)
    resent = 0
    for m in senders_a:
        m.absorb()
        await m.resume(b.ws_url)
        unacked = [t for t, who in sent.items() if who is m and t not in m.acked]
        resent += len(unacked)
        for text in unacked:  # same ref: applied once however many times it arrives
            assert m.client is not None
            await m.client.send({"type": "post", "ref": f"msg-{text}", "room": ROOM,
                                 "text": text})

    # The lurkers never come back: each leaves once, announced by b (the new lease holder).
    lurker_ids = {m.id for m in lurkers_a}
    watcher = members_b[0]
    assert watcher.client is not None
    for _ in lurker_ids:
        await watcher.client.wait_for(
            lambda f: f["type"] == "event" and f["body"]["type"] == "member_left", timeout=15)
    left_after = time.monotonic() - killed_at
    await asyncio.sleep(2.0)
    for m in senders_a + members_b:
        m.absorb()

    survivors = senders_a + members_b
    view = survivors[0].seen
    for m in survivors:
        assert m.seen == view, f"{m.name} saw a different order"
    counts = Counter(text for _, text in view)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    acked = {t for m in survivors for t in m.acked}
    lost = len(acked - set(counts))
    resent_lost = len({t for t in sent if sent[t] in senders_a} - set(counts))
    print(f"\nsent={len(sent)} resent_after_kill={resent} acked={len(acked)} "
          f"seen={len(view)} lost={lost} "
          f"duplicates={duplicates} lurkers_left_after={left_after:.1f}s")
    assert lost == 0 and duplicates == 0 and resent_lost == 0
    assert resent > 0, "the kill landed after everything was acknowledged: nothing tested"
    seqs = [seq for seq, _ in view]
    assert seqs == sorted(seqs)

    # Exactly one leave per lurker, none for the members who resumed.
    left = [e for e in (await _room_events(b)) if e["body"]["type"] == "member_left"]
    leaves = Counter(e["body"]["member"] for e in left)
    assert {m: n for m, n in leaves.items() if m in lurker_ids} == {i: 1 for i in lurker_ids}
    assert not ({m.id for m in senders_a + members_b} & set(leaves))
    owner = await redis.get(f"{prefix}:lease:{STREAM}")
    assert owner is not None and f"-{b.proc.pid}-" in owner.decode()
    for m in survivors:
        assert m.client is not None
        await m.client.close()


async def _room_events(process: Process) -> list[dict]:
    """Every event of the room, read through a fresh resume from seq 0."""
    reader = Member("reader")
    await reader.start(process.ws_url)
    assert reader.client is not None
    await reader.client.close()
    replay = await reader.person.connect(process.ws_url)
    await replay.send({"type": "resume", "streams": {STREAM: 0}})
    ready = await replay.wait_for(lambda f: f["type"] == "ready")
    await replay.close()
    sync = next(s for s in ready["syncs"] if s["stream"] == STREAM)
    return sync.get("events", [])
