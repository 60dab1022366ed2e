"""Search over a real server, on both stores: it follows posts, edits, deletions and
erasures, catches up after a stop, rebuilds to the same answers, and shows only rooms the
searcher may read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from server.cli import main
from server.domain.events import MessagePosted, room_stream
from server.store import open_store
from tests.conftest import make_settings, running_server
from tests.people import DEMO, Person, signed_in

BACKENDS = ["sqlite", "postgres+redis"]
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", BACKENDS)]
ROOM = "journal-club"


async def find(person: Person, q: str, community: str = DEMO, **params: Any) -> Any:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    reply = await person.call("GET", f"/api/communities/{community}/search?q={quote(q)}{extra}")
    assert reply.status_code == 200, reply.text
    return reply.json()["hits"]


def ids(hits: list[dict[str, Any]]) -> list[int]:
    return [hit["message"] for hit in hits]


@contextlib.asynccontextmanager
async def database(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """Settings for one database that several servers in a row share."""
    if backend == "sqlite":
        yield {}
        return
    from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix

    prefix = redis_prefix()
    try:
        async with postgres_schema() as url:
            yield {"database_url": url, "redis_url": REDIS_URL, "redis_prefix": prefix}
    finally:
        await drop_redis_prefix(prefix)


async def post(client: Any, text: str, room: str = ROOM) -> int:
    ack = await client.command("post", room=room, text=text)
    assert ack["type"] == "ack", ack
    return int(ack["seq"])


async def test_search_follows_posts_edits_and_deletions(server):
    ann = await signed_in(server, "Ann Search")
    await ann.command("join", room=ROOM)
    seq = await post(ann, "The zebrafish regeneration paper, figure 3")
    hits = await find(ann.person, "Zebrafish")
    assert [(h["room"], h["message"], h["author_name"], h["author"]) for h in hits] == [
        (ROOM, seq, "Ann Search", ann.member_id)]
    assert [part["text"].lower() for part in hits[0]["snippet"] if part["hit"]] == ["zebrafish"]
    assert "".join(part["text"] for part in hits[0]["snippet"]).startswith("The zebrafish")
    assert ids(await find(ann.person, "seed syncope")) == []
    assert len(await find(ann.person, "syncope")) == 1  # the demo's history, caught up

    assert (await ann.command("edit", room=ROOM, message=seq,
                              text="The axolotl regeneration paper"))["type"] == "ack"
    assert await find(ann.person, "zebrafish") == []
    assert ids(await find(ann.person, "axolotl")) == [seq]
    assert ids(await find(ann.person, '"regeneration paper" -zebrafish')) == [seq]
    assert ids(await find(ann.person, "regeneration -axolotl")) == []

    accents = await post(ann, "Ärzte im Café: ÉCOLE an der Straße")
    for q in ["ärzte", "CAFÉ", "école ärzte", "STRAßE"]:  # case folds, beyond ASCII, on both stores
        assert ids(await find(ann.person, q)) == [accents], q
    odd = await post(ann, "nul\x00byte and \x01marker\x02 text")  # PostgreSQL text has no NUL
    assert ids(await find(ann.person, "byte marker")) == [odd]

    assert (await ann.command("delete", room=ROOM, message=seq))["type"] == "ack"
    assert await find(ann.person, "axolotl") == []
    assert await find(ann.person, "regeneration") == []


async def test_results_are_ranked_and_limited(server):
    ann = await signed_in(server, "Ann Rank")
    await ann.command("join", room=ROOM)
    weak = await post(ann, "gait training once, then other topics entirely and more words")
    strong = await post(ann, "gait gait gait")
    assert ids(await find(ann.person, "gait")) == [strong, weak]
    assert ids(await find(ann.person, "gait", limit=1)) == [strong]


async def test_bad_queries_are_invalid_never_internal(server):
    ann = await signed_in(server, "Ann Bad")
    await ann.command("join", room=ROOM)
    await post(ann, 'near quote "star* minus-sign')
    for q in ["", "   ", '"', "*", "-", "-near", "()", "x" * 201]:
        reply = await ann.person.call("GET", f"/api/communities/{DEMO}/search?q={quote(q)}")
        assert reply.status_code == 400 and reply.json()["code"] == "invalid", (q, reply.text)
    for q in ["NEAR(", "NEAR(near quote)", '"star*', "star*", "minus-sign", "near OR x",
              "quote AND", "col:near", "^near", "{near}", "near'); DROP TABLE events; --"]:
        reply = await ann.person.call("GET", f"/api/communities/{DEMO}/search?q={quote(q)}")
        assert reply.status_code == 200, (q, reply.text)
    assert len(await find(ann.person, "NEAR(")) == 1
    assert len(await find(ann.person, "star*")) == 1
    assert len(await find(ann.person, "minus-sign")) == 1
    for params in ["&limit=0", "&limit=51", "&limit=x"]:
        reply = await ann.person.call("GET", f"/api/communities/{DEMO}/search?q=a{params}")
        assert reply.status_code == 400 and reply.json()["code"] == "invalid", params
    missing = await ann.person.call("GET", f"/api/communities/{DEMO}/search")
    assert missing.status_code == 400


async def test_search_shows_only_rooms_you_may_read(server):
    owner = await Person.sign_up(server.url, "Olga Guild")
    made = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "invite"})
    assert made.status_code == 201, made.text
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Back office"})).json()["rooms"][0]["room"]
    olga = await owner.connect(server.ws_url)
    assert (await olga.identify(community="guild"))["type"] == "ready"
    await olga.command("join", room=room)
    secret = await post(olga, "the quarterly okapi budget", room=room)

    ann = await signed_in(server, "Ann Outside")
    await ann.command("join", room=ROOM)
    await post(ann, "an okapi in the journal club")
    assert [h["room"] for h in await find(ann.person, "okapi")] == [ROOM]
    outside = await ann.person.call("GET", "/api/communities/guild/search?q=okapi")
    assert outside.status_code == 403 and outside.json()["code"] == "forbidden"
    assert [(h["room"], h["message"]) for h in await find(owner, "okapi", "guild")] == [
        (room, secret)]
    nowhere = await ann.person.call("GET", "/api/communities/nowhere/search?q=okapi")
    assert nowhere.status_code == 404
    stranger = Person(server.url)
    assert (await stranger.call("GET", f"/api/communities/{DEMO}/search?q=okapi")
            ).status_code == 401

    # A guest reads one room: search finds nothing elsewhere, not even in that community.
    lobby = (await owner.call("POST", "/api/communities/guild/rooms",
                              {"name": "Lobby"})).json()["rooms"]
    lobby_room = next(r["room"] for r in lobby if r["room"] != room)
    await olga.command("join", room=lobby_room)
    welcome = await post(olga, "an okapi welcome for guests", room=lobby_room)
    link = (await owner.call("POST", "/api/communities/guild/invites",
                             {"kind": "guest", "room": lobby_room})).json()
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link["token"], "name": "Gus"})
    assert entered.status_code == 201, entered.text
    guest.csrf = entered.json()["csrf"]
    assert [(h["room"], h["message"]) for h in await find(guest, "okapi", "guild")] == [
        (lobby_room, welcome)]
    elsewhere = await guest.call("GET", f"/api/communities/{DEMO}/search?q=okapi")
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "forbidden"


async def test_erasure_rebuild_and_catching_up_after_a_stop(backend, tmp_path):
    async with database(backend, tmp_path) as db:
        settings = make_settings(tmp_path, **db)
        async with running_server(settings) as server:
            ann = await signed_in(server, "Ann Erase")
            await ann.command("join", room=ROOM)
            gone = await post(ann, "a private pangolin story")
            edited = await post(ann, "first draft about lemurs")
            await ann.command("edit", room=ROOM, message=edited, text="second draft: tapirs")
            kept = await post(ann, "tapirs are kept")
            queries = ["pangolin", "lemurs", "tapirs", "draft", "story"]
            live = {q: await find(ann.person, q) for q in queries}
            assert ids(live["tapirs"]) == [edited, kept] or ids(live["tapirs"]) == [kept, edited]
            head = await server.practica.store.head(room_stream(ROOM))

        # Stopped: erase two bodies (as an operator would, for privacy), and let commits
        # land that no running projection hears of.
        store = open_store(settings.database_url)
        await store.open()
        try:
            await store.execute([
                ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?",
                 (room_stream(ROOM), gone)),
                ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?",
                 (room_stream(ROOM), head - 1)),  # the edit of `edited`
            ])
            missed = await store.append(room_stream(ROOM), "m-x", [MessagePosted(
                author="m-x", author_name="Xavier", text="written while search was behind")])
        finally:
            await store.close()

        async with running_server(make_settings(tmp_path, **db)) as server:
            ann.person.base_url = server.url
            await server.practica.projections["search"].settle()  # caught up in the background
            assert ids(await find(ann.person, "behind")) == [missed.seq]
            assert await find(ann.person, "pangolin") == []
            assert ids(await find(ann.person, "lemurs")) == [edited]  # its edit was erased
            assert ids(await find(ann.person, "tapirs")) == [kept]
            after_erasure = {q: await find(ann.person, q) for q in [*queries, "behind"]}
            projector = server.practica.projections["search"]
            assert projector.cursors[room_stream(ROOM)] == missed.seq

        assert await asyncio.to_thread(main, [
            "rebuild", "--projection", "search", "--database", settings.database_url]) == 0
        assert await asyncio.to_thread(main, [
            "rebuild", "--projection", "nothing", "--database", settings.database_url]) == 1
        async with running_server(make_settings(tmp_path, **db)) as server:
            ann.person.base_url = server.url
            await server.practica.projections["search"].settle()
            rebuilt = {q: await find(ann.person, q) for q in [*queries, "behind"]}
            assert rebuilt == after_erasure
            await server.practica.projections["search"].rebuild()  # live, while serving
            assert {q: await find(ann.person, q) for q in rebuilt} == rebuilt
