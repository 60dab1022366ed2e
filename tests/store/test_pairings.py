"""The pair-up tables on both stores: blocks (limit, idempotence, privacy of one's list),
and meetings and practice as the pairings projection writes them (paging, filters)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.domain.session_events import (
    AttendeeArrived,
    SegmentChanged,
    SessionOpened,
    SessionStarted,
    StageChanged,
    community_hour,
)
from server.domain.session_pair_events import PairGroup, PairsChanged, PairsMade
from server.projections import Projector
from server.projections.pairings import PairingsProjection
from server.store import EventStore, open_store
from server.store.pairings import PairTables

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite", "postgres"])]


@pytest.fixture
async def store(backend: str, tmp_path: Path) -> AsyncIterator[EventStore]:
    if backend == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        await opened.open()
        try:
            yield opened
        finally:
            await opened.close()
        return
    from tests.pg import postgres_schema

    async with postgres_schema() as url:
        opened = open_store(url)
        await opened.open()
        try:
            yield opened
        finally:
            await opened.close()


async def test_a_block_list_is_one_members_own_bounded_and_idempotent(store):
    tables = PairTables(store)
    assert await tables.add_block("c", "ann", "bob", 1, limit=2) is True
    assert await tables.add_block("c", "ann", "bob", 5, limit=2) is False  # there already
    assert await tables.add_block("c", "ann", "cy", 2, limit=2) is True
    assert await tables.add_block("c", "ann", "dee", 3, limit=2) is None  # full
    assert await tables.add_block("c", "bob", "dee", 4, limit=2) is True  # bob's own list
    assert await tables.add_block("other", "ann", "dee", 4, limit=2) is True  # other place
    assert [(b.other, b.created) for b in await tables.blocks_of("c", "ann")] == [
        ("bob", 1), ("cy", 2)]
    assert sorted(await tables.blocks_among("c", ["ann", "bob", "dee"])) == [
        ("ann", "bob"), ("bob", "dee")]
    assert await tables.blocks_among("c", ["cy", "dee"]) == []
    assert await tables.remove_block("c", "ann", "bob") is True
    assert await tables.remove_block("c", "ann", "bob") is False
    assert [b.other for b in await tables.blocks_of("c", "ann")] == ["cy"]
    assert await tables.add_block("c", "ann", "dee", 6, limit=2) is True  # room again


def opened(session: str, community: str = "guild") -> SessionOpened:
    return SessionOpened(session=session, room="hall", title=f"Hour {session}",
                         agenda=community_hour(), community=community)


def made(round_: int, *groups: list[str]) -> PairsMade:
    return PairsMade(round=round_, seed="s", groups=[
        PairGroup(group=i + 1, members=g) for i, g in enumerate(groups)])


async def project(store: EventStore) -> int:
    return await Projector(store, PairingsProjection()).catch_up()


async def test_meetings_and_practice_page_and_filter(store):
    tables = PairTables(store)
    await store.append("session:one", "ann", [
        opened("one"), AttendeeArrived(member="ann", name="Ann"),
        AttendeeArrived(member="bob", name="Bob"), AttendeeArrived(member="cy", name="Cy"),
        AttendeeArrived(member="g-x", name="Guest X", guest=True),
        StageChanged(member="ann", name="Ann", on=True),
        StageChanged(member="ann", name="Ann", on=False),
        StageChanged(member="ann", name="Ann", on=True),  # twice in one session: once
        made(1, ["ann", "bob", "cy"]), made(2, ["bob", "ann"], ["g-x", "cy"])])
    await store.append("session:two", "ann", [
        opened("two"), AttendeeArrived(member="ann", name="Ann"),
        AttendeeArrived(member="bob", name="Bob"), made(1, ["ann", "bob"])])
    await store.append("session:far", "x", [
        opened("far", community="elsewhere"), AttendeeArrived(member="ann", name="Ann"),
        made(1, ["ann", "zed"])])
    await project(store)

    everything = await tables.meetings_since("guild", 0)
    assert sorted((m.session, m.round, m.a, m.b) for m in everything) == [
        ("one", 1, "ann", "bob"), ("one", 1, "ann", "cy"), ("one", 1, "bob", "cy"),
        ("one", 2, "ann", "bob"), ("one", 2, "cy", "g-x"), ("two", 1, "ann", "bob")]
    practice = await tables.practice("guild")
    assert {m: (p.sessions_attended, p.times_presented) for m, p in practice.items()} == {
        "ann": (2, 1), "bob": (2, 0), "cy": (1, 0), "g-x": (1, 0)}
    assert practice["ann"].first_seen_ms == min(m.ts for m in everything)
    assert (await tables.practice("elsewhere"))["ann"].sessions_attended == 1

    pages, before = [], None
    while True:  # pages of two, newest first, nothing twice, nothing left out
        page = await tables.meetings_page("guild", before=before, limit=2)
        if not page:
            break
        pages.append(page)
        last = page[-1]
        before = (last.ts, last.session, last.round, last.a, last.b)
    rows = [m for page in pages for m in page]
    assert len(rows) == 6 and sorted(rows) == sorted(everything)
    assert [m.ts for m in rows] == sorted((m.ts for m in rows), reverse=True)
    assert rows[0].session == "two"
    cys = await tables.meetings_page("guild", member="cy", limit=10)
    assert sorted((m.a, m.b) for m in cys) == [("ann", "cy"), ("bob", "cy"), ("cy", "g-x")]
    assert next((m.session, m.round) for m in await tables.met_by("guild", "bob")) == ("two", 1)
    assert await tables.attendee_names("guild", ["g-x", "nobody"]) == {"g-x": "Guest X"}
    assert await tables.session_titles(["one", "nope"]) == {"one": ("hall", "Hour one")}


async def test_a_late_arrival_meets_their_group_once_per_round(store):
    tables = PairTables(store)
    await store.append("session:s", "h", [opened("s"), made(1, ["a", "b"], ["c", "d"])])
    await project(store)
    await store.append("session:s", "h", [
        PairsChanged(round=1, why="late", member="e", groups=[
            PairGroup(group=1, members=["a", "b", "e"]), PairGroup(group=2, members=["c", "d"])]),
        PairsChanged(round=1, why="left", member="e", groups=[
            PairGroup(group=1, members=["a", "b"]), PairGroup(group=2, members=["c", "d"])])])
    assert await project(store) == 2  # resumes after the cursor
    assert sorted((m.a, m.b) for m in await tables.meetings_since("guild", 0)) == [
        ("a", "b"), ("a", "e"), ("b", "e"), ("c", "d")]


async def test_an_old_streams_segment_pairs_are_rounds_in_stream_order(store):
    tables = PairTables(store)
    await store.append("session:old", "h", [
        opened("old"), SessionStarted(deadline_ms=1, pairs=[["a", "b"], ["c", "d", "e"]])])
    await project(store)
    await store.append("session:old", "h", [
        SegmentChanged(index=1, deadline_ms=2, how="advance"),
        SegmentChanged(index=2, deadline_ms=3, how="advance", pairs=[["a", "c"]]),
        made(3, ["a", "d"])])
    await project(store)
    await project(store)  # nothing new: nothing twice
    assert sorted((m.round, m.a, m.b) for m in await tables.meetings_since("guild", 0)) == [
        (1, "a", "b"), (1, "c", "d"), (1, "c", "e"), (1, "d", "e"), (2, "a", "c"),
        (3, "a", "d")]
    projector = Projector(store, PairingsProjection())
    await projector.rebuild()
    assert len(await tables.meetings_since("guild", 0)) == 6


async def test_an_erased_arrival_takes_its_name_along(store):
    tables = PairTables(store)
    done = await store.append("session:e", "h", [
        opened("e"), AttendeeArrived(member="g-1", name="Guest One", guest=True),
        AttendeeArrived(member="g-2", name="Guest Two", guest=True)])
    projection = PairingsProjection()
    await Projector(store, projection).catch_up()
    assert await projection.reconcile(store) == 0
    await store.execute([("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?",
                          ("session:e", done.seq - 1))])
    assert await projection.reconcile(store) == 1
    assert await tables.attendee_names("guild", ["g-1", "g-2"]) == {"g-2": "Guest Two"}
    assert (await tables.practice("guild"))["g-1"].sessions_attended == 1  # still counted
    assert await projection.reconcile(store) == 0  # nothing erased since
