"""The PostgreSQL store, including two instances (two processes) on one schema."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from server.domain.events import MessageEdited, MessagePosted
from server.errors import StaleState, StoreError
from server.store import CommandKey, open_store
from server.store.postgres import PostgresStore, split_schema
from tests.pg import postgres_schema
from tests.store import multi

pytestmark = pytest.mark.anyio


def post(text: str) -> MessagePosted:
    return MessagePosted(author="m", author_name="M", text=text)


@pytest.fixture
async def url():
    async with postgres_schema() as database_url:
        yield database_url


async def opened(url: str, **kwargs) -> PostgresStore:
    dsn, schema = split_schema(url)
    store = PostgresStore(dsn, schema=schema, **kwargs)
    await store.open()
    return store


def test_url_selects_backend_and_schema():
    assert split_schema("postgresql://u@h/db?schema=abc&sslmode=disable") == (
        "postgresql://u@h/db?sslmode=disable", "abc")
    assert split_schema("postgresql://u@h/db")[1] == "public"
    with pytest.raises(ValueError):
        split_schema("postgresql://u@h/db?schema=x;drop")
    assert isinstance(open_store("postgresql://u@h/db?schema=abc"), PostgresStore)


async def test_two_processes_append_to_the_same_streams_without_gaps(url):
    first, second = await opened(url), await opened(url)
    try:
        results = await asyncio.gather(*(
            (first if i % 2 else second).append(f"room:{i % 3}", "m", [post(str(i)), post("b")])
            for i in range(300)))
        for stream in ("room:0", "room:1", "room:2"):
            seqs = sorted(e.seq for r in results if r.stream == stream for e in r.events)
            assert seqs == list(range(1, 201))
            assert await first.head(stream) == 200 == await second.head(stream)
        assert first.batches + second.batches < 300 / 2  # group commit in each process
        report = await first.verify()
        assert report.ok and report.events == 600, report
    finally:
        await first.close()
        await second.close()


async def test_a_command_resent_to_another_process_is_applied_once(url):
    first, second = await opened(url), await opened(url)
    try:
        key = CommandKey("m", "once")
        results = await asyncio.gather(*(
            store.append("room:a", "m", [post("x")], key)
            for store in (first, second, first, second)))
        assert sum(not r.duplicate for r in results) == 1
        assert {r.seq for r in results} == {1}
        assert await first.head("room:a") == 1
        assert await second.find_command(key) == ("room:a", 1)
    finally:
        await first.close()
        await second.close()


async def test_reads_listeners_and_reopen(url):
    store = await opened(url)
    heard = []
    store.on_commit(heard.extend)
    ids = [(await store.append("room:a", "m", [post(f"p{i}")])).seq for i in range(4)]
    await store.append("room:a", "m", [MessageEdited(message=ids[1], text="edited")])
    assert [e.seq for e in heard] == [1, 2, 3, 4, 5]
    assert [e.seq for e in await store.read("room:a", after=1, limit=2)] == [2, 3]
    assert [e.seq for e in await store.read_type_before("room:a", "message_posted", 4, 2)] == [
        3, 2]
    assert [e.body.text for e in await store.read_about("room:a", [ids[1]])] == ["edited"]
    await store.close()
    again = await opened(url)
    assert (await again.append("room:a", "m", [post("after")])).seq == 6
    assert (await again.verify()).ok
    await again.close()


async def test_events_are_immutable_but_erasable_and_tampering_is_detected(url):
    store = await opened(url)
    await store.append("room:a", "m", [post("secret"), post("honest"), post("c")])
    dsn, schema = split_schema(url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        for sql in ("UPDATE events SET body = '\\x00' WHERE seq = 1",
                    "UPDATE events SET ts = ts + 1 WHERE seq = 1",
                    "UPDATE events SET body = NULL, digest = '\\x00' WHERE seq = 1",
                    "DELETE FROM events WHERE seq = 2"):
            with pytest.raises(asyncpg.RaiseError, match=r"immutable|append-only"):
                await conn.execute(sql)
        await conn.execute("UPDATE events SET body = NULL WHERE seq = 1")  # erasure
        report = await store.verify()
        assert report.ok and report.streams[0].erased == 1
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_immutable")
        await conn.execute("UPDATE events SET body = convert_to(replace(convert_from(body, "
                           "'UTF8'), 'honest', 'forged'), 'UTF8') WHERE seq = 2")
        report = await store.verify()
        assert not report.ok and "digest" in (report.streams[0].problem or "")
    finally:
        await conn.close()
        await store.close()


async def test_a_failed_batch_fails_its_appends_and_the_store_recovers(url):
    store = await opened(url)
    heard = []
    store.on_commit(heard.extend)
    dsn, schema = split_schema(url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    await conn.execute("ALTER TABLE events ADD CONSTRAINT no_b CHECK (stream <> 'room:b')")
    with pytest.raises(StoreError):
        await store.append("room:b", "m", [post("refused")])
    assert heard == [] and await store.head("room:b") == 0
    await conn.execute("ALTER TABLE events DROP CONSTRAINT no_b")
    await conn.close()
    assert (await store.append("room:b", "m", [post("fine")])).seq == 1
    assert (await store.verify()).ok
    await store.close()


async def test_two_processes_expecting_the_same_head_append_once(url):
    first, second = await opened(url), await opened(url)
    try:
        await first.append("community:c", "m", [post("a")])
        results = await asyncio.gather(
            first.append("community:c", "m", [post("one")], expected=1),
            second.append("community:c", "m", [post("two")], expected=1),
            return_exceptions=True)
        stale = [r for r in results if isinstance(r, StaleState)]
        done = [r for r in results if not isinstance(r, BaseException)]
        assert len(stale) == 1 and len(done) == 1 and stale[0].head == 2, results
        assert len(await first.read("community:c")) == 2
        assert (await first.verify()).ok
    finally:
        await first.close()
        await second.close()


async def test_append_all_is_one_transaction_across_streams_all_or_nothing(url):
    store = await opened(url)
    try:
        await multi.all_or_nothing(store)
    finally:
        await store.close()


async def test_append_all_applies_a_command_key_once(url):
    store = await opened(url)
    try:
        await multi.once_per_key(store)
    finally:
        await store.close()


async def test_two_processes_append_all_only_on_the_heads_they_decided_on(url):
    first, second = await opened(url), await opened(url)
    try:
        await multi.randomized_race([first, second])
    finally:
        await first.close()
        await second.close()


async def test_transact_commits_apart_from_appends(url):
    store = await opened(url)
    try:
        await multi.apart_from_appends(store)
    finally:
        await store.close()


async def test_statements_commit_with_an_append_only_when_it_is_written(url):
    store = await opened(url)
    try:
        await multi.with_also(store)
    finally:
        await store.close()
