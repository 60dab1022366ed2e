"""Zulip's invariant: initial state + the events that follow == the state fetched fresh."""

from __future__ import annotations

import random

import msgspec
import pytest

from server.domain import room as fold
from server.domain.events import Event
from server.domain.room import RoomSnapshot, RoomState
from tests.people import signed_in

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every protocol test runs on the embedded default and on the scale-out backends."""
    return str(request.param)
ROOM = "case-review"


@pytest.mark.settings(commands_per_minute=100_000, command_burst=10_000)
async def test_snapshot_plus_events_equals_fresh_snapshot(server):
    watcher = await signed_in(server, "Watcher")
    join = await watcher.command("join", room=ROOM)
    start = msgspec.convert(join["sync"]["snapshot"], RoomSnapshot)
    state = RoomState.from_snapshot(start, join["sync"]["seq"])

    rng = random.Random(7)
    actors = []
    for name in ("Ann", "Bob", "Cy"):
        client = await signed_in(server, name)
        await client.command("join", room=ROOM)
        actors.append(client)
    mine: dict[int, list[int]] = {i: [] for i in range(len(actors))}
    for _ in range(120):
        i = rng.randrange(len(actors))
        client, roll = actors[i], rng.random()
        if roll < 0.55 or not mine[i]:
            ack = await client.command("post", room=ROOM, text=f"note {rng.random():.6f}")
            mine[i].append(ack["seq"])
        elif roll < 0.75:
            await client.command("edit", room=ROOM, message=rng.choice(mine[i]),
                                 text=f"edited {rng.random():.6f}")
        elif roll < 0.85:
            await client.command("delete", room=ROOM, message=mine[i].pop())
        elif roll < 0.93:
            await client.command("leave", room=ROOM)
            await client.command("join", room=ROOM)
        else:
            await client.command("history", room=ROOM, limit=5)

    fresh_client = await signed_in(server, "Fresh")
    fresh_join = await fresh_client.command("join", room=ROOM)
    await watcher.wait_for(lambda f: f["type"] == "event" and f["seq"] == fresh_join["seq"])

    for frame in watcher.events(f"room:{ROOM}"):
        fold.apply(state, msgspec.convert(frame, Event))
    fresh = msgspec.convert(fresh_join["sync"]["snapshot"], RoomSnapshot)
    assert state.seq == fresh_join["sync"]["seq"]
    assert msgspec.to_builtins(state.snapshot()) == msgspec.to_builtins(fresh)
    for client in [watcher, fresh_client, *actors]:
        await client.close()
