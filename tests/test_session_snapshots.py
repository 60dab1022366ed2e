"""A live session's fold is kept as a snapshot every so many events: a process that
starts folds that snapshot and the events after it, and gets the same state as a
fold of the whole stream."""

from __future__ import annotations

import pytest

from server.domain.session import SessionState, apply, normal_form
from tests.conftest import make_settings, running_server
from tests.pg import postgres_schema
from tests.session_setup import attend, circle, op, open_session

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'practica.db'}"
        return
    async with postgres_schema() as url:
        yield url


async def test_a_restart_folds_the_kept_snapshot_and_the_tail(tmp_path, database):
    settings = make_settings(tmp_path, session_snapshot_every=5, database_url=database)
    async with running_server(settings) as first:
        c = await circle(first, members=1)
        (_, ann_ws), = c.members
        session = await open_session(c)
        await attend(ann_ws, session)
        await op(c.host_ws, session, "start")
        for i in range(6):
            assert (await op(ann_ws, session, "ask", text=f"Question {i}?"))["type"] == "ack"
        await op(c.host_ws, session, "pin", question=2)
        await op(c.host_ws, session, "answer", question=1)
        before = normal_form(first.practica.folds.session(session))
        rows = await first.practica.store.fetch(
            "SELECT seq FROM stream_snapshots WHERE stream = ?", (f"session:{session}",))
        assert rows and 10 <= rows[0][0] < before["seq"]
        for socket in (c.host_ws, ann_ws):
            await socket.close()
    async with running_server(settings) as again:
        folds = again.practica.folds
        assert folds.from_snapshots[f"session:{session}"] == rows[0][0]
        assert normal_form(folds.session(session)) == before
        whole = SessionState(session)
        for event in await again.practica.store.read(f"session:{session}"):
            apply(whole, event)
        assert normal_form(whole) == before


async def test_an_unreadable_snapshot_is_passed_over(tmp_path):
    settings = make_settings(tmp_path, session_snapshot_every=2)
    async with running_server(settings) as first:
        c = await circle(first, members=0)
        session = await open_session(c)
        await attend(c.host_ws, session)
        await op(c.host_ws, session, "start")
        before = normal_form(first.practica.folds.session(session))
        await first.practica.store.execute([(
            "UPDATE stream_snapshots SET body = ? WHERE stream = ?",
            (b'{"not": "a snapshot"}', f"session:{session}"))])
        await c.host_ws.close()
    async with running_server(settings) as again:
        assert f"session:{session}" not in again.practica.folds.from_snapshots
        assert normal_form(again.practica.folds.session(session)) == before


async def test_no_snapshot_is_kept_from_a_fold_older_than_an_erasure(tmp_path, database):
    """A process that has not heard of an erasure yet may hold the words in its fold:
    the snapshot it writes is dropped in the same transaction (no snapshot older than a
    ``words_erased`` stays), and the erasure drops any kept before it."""
    settings = make_settings(tmp_path, session_snapshot_every=1000, database_url=database)
    async with running_server(settings) as server:
        c = await circle(server, members=1)
        (ann, ann_ws), = c.members
        session = await open_session(c)
        await attend(ann_ws, session)
        await op(c.host_ws, session, "start")
        said = await op(ann_ws, session, "ask", text="Pangolins?")
        sessions, folds = server.practica.sessions, server.practica.folds
        stream, rows = f"session:{session}", "SELECT seq FROM stream_snapshots WHERE stream = ?"
        await sessions.keep_snapshot(session)
        stale = folds.sessions[session]  # the fold as it was before the erasure
        erased = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
        assert erased.status_code == 200, erased.text
        assert await server.practica.store.fetch(rows, (stream,)) == []  # the erasure's
        current = folds.sessions[session]
        assert current is stale and "Pangolins" not in repr(current)
        old = SessionState(session)  # a process that has not folded the erasure yet
        for event in (await server.practica.store.read(stream))[:-1]:
            apply(old, event)
        folds.sessions[session] = old
        try:
            await sessions.keep_snapshot(session)
        finally:
            folds.sessions[session] = current
        assert await server.practica.store.fetch(rows, (stream,)) == []
        await sessions.keep_snapshot(session)  # a fold that has the erasure is kept
        assert await server.practica.store.fetch(rows, (stream,)) == [(current.seq,)]
        for socket in (c.host_ws, ann_ws):
            await socket.close()
