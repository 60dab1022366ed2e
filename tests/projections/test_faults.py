"""A projection that fails does not fail posts (both backends): every acknowledged post is
in the store, the other rooms stay searchable, ``/healthz`` and ``/metrics`` say how far
behind search is, and search catches up once the fault is gone, also across a restart,
without duplicates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest

from server.domain.events import Event, MessagePosted, room_stream
from server.projections import Statement
from tests.conftest import make_settings, running_server
from tests.people import signed_in
from tests.projections.test_search import BACKENDS, ROOM, database, find, ids, post

pytestmark = pytest.mark.anyio
OTHER_ROOM = "case-review"
BAD_SQL = ("INSERT INTO no_such_table (x) VALUES (?)", (1,))


def poison(server: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Make the running search projection write a statement the database refuses for
    any message saying "poison", while ``fault["on"]``."""
    projection = server.practica.projections["search"].projection
    real = projection.statements
    fault = {"on": True}

    def statements(stream: str, events: Sequence[Event]) -> list[Statement]:
        out: list[Statement] = real(stream, events)
        if fault["on"] and any(isinstance(e.body, MessagePosted) and "poison" in e.body.text
                               for e in events):
            out.append(BAD_SQL)
        return out

    monkeypatch.setattr(projection, "statements", statements)
    return fault


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def health(server: Any) -> dict[str, Any]:
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.get("/healthz")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_failing_projection_fails_no_post_and_search_catches_up(
        server, monkeypatch, caplog):
    fault = poison(server, monkeypatch)
    clients = [await signed_in(server, f"Poster {n}") for n in range(4)]
    ann = clients[0]
    for client in clients:
        await client.command("join", room=ROOM)
    texts = [f"okapi note {i}" + (" poison" if i == 5 else "") for i in range(12)]

    async def send(client: Any, mine: list[str]) -> list[dict[str, Any]]:
        return [await client.command("post", room=ROOM, text=text) for text in mine]

    sent = await asyncio.gather(*(  # four at a time: they share group commits
        send(client, texts[n::4]) for n, client in enumerate(clients)))
    acks = [ack for acked in sent for ack in acked]
    assert [a["type"] for a in acks] == ["ack"] * len(texts), acks
    stored = await server.practica.store.read(room_stream(ROOM), limit=10_000)
    posted = {e.seq: e.body.text for e in stored if isinstance(e.body, MessagePosted)}
    assert {posted[a["seq"]] for a in acks} == set(texts)  # every acked post is there

    async def reported() -> bool:
        body = await health(server)
        return bool(body["projections"]["search"]["failing_streams"])

    await until(reported, "/healthz says search is failing")
    body = await health(server)
    assert body["status"] == "degraded" and body["store"] == "up"
    assert body["projections"]["search"]["lag"] > 0
    metrics = server.practica.metrics.registry
    assert metrics.get_sample_value("practica_projection_failing_streams",
                                    {"projection": "search"}) == 1
    assert "could not apply room:journal-club" in caplog.text
    # Another room is searchable meanwhile, right after posting (read your writes).
    await ann.command("join", room=OTHER_ROOM)
    elsewhere = await post(ann, "tapir sighting", room=OTHER_ROOM)
    assert ids(await find(ann.person, "tapir")) == [elsewhere]

    fault["on"] = False

    async def caught_up() -> bool:
        return len(await find(ann.person, "okapi", limit=50)) == len(texts)

    await until(caught_up, "search catches up once the fault is gone")
    assert sorted(ids(await find(ann.person, "okapi", limit=50))) == sorted(
        a["seq"] for a in acks)
    body = await health(server)
    assert body["status"] == "ok"
    assert body["projections"]["search"] == {"lag": 0, "failing_streams": 0}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_restart_resumes_from_the_cursor_without_duplicates(
        backend, tmp_path: Path, monkeypatch):
    async with database(backend, tmp_path) as db:
        settings = make_settings(tmp_path, **db)
        async with running_server(settings) as server:
            ann = await signed_in(server, "Ann Restart")
            await ann.command("join", room=ROOM)
            before = await post(ann, "quokka before")
            assert ids(await find(ann.person, "quokka")) == [before]
            poison(server, monkeypatch)
            stuck = [await post(ann, text) for text in ("quokka poison", "quokka after")]
            projector = server.practica.projections["search"]

            async def failing() -> bool:
                return projector.failing == 1

            await until(failing, "the poisoned stream is held back")
            assert projector.cursors[room_stream(ROOM)] == before
        monkeypatch.undo()  # the next process has no fault

        async with running_server(make_settings(tmp_path, **db)) as server:
            ann.person.base_url = server.url

            async def resumed() -> bool:
                return len(await find(ann.person, "quokka")) == 3

            await until(resumed, "the restart applies what was held back")
            assert sorted(ids(await find(ann.person, "quokka"))) == [before, *stuck]
            rows = await server.practica.store.fetch(
                "SELECT seq, count(*) FROM search_messages WHERE stream = ? GROUP BY seq",
                (room_stream(ROOM),))
            assert all(count == 1 for _, count in rows)
            projector = server.practica.projections["search"]
            assert projector.cursors[room_stream(ROOM)] == await server.practica.store.head(
                room_stream(ROOM))


@pytest.mark.parametrize("backend", ["postgres+redis"])
async def test_a_post_through_one_process_is_found_through_another(backend, tmp_path: Path):
    """Search lags across processes by an announcement: wait for the hit with a deadline."""
    async with database(backend, tmp_path) as db:
        async with running_server(make_settings(tmp_path / "a", **db)) as one, \
                running_server(make_settings(tmp_path / "b", **db)) as two:
            ann = await signed_in(one, "Ann One")
            await ann.command("join", room=ROOM)
            seq = await post(ann, "narwhal tusks through process one")
            ann.person.base_url = two.url

            async def found() -> bool:
                return ids(await find(ann.person, "narwhal")) == [seq]

            await until(found, "the other process's search finds it")
            projector = two.practica.projections["search"]

            async def heard() -> bool:
                return projector.cursors.get(room_stream(ROOM), 0) >= seq

            await until(heard, "the other process's projector follows the announcement")
