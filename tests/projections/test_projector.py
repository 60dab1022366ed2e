"""The projector on a real store, both backends: it fills gaps it did not hear of, retries
what failed without moving its cursor, and rebuilds to the same rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from server.domain.events import Event, MessageEdited, MessagePosted, room_stream
from server.projections import Projections, Projector, Statement
from server.projections.search import SearchProjection
from server.store import EventStore, open_store
from tests.pg import postgres_schema

pytestmark = pytest.mark.anyio
STREAM = room_stream("r")


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        await opened.open()
        yield opened
        await opened.close()
        return
    async with postgres_schema() as url:
        opened = open_store(url)
        await opened.open()
        yield opened
        await opened.close()


def post(text: str) -> MessagePosted:
    return MessagePosted(author="m", author_name="Ann", text=text)


async def rows(store: EventStore) -> list[tuple[object, ...]]:
    return await store.fetch("SELECT stream, seq, version, deleted, text FROM search_messages"
                             " ORDER BY stream, seq")


async def test_a_commit_not_heard_of_is_read_from_the_stream(store):
    projector = Projector(store, SearchProjection())
    await projector.start()
    await projector.settle()  # caught up (with nothing) before the commits below
    try:
        first = await store.append(STREAM, "m", [post("one"), post("two")])
        third = await store.append(STREAM, "m", [post("three")])
        projector.listen(third.events)  # the first commit was made elsewhere: a gap
        await projector.settle()
        assert [r[4] for r in await rows(store)] == ["one", "two", "three"]
        assert projector.cursors[STREAM] == third.seq
        projector.listen(first.events)  # heard late: already applied, changes nothing
        await projector.settle()
        assert len(await rows(store)) == 3
    finally:
        await projector.stop()


class Flaky(SearchProjection):
    """Fails its first apply, as a store that is briefly down would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the store went away")
        return super().statements(stream, events)


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_failed_apply_moves_no_cursor_and_is_retried(store, caplog):
    projections = Projections(store, [Flaky()])
    projector = projections["search"]
    await projections.start()
    await projector.settle()
    try:
        done = await store.append(STREAM, "m", [post("kept")])
        await projector.settle()  # does not wait for a failing stream
        assert projector.cursors.get(STREAM, 0) == 0 and projector.failing == 1
        assert projector.lag == 1

        async def kept() -> bool:
            return [r[4] for r in await rows(store)] == ["kept"]

        await until(kept, "retried after its backoff")
        assert projector.cursors[STREAM] == done.seq
        assert (projector.failing, projector.lag) == (0, 0)
        assert "could not apply" in caplog.text
    finally:
        await projections.stop()


class Poisoned(SearchProjection):
    """Writes a statement the database refuses for any message saying "poison", while
    ``broken``: a projection's bug, which must not fail anyone's append."""

    broken = True

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        statements = super().statements(stream, events)
        if self.broken and any(isinstance(e.body, MessagePosted) and "poison" in e.body.text
                               for e in events):
            statements.append(("INSERT INTO no_such_table (x) VALUES (?)", (1,)))
        return statements


async def test_a_failing_projection_fails_no_append_and_catches_up_when_fixed(store):
    poisoned = Poisoned()
    projections = Projections(store, [poisoned])
    projector = projections["search"]
    await projections.start()
    await projector.settle()
    other = room_stream("s")
    try:
        texts = [f"message {i}" + (" poison" if i % 14 == 3 else "") for i in range(40)]
        acked = await asyncio.gather(*(  # appended together: group commits with the poison
            store.append(STREAM if i % 2 else other, "m", [post(text)])
            for i, text in enumerate(texts)))
        assert all(not a.duplicate for a in acked)
        stored = await store.read(STREAM) + await store.read(other)
        assert sorted(e.body.text for e in stored) == sorted(texts)  # type: ignore[union-attr]
        poisoned_stream = {a.stream for a, t in zip(acked, texts, strict=True) if "poison" in t}
        assert poisoned_stream == {STREAM}  # i = 3, 17, 31: odd, so only room r

        async def other_caught_up() -> bool:
            return projector.cursors.get(other, 0) == await store.head(other)

        async def held_back() -> bool:
            return projector.failing == 1

        await until(held_back, "the poisoned stream fails")
        await until(other_caught_up, "a healthy stream goes on while another fails")
        assert projector.failing == 1 and projector.lag > 0
        assert projector.cursors.get(STREAM, 0) < await store.head(STREAM)

        poisoned.broken = False

        async def all_indexed() -> bool:
            return len(await rows(store)) == len(texts)

        await until(all_indexed, "caught up once the fault is gone", within=15)
        assert (projector.failing, projector.lag) == (0, 0)
        assert sorted(r[4] for r in await rows(store)) == sorted(texts)
    finally:
        await projections.stop()


async def test_a_restart_resumes_from_the_cursor_without_duplicates(store):
    projections = Projections(store, [SearchProjection()])
    await projections.start()
    first = await store.append(STREAM, "m", [post("before one"), post("before two")])
    await projections["search"].settle()
    assert projections["search"].cursors[STREAM] == first.seq
    await projections.stop()
    # Committed while no projector ran (a stop, a crash): the next start applies them.
    later = await store.append(STREAM, "m", [post("while down")])
    await store.append(room_stream("s"), "m", [post("elsewhere")])
    again = Projections(store, [SearchProjection()])
    await again.start()
    try:
        await again["search"].settle()
        texts = [r[4] for r in await rows(store)]
        assert sorted(texts) == sorted(["before one", "before two", "while down", "elsewhere"])
        assert again["search"].cursors[STREAM] == later.seq
        cursors = await store.fetch("SELECT stream, seq FROM projection_cursors"
                                    " WHERE projection = 'search' ORDER BY stream")
        assert [tuple(c) for c in cursors] == [(STREAM, later.seq), (room_stream("s"), 1)]
    finally:
        await again.stop()


async def test_a_commit_no_one_told_of_is_found_by_the_poll(store):
    projector = Projector(store, SearchProjection(), poll_s=0.05)  # no commit listener
    await projector.start()
    try:
        await store.append(STREAM, "m", [post("made by another process")])

        async def found() -> bool:
            return [r[4] for r in await rows(store)] == ["made by another process"]

        await until(found, "the poll finds what no announcement told of")
    finally:
        await projector.stop()


async def test_rebuild_gives_the_rows_the_live_projection_kept(store):
    projections = Projections(store, [SearchProjection()])
    await projections.start()
    await projections["search"].settle()
    try:
        posted = await store.append(STREAM, "m", [post("alpha"), post("beta")])
        await store.append(STREAM, "m", [MessageEdited(message=posted.seq, text="gamma")])
        await store.append(room_stream("s"), "m", [post("delta")])
        await projections["search"].settle()
        live = await rows(store)
        assert [r[4] for r in live] == ["alpha", "gamma", "delta"]
        assert await projections["search"].rebuild() == 4
        assert await rows(store) == live
    finally:
        await projections.stop()


async def test_a_body_erased_while_running_leaves_the_index(store):
    projections = Projections(store, [SearchProjection()], reconcile_s=0.05)
    await projections.start()
    try:
        posted = await store.append(STREAM, "m", [post("private words"), post("edited")])
        edit = await store.append(STREAM, "m", [MessageEdited(message=posted.seq, text="x y")])
        await projections["search"].settle()
        await store.execute([
            ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", (STREAM, 1)),
            ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", (STREAM, edit.seq)),
        ])
        deadline = asyncio.get_running_loop().time() + 10
        wanted = [(1, 1, ""), (2, 0, "edited")]  # (seq, deleted, text)
        while [(r[1], r[3], r[4]) for r in await rows(store)] != wanted:
            assert asyncio.get_running_loop().time() < deadline, await rows(store)
            await asyncio.sleep(0.02)
    finally:
        await projections.stop()
