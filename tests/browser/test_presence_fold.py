"""The browser's room fold (web/room.js) and the server's (server/domain/room.py) agree on
presence, batched (``members_changed``) and single events alike."""

from __future__ import annotations

import msgspec
import pytest

from server.domain import room as room_fold
from server.domain.events import (
    Arrival,
    Departure,
    Event,
    MemberJoined,
    MemberLeft,
    MembersChanged,
)
from server.domain.room import Member, RoomState

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

BODIES = [
    MembersChanged(joined=[Arrival(member=f"m-{n}", name=f"Person {n}") for n in range(8)]),
    MemberLeft(member="m-3", reason="disconnected"),
    MembersChanged(joined=[Arrival(member="m-9", name="Nine"),
                           Arrival(member="m-1", name="One, renamed")],
                   left=[Departure(member="m-0"), Departure(member="m-ghost"),
                         Departure(member="m-5", reason="disconnected")]),
    MemberJoined(member="m-3", name="Three again"),
    None,  # an erased body changes nothing
]


async def test_the_browser_and_the_server_fold_presence_the_same(server, new_context):
    start = RoomState("r")
    start.present = {"m-old": Member(id="m-old", name="Old timer")}
    events = [Event(stream="room:r", seq=seq, ts=seq, actor=None, body=body)
              for seq, body in enumerate(BODIES, 1)]
    state = RoomState.from_snapshot(start.snapshot(), 0)
    for event in events:
        room_fold.apply(state, event)
    expected = sorted((m.id, m.name) for m in state.present.values())

    context = await new_context()
    page = await context.new_page()
    await page.goto(server.url)
    folded = await page.evaluate("""async ([snapshot, events]) => {
        const { RoomView } = await import("/static/room.js");
        const view = new RoomView(snapshot);
        for (const event of events) view.apply(event);
        return [...view.present.values()].map((m) => [m.id, m.name]);
    }""", [msgspec.to_builtins(start.snapshot()), msgspec.to_builtins(events)])
    assert sorted(map(tuple, folded)) == expected
    assert ("m-9", "Nine") in expected and all(m != "m-0" for m, _ in expected)
