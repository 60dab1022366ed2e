"""The SQLite event store: seqs, group commit, idempotency, immutability, verification."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from server.cli import main as cli
from server.domain.events import MessageEdited, MessagePosted
from server.errors import StaleState, StoreError
from server.store import CommandKey
from server.store.sqlite import SqliteStore
from tests.store import multi

pytestmark = pytest.mark.anyio


def post(text: str) -> MessagePosted:
    return MessagePosted(author="m", author_name="M", text=text)


@pytest.fixture
async def store(tmp_path):
    s = SqliteStore(str(tmp_path / "events.db"))
    await s.open()
    yield s
    await s.close()


async def test_concurrent_appends_get_gapless_seqs_per_stream_in_few_commits(store):
    results = await asyncio.gather(*(
        store.append(f"room:{i % 3}", "m", [post(f"t{i}"), post(f"u{i}")]) for i in range(300)))
    for stream in ("room:0", "room:1", "room:2"):
        seqs = sorted(seq for r in results if r.stream == stream
                      for seq in (e.seq for e in r.events))
        assert seqs == list(range(1, 201))
        assert await store.head(stream) == 200
    assert store.batches < 300 / 4  # group commit: many appends per transaction
    assert (await store.verify()).ok


async def test_one_transaction_per_append_without_group_commit(tmp_path):
    s = SqliteStore(str(tmp_path / "x.db"), group_commit=False)
    await s.open()
    await asyncio.gather(*(s.append("room:a", "m", [post(str(i))]) for i in range(20)))
    assert s.batches == 20
    await s.close()


async def test_reads(store):
    ids = [(await store.append("room:a", "m", [post(f"p{i}")])).seq for i in range(5)]
    await store.append("room:a", "m", [MessageEdited(message=ids[1], text="edited")])
    assert [e.seq for e in await store.read("room:a", after=2, limit=2)] == [3, 4]
    newest = await store.read_type_before("room:a", "message_posted", None, 2)
    assert [e.seq for e in newest] == [5, 4]
    assert [e.seq for e in await store.read_type_before("room:a", "message_posted", 4, 10)] == [
        3, 2, 1]
    about = await store.read_about("room:a", [ids[1], ids[3]])
    assert [(e.seq, e.body.text) for e in about] == [(6, "edited")]
    assert await store.read("room:nothing") == [] and await store.head("room:nothing") == 0


async def test_reopen_continues_every_chain(tmp_path):
    path = str(tmp_path / "r.db")
    first = SqliteStore(path)
    await first.open()
    await first.append("room:a", "m", [post("one")], CommandKey("m", "ref-1"))
    await first.close()
    second = SqliteStore(path)
    await second.open()
    again = await second.append("room:a", "m", [post("one")], CommandKey("m", "ref-1"))
    assert again.duplicate and again.seq == 1 and again.events == []
    nxt = await second.append("room:a", "m", [post("two")])
    assert nxt.seq == 2 and (await second.verify()).ok
    await second.close()


async def test_same_command_key_in_one_batch_or_later_is_applied_once(store):
    key = CommandKey("m", "same")
    results = await asyncio.gather(*(store.append("room:a", "m", [post("x")], key)
                                     for _ in range(5)))
    assert sum(not r.duplicate for r in results) == 1
    assert {r.seq for r in results} == {1}
    later = await store.append("room:a", "m", [post("x")], key)
    assert later.duplicate and later.seq == 1
    assert await store.head("room:a") == 1
    other_member = await store.append("room:a", "n", [post("x")], CommandKey("n", "same"))
    assert not other_member.duplicate and other_member.seq == 2


async def test_listeners_hear_only_durable_events_in_order(store, tmp_path):
    heard: list[tuple[int, bool]] = []

    def listener(events):
        with sqlite3.connect(tmp_path / "events.db") as conn:  # another connection sees them
            for e in events:
                row = conn.execute("SELECT 1 FROM events WHERE stream=? AND seq=?",
                                   (e.stream, e.seq)).fetchone()
                heard.append((e.seq, row is not None))

    store.on_commit(listener)
    await asyncio.gather(*(store.append("room:a", "m", [post(str(i))]) for i in range(30)))
    assert heard == [(seq, True) for seq in range(1, 31)]


async def test_stored_events_are_immutable_but_a_body_can_be_erased(store, tmp_path):
    await store.append("room:a", "m", [post("secret"), post("public")])
    await store.close()
    conn = sqlite3.connect(tmp_path / "events.db")
    for sql in ("UPDATE events SET body = x'00' WHERE seq = 1",
                "UPDATE events SET ts = ts + 1 WHERE seq = 1",
                "UPDATE events SET actor = 'mallory' WHERE seq = 1",
                "UPDATE events SET body = NULL, digest = x'00' WHERE seq = 1",
                "DELETE FROM events WHERE seq = 2"):
        with pytest.raises(sqlite3.IntegrityError, match=r"immutable|append-only"):
            conn.execute(sql)
    conn.execute("UPDATE events SET body = NULL WHERE seq = 1")  # erasure for privacy
    conn.commit()
    conn.close()
    await store.open()
    report = await store.verify()
    assert report.ok and report.streams[0].erased == 1
    (tombstone, kept) = await store.read("room:a")
    assert tombstone.body is None and kept.body.text == "public"


@pytest.mark.parametrize("tamper", [
    "UPDATE events SET body = replace(body, 'honest', 'forged') WHERE seq = 2",
    "UPDATE events SET ts = ts + 1 WHERE seq = 2",
    "DELETE FROM events WHERE seq = 2",
])
async def test_tampering_is_detected_by_verify(store, tmp_path, tamper, capsys):
    await store.append("room:a", "m", [post("a"), post("honest"), post("c")])
    await store.append("room:b", "m", [post("fine")])
    await store.close()
    conn = sqlite3.connect(tmp_path / "events.db")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute(tamper)
    conn.commit()
    conn.close()
    await store.open()
    report = await store.verify()
    broken = {s.stream: s for s in report.streams}
    assert not report.ok and not broken["room:a"].ok and broken["room:b"].ok
    assert "seq" in (broken["room:a"].problem or "")
    await store.close()
    code = await asyncio.to_thread(cli, ["verify", f"sqlite:///{tmp_path / 'events.db'}"])
    out = capsys.readouterr().out
    assert code == 1 and "room:a" in out and "BROKEN" in out and "PROBLEMS FOUND" in out
    await store.open()


async def test_verify_command_reports_a_healthy_database(store, tmp_path, capsys):
    await store.append("room:a", "m", [post("a")])
    await store.close()
    code = await asyncio.to_thread(cli, ["verify", str(tmp_path / "events.db")])
    out = capsys.readouterr().out
    assert code == 0 and "integrity_check: ok" in out and "all hash chains verify" in out
    await store.open()


async def test_a_failed_write_fails_its_appends_tells_no_one_and_the_store_recovers(store):
    heard = []
    store.on_commit(heard.extend)
    await store.append("room:a", "m", [post("before")])
    heard.clear()
    conn = store._w
    await conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON events "
                       "WHEN NEW.stream = 'room:a' BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    with pytest.raises(StoreError, match="disk says no"):
        await store.append("room:a", "m", [post("lost")])
    assert heard == [] and await store.head("room:a") == 1
    await conn.execute("DROP TRIGGER refuse")
    after = await store.append("room:a", "m", [post("after")])
    assert after.seq == 2 and (await store.verify()).ok


async def test_closed_store_refuses_appends(tmp_path):
    s = SqliteStore(str(tmp_path / "c.db"))
    with pytest.raises(StoreError):
        await s.append("room:a", "m", [post("x")])
    with pytest.raises(ValueError):
        SqliteStore("x.db", synchronous="OFF")


async def test_an_append_expecting_an_old_head_writes_nothing_and_says_so(store):
    await store.append("room:r", "m", [post("a")])
    stale, fresh = await asyncio.gather(
        store.append("room:r", "m", [post("late")], expected=0),
        store.append("room:r", "m", [post("b")], expected=1), return_exceptions=True)
    assert isinstance(stale, StaleState) and (stale.expected, stale.head) == (0, 1)
    assert not isinstance(fresh, BaseException) and fresh.seq == 2
    # In one batch, the second of two appends expecting the same head is the stale one.
    first, second = await asyncio.gather(
        store.append("room:r", "m", [post("c")], expected=2),
        store.append("room:r", "m", [post("d")], expected=2), return_exceptions=True)
    assert not isinstance(first, BaseException) and first.seq == 3
    assert isinstance(second, StaleState) and second.head == 3
    assert [e.body.text for e in await store.read("room:r")] == ["a", "b", "c"]


async def test_a_reused_key_with_another_digest_is_a_conflict_in_a_batch_or_later(store):
    key = CommandKey("m", "reused")
    first, racing = await asyncio.gather(
        store.append("room:a", "m", [post("x")], key, "digest-x"),
        store.append("room:a", "m", [post("y")], key, "digest-y"))
    assert not first.conflict and racing.duplicate and racing.conflict
    later = await store.append("room:a", "m", [post("y")], key, "digest-y")
    assert later.conflict and later.events == []
    same = await store.append("room:a", "m", [post("x")], key, "digest-x")
    assert same.duplicate and not same.conflict and same.seq == 1
    assert await store.head("room:a") == 1
    assert await store.applied_command(key) == ("room:a", 1, "digest-x")


async def test_commands_recorded_before_digests_are_answered_as_before(store):
    key = CommandKey("m", "old")
    await store.append("room:a", "m", [post("x")], key)  # no digest: ''
    again = await store.append("room:a", "m", [post("x")], key, "digest-now")
    assert again.duplicate and not again.conflict


async def test_append_all_is_one_transaction_across_streams_all_or_nothing(store):
    await multi.all_or_nothing(store)


async def test_append_all_applies_a_command_key_once(store):
    await multi.once_per_key(store)


async def test_concurrent_append_all_commits_only_what_was_decided_on_the_head(store):
    await multi.randomized_race([store])


async def test_transact_commits_apart_from_appends(store):
    await multi.apart_from_appends(store)


async def test_statements_commit_with_an_append_only_when_it_is_written(store):
    await multi.with_also(store)
