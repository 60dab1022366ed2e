"""Presence changes coalesced per tick: the batcher alone, then a crowd over a real socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.domain import room as room_fold
from server.domain.events import (
    Arrival,
    Departure,
    Event,
    EventBody,
    MemberJoined,
    MembersChanged,
)
from server.domain.room import Member, RoomState
from server.presence_batch import PresenceBatcher
from tests.people import Person
from tests.wsclient import Client

pytestmark = pytest.mark.anyio


class FakeRoom:
    """A room's fold and an append that folds what it appends, as the store's listener does."""

    def __init__(self, *, fail: bool = False) -> None:
        self.state = RoomState("r")
        self.appended: list[list[EventBody]] = []
        self.fail = fail

    async def fold(self, room: str) -> RoomState:
        return self.state

    async def append(self, stream: str, bodies: list[EventBody]) -> int:
        await asyncio.sleep(0)
        if self.fail:
            raise OSError("disk gone")
        self.appended.append(bodies)
        for body in bodies:
            room_fold.apply(self.state, Event(stream=stream, seq=self.state.seq + 1, ts=0,
                                              actor=None, body=body))
        return self.state.seq


def person(n: int) -> Member:
    return Member(id=f"m-{n}", name=f"Person {n}")


async def test_a_crowd_joining_at_once_is_one_event_and_a_lone_join_goes_at_once():
    room = FakeRoom()
    batcher = PresenceBatcher(room.fold, room.append, tick_s=60)  # no second flush in this test
    seqs = await asyncio.gather(*(batcher.change("r", m.id, m) for m in map(person, range(100))))
    assert len(room.appended) == 1 and set(seqs) == {1}
    (body,) = room.appended[0]
    assert isinstance(body, MembersChanged) and len(body.joined) == 100 and not body.left
    assert len(room.state.present) == 100


async def test_changes_after_a_flush_wait_for_the_next_tick_and_the_last_change_wins():
    room = FakeRoom()
    batcher = PresenceBatcher(room.fold, room.append, tick_s=0.05)
    assert await batcher.change("r", "m-1", person(1)) == 1
    later = [batcher.change("r", "m-2", person(2)), batcher.change("r", "m-2", "left"),
             batcher.change("r", "m-1", "disconnected"), batcher.change("r", "m-3", person(3))]
    later += [batcher.change("r", m.id, m) for m in map(person, range(4, 8))]
    assert set(await asyncio.gather(*later)) == {2}
    assert room.appended[1] == [MembersChanged(
        joined=[Arrival(member=f"m-{n}", name=f"Person {n}") for n in (3, 4, 5, 6, 7)],
        left=[Departure(member="m-1", reason="disconnected")])]
    assert sorted(room.state.present) == [f"m-{n}" for n in (3, 4, 5, 6, 7)]


async def test_a_change_that_changes_nothing_appends_nothing():
    room = FakeRoom()
    batcher = PresenceBatcher(room.fold, room.append, tick_s=0)
    assert await batcher.change("r", "m-1", person(1)) == 1
    assert await batcher.change("r", "m-1", person(1)) is None
    assert await batcher.change("r", "m-9", "left") is None
    assert room.appended == [[MemberJoined(member="m-1", name="Person 1")]]


async def test_a_failed_append_fails_every_change_in_it_and_the_next_flush_still_runs():
    room = FakeRoom(fail=True)
    batcher = PresenceBatcher(room.fold, room.append, tick_s=0)
    results = await asyncio.gather(*(batcher.change("r", m.id, m) for m in map(person, range(5))),
                                   return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results) and not room.state.present
    room.fail = False
    assert await batcher.change("r", "m-1", person(1)) == 1


# --- over a real socket ---------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


PRESENCE = ("member_joined", "member_left", "members_changed")
CROWD = 50


async def guests(server: Any, count: int) -> tuple[str, list[Client]]:
    """``count`` guests of a new community's room, connected and identified (not joined)."""
    founder = await Person.sign_up(server.url, "Founder")
    await founder.call("POST", "/api/communities", {"community": "crowd", "name": "Crowd",
                                                    "domain": "d", "purpose": "p"})
    room = (await founder.call("POST", "/api/communities/crowd/rooms",
                               {"name": "Plenary"})).json()["rooms"][0]["room"]
    link = (await founder.call("POST", "/api/communities/crowd/invites",
                               {"kind": "guest", "room": room, "max_uses": count})).json()
    clients = []
    for n in range(count):
        guest = Person(server.url)
        await guest.refresh()
        entered = await guest.call("POST", "/api/guest", {"token": link["token"],
                                                          "name": f"Guest {n}"})
        assert entered.status_code == 201, entered.text
        client = await guest.connect(server.ws_url)
        assert (await client.identify())["type"] == "ready"
        client.keep_reading()
        clients.append(client)
    return room, clients


def present_after(client: Client, stream: str) -> set[str]:
    """The client's fold of the room: its join snapshot, then the presence events after it."""
    (ack,) = [f for f in client.frames if f["type"] == "ack" and f.get("sync")]
    state = RoomState.from_snapshot(room_fold.RoomSnapshot(
        **{k: v for k, v in ack["sync"]["snapshot"].items() if k != "kind"} | {
            "present": [Member(**m) for m in ack["sync"]["snapshot"]["present"]],
            "messages": []}), ack["sync"]["seq"])
    for event in client.events(stream):
        if event["seq"] > state.seq:
            room_fold.apply(state, Event(stream=stream, seq=event["seq"], ts=event["ts"],
                                         actor=None, body=_body(event["body"])))
    return set(state.present)


def _body(raw: dict[str, Any]) -> Any:
    import msgspec

    from server.domain.events import AnyEventBody
    return msgspec.convert(raw, AnyEventBody)  # type: ignore[arg-type]


@pytest.mark.settings(presence_tick_ms=500)
async def test_a_crowd_joining_gets_far_fewer_presence_frames_than_one_per_joiner(server):
    room, clients = await guests(server, CROWD)
    stream = f"room:{room}"
    acks = await asyncio.gather(*(c.command("join", room=room) for c in clients))
    assert all(a["type"] == "ack" for a in acks), acks
    everyone = {c.member_id for c in clients}
    for client in clients:  # every fold ends with the whole crowd present (no sleeps)
        while present_after(client, stream) != everyone:
            await client.next_frame()
    frames = sum(1 for c in clients for e in c.events(stream) if e["body"]["type"] in PRESENCE)
    # One event per joiner would be CROWD²/2 (1,225) frames; one per tick is a few times CROWD.
    assert frames < CROWD * CROWD / 4, frames
    server_fold = await server.practica.folds.room(room)
    assert set(server_fold.present) == everyone
    for client in clients:
        await client.close()


async def test_stopping_fails_the_changes_still_waiting_instead_of_hanging():
    room = FakeRoom()
    batcher = PresenceBatcher(room.fold, room.append, tick_s=60)
    assert await batcher.change("r", "m-1", person(1)) == 1
    waiting = asyncio.ensure_future(batcher.change("r", "m-2", person(2)))  # next tick: 60 s
    await asyncio.sleep(0)
    await batcher.stop()  # shutting down: the waiting change fails instead of hanging
    with pytest.raises(RuntimeError):
        await waiting
    await batcher.settle()
    assert list(room.state.present) == ["m-1"]
