"""The projector on a real store, both backends: it fills gaps it did not hear of, retries
what failed without moving its cursor, and rebuilds to the same rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
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


async def test_a_failed_apply_moves_no_cursor_and_is_retried(store, caplog):
    projections = Projections(store, [Flaky()])
    await projections.start()
    await projections["search"].settle()
    try:
        done = await store.append(STREAM, "m", [post("kept")])
        await projections["search"].settle()
        assert [r[4] for r in await rows(store)] == ["kept"]
        assert projections["search"].cursors[STREAM] == done.seq
        assert "could not apply" in caplog.text
    finally:
        await projections.stop()


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
