"""A stream kind added to the registry (server/streams.py) and nowhere else is followed,
folded (with its edge step), snapshotted, resumed, replayed, delivered live and caught up
from another writer; a kind that is not registered is no stream at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.cluster.feed import Feed
from server.domain.events import CommunityCreated, Event, MessagePosted, RoomCreated
from server.domain.policy import Action
from server.folds import Folds
from server.hub import LocalHub
from server.store.sqlite import SqliteStore
from server.streams import StreamKind, StreamRef, parse, register, room_home, unregister
from tests.people import Person
from tests.wsclient import Client

pytestmark = pytest.mark.anyio

class TallySnapshot(msgspec.Struct, tag_field="kind", tag="tally"):
    room: str
    count: int
    last: str
    loud: str


class Tally:
    """A made-up state: how many posts a room's tally stream holds, and the last one."""

    def __init__(self, room: str) -> None:
        self.room, self.seq, self.count, self.last, self.loud = room, 0, 0, "", ""

    def snapshot(self) -> TallySnapshot:
        return TallySnapshot(room=self.room, count=self.count, last=self.last, loud=self.loud)


def fold_tally(state: Tally, event: Event) -> None:
    state.seq = event.seq
    if isinstance(event.body, MessagePosted):
        state.count += 1
        state.last = event.body.text


def shout(state: Tally, event: Event) -> None:
    """The edge step: run after the pure fold, on every event."""
    state.loud = state.last.upper()


@pytest.fixture
def tally() -> Iterator[StreamKind]:
    kind = register(StreamKind(
        "tally", "room", Action.READ_HISTORY, "A made-up kind, one per room (tests).",
        home=room_home, new_state=Tally, fold=fold_tally, after_fold=shout))
    try:
        yield kind
    finally:
        unregister(kind)


async def until_true(check: Callable[[], bool], what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


def posted(text: str) -> MessagePosted:
    return MessagePosted(author="m-1", author_name="Ann", text=text)


async def a_member(server: Any) -> tuple[Person, str]:
    """A member of the demo community, and one of its rooms."""
    person = await Person.sign_up(server.url, "Tally reader")
    await person.join()
    room = sorted(server.practica.folds.community(server.settings.community).rooms)[0]
    return person, room


async def resumed(server: Any, person: Person, streams: dict[str, int]
                  ) -> tuple[Client, dict[str, Any]]:
    client = await person.connect(server.ws_url)
    client.keep_reading()
    ready = await client.resume(streams, community=server.settings.community)
    assert ready["type"] == "ready", ready
    return client, {s["stream"]: s for s in ready["syncs"]}


@pytest.mark.settings(max_replay_events=2)  # more missed than that: a snapshot
async def test_a_registered_kind_is_followed_folded_resumed_and_caught_up(server, tally):
    folds: Folds = server.practica.folds
    store = server.practica.store
    person, room = await a_member(server)
    stream = tally.stream(room)
    for text in ("one", "two", "three"):
        await store.append(stream, None, [posted(text)])
    assert stream not in folds.followed()  # loaded on first use, like a room

    client, syncs = await resumed(server, person, {stream: 0})
    assert syncs[stream]["mode"] == "snapshot" and syncs[stream]["seq"] == 3
    assert syncs[stream]["snapshot"] == {"kind": "tally", "room": room, "count": 3,
                                         "last": "three", "loud": "THREE"}
    assert stream in folds.followed() and folds.seq_of(stream) == 3

    # Live: committed, folded (edge step too), delivered.
    await store.append(stream, None, [posted("four")])
    live = await client.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream)
    assert (live["seq"], live["body"]["text"]) == (4, "four")
    assert (folds.state_of(stream).count, folds.state_of(stream).loud) == (4, "FOUR")

    # Resumed from seq 2: the missed events are replayed.
    again, syncs = await resumed(server, person, {stream: 2})
    assert syncs[stream]["mode"] == "replay"
    assert [e["seq"] for e in syncs[stream]["events"]] == [3, 4]

    await client.close()
    await again.close()


async def test_a_kind_that_is_not_registered_is_no_stream(server, tally):
    person, room = await a_member(server)
    client, syncs = await resumed(server, person, {f"tallies:{room}": 0, "tally:nowhere": 0,
                                                   tally.stream(room): 0})
    assert (syncs[f"tallies:{room}"]["mode"], syncs[f"tallies:{room}"]["error"]) == (
        "refused", "not_found")
    assert (syncs["tally:nowhere"]["mode"], syncs["tally:nowhere"]["error"]) == (
        "refused", "not_found")  # the kind is known; its home (the room) is not
    assert syncs[tally.stream(room)]["mode"] == "replay"
    # The registry declares no relay for it: refused, nothing sent.
    reply = await client.command("relay", stream=tally.stream(room), kind="typing")
    assert (reply["type"], reply["code"]) == ("error", "invalid"), reply
    await client.close()
    unregister(tally)
    try:
        assert parse(tally.stream(room)) is None
        client, syncs = await resumed(server, person, {tally.stream(room): 0})
        assert syncs[tally.stream(room)]["error"] == "not_found"
        assert "snapshot" not in syncs[tally.stream(room)]
        await client.close()
    finally:
        register(tally)


async def test_a_registered_kind_is_caught_up_from_another_writer(tmp_path: Path, tally):
    """Another process commits where this one does not hear it (a lost announcement):
    the feed's poll of every followed stream fetches it, folds it and fans it out."""
    here = SqliteStore(str(tmp_path / "kinds.db"))
    await here.open()
    elsewhere = SqliteStore(str(tmp_path / "kinds.db"))
    await elsewhere.open()
    try:
        await here.append("community:guild", None, [
            CommunityCreated(community="guild", name="Guild", domain="d", purpose="p"),
            RoomCreated(room="lobby", name="Lobby")])
        folds, hub = Folds(here), LocalHub()
        feed = Feed(here, folds, hub)
        here.on_commit(feed.deliver)
        await folds.load_all()
        await elsewhere.append("tally:lobby", None, [posted("one")])
        assert "tally:lobby" not in folds.followed()
        state = await folds.state(StreamRef(tally, "lobby"))
        assert (state.count, state.loud, folds.followed()) == (1, "ONE", [
            "community:guild", "tally:lobby"])
        await elsewhere.append("tally:lobby", None, [posted("two"), posted("three")])
        assert folds.seq_of("tally:lobby") == 1
        await feed.poll_once()
        await until_true(lambda: folds.seq_of("tally:lobby") == 3, "caught up")
        assert (state.count, state.last, state.loud) == (3, "three", "THREE")
        await feed.stop()
    finally:
        await here.close()
        await elsewhere.close()


async def test_a_kind_folded_at_start_is_loaded_and_followed_from_its_first_event(
        tmp_path: Path):
    kind = register(StreamKind(
        "ledger", "community", Action.VIEW_COMMUNITY, "A made-up kind (tests).",
        new_state=Tally, fold=fold_tally, loaded="at_start"))
    store = SqliteStore(str(tmp_path / "kinds.db"))
    await store.open()
    try:
        await store.append("community:guild", None, [
            CommunityCreated(community="guild", name="Guild", domain="d", purpose="p")])
        await store.append("ledger:guild", None, [posted("a"), posted("b")])
        folds = Folds(store)
        await folds.load_all()
        assert folds.seq_of("ledger:guild") == 2 and folds.state_of("ledger:guild").count == 2
        assert {"community:guild", "ledger:guild"} <= set(folds.followed())
        assert (await folds.state(StreamRef(kind, "guild"))).last == "b"
        assert folds.home(StreamRef(kind, "guild")).community == "guild"
        # One made elsewhere is followed from its first event (as communities are)...
        folds.on_commit([Event(stream="ledger:new", seq=1, ts=1, actor=None, body=posted("x"))])
        assert folds.state_of("ledger:new").count == 1
        # ...and one not seen yet is followed from nothing, so the feed fetches it whole.
        assert folds.seq_of("ledger:later") == 0
        assert folds.seq_of("nokind:guild") is None
    finally:
        await store.close()
        unregister(kind)
