"""Checks of ``append_all`` shared by both backends' store tests."""

from __future__ import annotations

import asyncio
import random

from server.domain.events import MessagePosted
from server.errors import StaleState
from server.store import CommandKey
from server.store.base import EventStore


def post(text: str) -> MessagePosted:
    return MessagePosted(author="m", author_name="M", text=text)


async def all_or_nothing(store: EventStore) -> None:
    await store.append("room:a", "m", [post("a1")])
    results = await store.append_all(
        [("room:a", [post("a2")], 1), ("audit:c", [post("x1"), post("x2")], 0)], "m")
    assert [(r.stream, r.seq) for r in results] == [("room:a", 2), ("audit:c", 2)]
    heard: list[str] = []
    store.on_commit(lambda events: heard.extend(e.stream for e in events))
    try:
        await store.append_all([("room:a", [post("late")], 2), ("audit:c", [post("no")], 1)],
                               "m")
    except StaleState as exc:
        assert (exc.stream, exc.expected, exc.head) == ("audit:c", 1, 2)
    else:
        raise AssertionError("a stale part must refuse the whole append")
    assert await store.head("room:a") == 2 and await store.head("audit:c") == 2
    assert heard == []
    # The same stream twice: the second part is decided on the first part's result.
    both = await store.append_all([("room:b", [post("b1")], 0), ("room:b", [post("b2")], 1)],
                                  "m")
    assert [r.seq for r in both] == [1, 2]
    assert (await store.verify()).ok


async def once_per_key(store: EventStore) -> None:
    key = CommandKey("m", "k1")
    first, again = await asyncio.gather(
        store.append_all([("room:a", [post("a")], None), ("audit:c", [post("x")], None)],
                         "m", key, "d1"),
        store.append_all([("room:a", [post("a")], None), ("audit:c", [post("x")], None)],
                         "m", key, "d1"))
    assert len(first) == 2 and not first[0].duplicate
    assert len(again) == 1 and again[0].duplicate and not again[0].conflict
    assert (again[0].stream, again[0].seq) == ("room:a", 1)
    other = await store.append_all([("room:a", [post("b")], None)], "m", key, "d2")
    assert other[0].conflict and await store.head("room:a") == 1
    assert await store.head("audit:c") == 1


async def randomized_race(stores: list[EventStore], tasks: int = 24, rounds: int = 6,
                          seed: int = 11) -> None:
    """Tasks append to a few streams, each naming the heads it read; every committed
    append must have been decided on the heads it named, and seqs have no gaps."""
    rng = random.Random(seed)
    streams = ["room:0", "room:1", "room:2"]
    committed: list[tuple[tuple[tuple[str, int], ...], str]] = []

    async def worker(n: int) -> None:
        store = stores[n % len(stores)]
        for r in range(rounds):
            chosen = rng.sample(streams, rng.randint(1, 2))
            named = tuple([(s, await store.head(s)) for s in chosen])
            tag = f"{n}.{r}"
            try:
                await store.append_all([(s, [post(tag)], seq) for s, seq in named], "m")
            except StaleState:
                continue
            committed.append((named, tag))
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(n) for n in range(tasks)))
    assert committed
    events = {s: await stores[0].read(s, limit=10_000) for s in streams}
    for s in streams:
        assert [e.seq for e in events[s]] == list(range(1, len(events[s]) + 1))
    where = {(s, e.body.text): e.seq for s in streams for e in events[s]}  # type: ignore[union-attr]
    assert len(where) == sum(len(v) for v in events.values())
    for named, tag in committed:
        for stream, seq in named:
            assert where[(stream, tag)] == seq + 1, (stream, tag, seq)
    assert sum(len(v) for v in events.values()) == sum(len(n) for n, _ in committed)
    assert (await stores[0].verify()).ok


async def apart_from_appends(store: EventStore) -> None:
    """``transact`` (projections' writes) commits apart from appends: one that fails
    fails alone, with the appends queued beside it all made durable, the store not
    marked failing; the rows of one that succeeds are there, with its row counts."""
    from server.errors import StoreError

    heard: list[int] = []
    store.on_commit(lambda events: heard.extend(e.seq for e in events))
    bad = [("INSERT INTO projection_cursors (projection, stream, seq) VALUES (?, ?, ?)",
            ("t", "room:x", 1)), ("INSERT INTO no_such_table (x) VALUES (?)", (1,))]
    appends = [store.append(f"room:{i % 3}", "m", [post(f"p{i}")]) for i in range(30)]
    results = await asyncio.gather(store.transact(bad), *appends, return_exceptions=True)
    assert isinstance(results[0], StoreError), results[0]
    assert all(not isinstance(r, BaseException) for r in results[1:]), results
    stored = [len(await store.read(f"room:{i}")) for i in range(3)]
    assert sum(stored) == 30 == len(heard)
    assert not getattr(store, "failing", False)
    assert await store.fetch("SELECT 1 FROM projection_cursors WHERE projection = 't'") == []
    assert await store.transact([bad[0], (
        "UPDATE projection_cursors SET seq = ? WHERE projection = ?", (2, "t"))]) == [1, 1]
    assert await store.fetch("SELECT seq FROM projection_cursors WHERE projection = 't'") == [
        (2,)]
    assert await store.heads("room:") == {"room:0": 10, "room:1": 10, "room:2": 10}


async def with_also(store: EventStore) -> None:
    """``also`` statements commit with the append's events, and only when they are
    written: a stale append or a repeated command runs none of them."""
    await store.append("room:a", "m", [post("a1"), post("a2")])
    null = ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", ("room:a", 1))
    with_marker = await store.append("room:a", None, [post("marker")], expected=2,
                                     also=[null], command=CommandKey("m", "erase"))
    events = await store.read("room:a")
    assert [e.body is None for e in events] == [True, False, False]
    assert (with_marker.seq, events[2].actor) == (3, None)
    again = [("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", ("room:a", 2))]
    try:
        await store.append("room:a", None, [post("late")], expected=2, also=again)
    except StaleState:
        pass
    else:
        raise AssertionError("a stale append must refuse")
    repeated = await store.append("room:a", None, [post("marker")], also=again,
                                  command=CommandKey("m", "erase"))
    assert repeated.duplicate
    assert [e.body is None for e in await store.read("room:a")] == [True, False, False]
    assert (await store.verify()).ok
