"""A store holding bodies today's rules refuse (blank names, unknown types, bad fields)
still starts, folds, joins, replays and pages history: on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.domain.events import (
    CommunityCreated,
    EventBody,
    MemberAdmitted,
    MemberJoined,
    MemberRenamed,
    MessagePosted,
    RoomCreated,
    community_stream,
    room_stream,
)
from server.domain.names import PLACEHOLDER
from server.settings import Settings
from tests.conftest import make_settings, running_server
from tests.people import DEMO, Person, signed_in

pytestmark = pytest.mark.anyio
ROOM, BLANK_ROOM, GHOST_TOWN = "case-review", "blank-1", "ghost-town"


class FromTheFuture(EventBody, tag="from_the_future"):
    """A type a later server might write; this one does not know it."""

    x: int


def unchecked(body: EventBody, **bad: Any) -> EventBody:
    """``body`` with fields set to what its type refuses, as an older server (or a bug)
    could have stored them: assigning an attribute skips the validation."""
    for field, value in bad.items():
        setattr(body, field, value)
    return body


@pytest.fixture(params=["sqlite", "postgres+redis"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    if request.param == "sqlite":
        yield make_settings(tmp_path)
        return
    from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix

    prefix = redis_prefix()  # this test's own keys: no FLUSHDB of a shared database
    await drop_redis_prefix(prefix)  # fails loudly if Redis is not there
    async with postgres_schema() as url:
        try:
            yield make_settings(tmp_path, database_url=url, redis_url=REDIS_URL,
                                redis_prefix=prefix)
        finally:
            await drop_redis_prefix(prefix)


async def store_bad_bodies(store: Any) -> None:
    room_created = unchecked(RoomCreated(room=BLANK_ROOM, name="x"), name="  ")
    await store.append(community_stream(DEMO), None, [
        room_created,
        unchecked(MemberAdmitted(member="m-ghost", name="x", role="member", via="seed"),
                  name=""),  # this one stopped the server from ever starting again
        MemberAdmitted(member="m-spook", name="Spook", role="member", via="seed"),
        unchecked(MemberRenamed(member="m-spook", name="x"), name="\u3164\u200b"),
    ])
    await store.append(room_stream(BLANK_ROOM), None, [room_created])
    await store.append(room_stream(ROOM), "m-ghost", [
        unchecked(MemberJoined(member="m-ghost", name="x"), name=""),
        unchecked(MemberJoined(member="m-spook", name="x"), name=" \t\n"),
        unchecked(MessagePosted(author="m-ghost", author_name="x", text="from the past"),
                  author_name="\u202e\u200f"),
        unchecked(MessagePosted(author="m-ghost", author_name="Ghost", text="x"), text=""),
        FromTheFuture(x=1),
    ])
    await store.append(community_stream(GHOST_TOWN), None, [unchecked(CommunityCreated(
        community=GHOST_TOWN, name="x", domain="d", purpose="p", join_policy="open"),
        name="   ")])


async def all_history(client: Any, room: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    before = None
    while True:
        page = await client.command("history", room=room, limit=2,
                                    **({"before": before} if before else {}))
        assert page["type"] == "history", page
        messages = page["messages"] + messages
        if not page["has_more"]:
            return messages
        before = page["messages"][0]["id"]


async def test_a_restart_reads_every_stored_body_and_shows_placeholders(settings):
    async with running_server(settings) as first:
        await store_bad_bodies(first.practica.store)
    async with running_server(settings) as second:  # the same database, started again
        assert second.practica.startup_error is None
        client = await signed_in(second, "Ann")
        (community,) = [s for s in client.ready["syncs"] if s["stream"] == f"community:{DEMO}"]
        members = {m["member"]: m["name"] for m in community["snapshot"]["members"]}
        rooms = {r["room"]: r["name"] for r in community["snapshot"]["rooms"]}
        assert members["m-ghost"] == members["m-spook"] == PLACEHOLDER
        assert rooms[BLANK_ROOM] == PLACEHOLDER

        joined = await client.command("join", room=ROOM)
        assert joined["type"] == "ack", joined
        present = {m["id"]: m["name"] for m in joined["sync"]["snapshot"]["present"]}
        assert present["m-ghost"] == PLACEHOLDER and present["m-spook"] == PLACEHOLDER
        history = await all_history(client, ROOM)
        ghostly = [m for m in history if m["author"] == "m-ghost"]
        assert [(m["author_name"], m["text"]) for m in ghostly] == [
            (PLACEHOLDER, "from the past")]  # the unreadable one is left out
        assert len(history) == len({m["id"] for m in history}) >= 4

        blank = await client.command("join", room=BLANK_ROOM)
        assert blank["type"] == "ack" and blank["sync"]["snapshot"]["name"] == PLACEHOLDER

        other = await (await Person.sign_up(second.url, "Bo")).connect(second.ws_url)
        await other.person.join(DEMO)
        replay = await other.resume({room_stream(ROOM): 1}, community=DEMO)
        assert replay["type"] == "ready", replay
        (sync,) = [s for s in replay["syncs"] if s["stream"] == room_stream(ROOM)]
        kinds = [e["body"]["type"] for e in sync["events"]]
        assert "unreadable" in kinds and "member_joined" in kinds, kinds

        cards = {c["community"]: c["name"] for c in
                 (await client.person.call("GET", "/api/communities")).json()}
        assert cards[GHOST_TOWN] == PLACEHOLDER
        page = await client.person.call("GET", f"/api/communities/{GHOST_TOWN}")
        assert page.status_code == 200 and page.json()["name"] == PLACEHOLDER
        assert (await client.person.call("POST", f"/api/communities/{GHOST_TOWN}/join",
                                         {})).json()["outcome"] == "joined"
        assert (await second.practica.store.verify()).ok
        await client.close()
        await other.close()


async def test_a_name_stored_in_accounts_reads_with_a_placeholder(settings):
    """An account row written before today's rules (a blank name) still signs in, joins
    and posts, under the placeholder."""
    async with running_server(settings) as running:
        person = await Person.sign_up(running.url, "Ann")
        await running.practica.store.execute([
            ("UPDATE accounts SET name = ? WHERE id = ?", (" \u200b", person.id))])
        me = await person.refresh()
        assert me["account"]["name"] == PLACEHOLDER
        await person.join(DEMO)
        assert running.practica.folds.community(DEMO).members[person.id].name == PLACEHOLDER
        client = await person.connect(running.ws_url)
        assert (await client.identify(community=DEMO))["type"] == "ready"
        joined = await client.command("join", room=ROOM)
        assert joined["type"] == "ack", joined
        present = {m["id"]: m["name"] for m in joined["sync"]["snapshot"]["present"]}
        assert present[person.id] == PLACEHOLDER
        posted = await client.command("post", room=ROOM, text="still here")
        assert posted["type"] == "ack", posted
        (event,) = await running.practica.store.read(room_stream(ROOM), after=posted["seq"] - 1)
        assert event.body.author_name == PLACEHOLDER
        await client.close()
