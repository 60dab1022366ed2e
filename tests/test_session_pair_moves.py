"""Rejoining a running round over real sockets: someone who went back to the main room
presses rejoin and is placed as a late arrival is (``pairs_changed`` why ``rejoin``),
their new partner's page sees it; the same press sent again (same ref, or a second
press) makes one change; no round, an ended or stale round and being in a group
already are typed ``out_of_order`` errors that append nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.test_session_pairs import _OPEN, Room, pairs_room

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def _close_sockets(server: Any) -> Any:
    yield
    await asyncio.gather(*(ws.close() for ws in _OPEN), return_exceptions=True)
    _OPEN.clear()


async def back_in_main_room(r: Room) -> tuple[str, str]:
    """A pair's member presses "Back to main room"; the partner chooses the main room
    too. (the one who pressed, the partner), by name."""
    leaver, partner = (r.name_of(m) for m in r.groups()[0])
    await r.checked(leaver, "leave_pair")
    await r.checked(partner, "partner_choice", choice="main_room")
    assert r.state.ups.group_of(r.id(leaver)) is None and r.state.ups.alone == []
    return leaver, partner


def kinds(events: list[Any], kind: str) -> list[Any]:
    return [e.body for e in events if e.body is not None
            and e.body.__struct_config__.tag == kind]


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_rejoin_places_them_in_a_group_and_their_new_partners_see_it(server):
    r = await pairs_room(server, 4)
    await r.checked("host", "pair")
    leaver, _ = await back_in_main_room(r)
    (others,) = r.groups()
    before = await r.head()
    ack = await r.checked(leaver, "rejoin_pairs", round=1)
    assert ack["seq"] == before + 1
    assert sorted([*others, r.id(leaver)]) in r.groups()
    for name in (r.name_of(m) for m in others):
        seen = await r.ws(name).wait_for(lambda f: f["type"] == "event" and f["seq"] > before
                                         and f["body"]["type"] == "pairs_changed")
        body = seen["body"]
        assert (body["why"], body["member"]) == ("rejoin", r.id(leaver))
        mine = next(g for g in body["groups"] if r.id(name) in g["members"])
        assert r.id(leaver) in mine["members"]


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_two_presses_make_one_change(server):
    r = await pairs_room(server, 4)
    await r.checked("host", "pair")
    leaver, partner = await back_in_main_room(r)
    frame = {"session": r.session, "op": {"op": "rejoin_pairs", "round": 1}}
    first = await r.ws(leaver).command("session", ref="rejoin-1", **frame)
    again = await r.ws(leaver).command("session", ref="rejoin-1", **frame)  # a resend
    assert first["type"] == again["type"] == "ack" and first["seq"] == again["seq"]
    await r.refused(leaver, "rejoin_pairs", "out_of_order", round=1)  # a second press
    # two pages of one person pressing at once: one placed, one refused
    other_page = await r.people[partner][0].connect(server.ws_url)
    _OPEN.append(other_page)
    await other_page.identify(community=r.c.community)
    replies = await asyncio.gather(*(ws.command("session", ref=f"twice-{n}", **frame)
                                     for n, ws in enumerate((r.ws(partner), other_page))))
    assert sorted(x["type"] for x in replies) == ["ack", "error"], replies
    assert [x["code"] for x in replies if x["type"] == "error"] == ["out_of_order"]
    events = await server.practica.store.read(r.stream)
    rejoins = [b for b in kinds(events, "pairs_changed") if b.why == "rejoin"]
    assert [b.member for b in rejoins] == [r.id(leaver), r.id(partner)]


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_rejoin_bad_paths_are_typed_and_change_nothing(server):
    r = await pairs_room(server, 4)
    message = await r.refused("ann", "rejoin_pairs", "out_of_order", round=1)
    assert "no pair-up round" in message
    await r.checked("host", "pair")
    in_group = r.name_of(r.groups()[0][0])
    assert "already" in await r.refused(in_group, "rejoin_pairs", "out_of_order", round=1)
    await r.refused("host", "rejoin_pairs", "out_of_order", round=1)  # never in it
    leaver, _ = await back_in_main_room(r)
    assert "not running" in await r.refused(leaver, "rejoin_pairs", "out_of_order", round=2)
    reply = await r.ws(leaver).command("session", session=r.session,
                                       op={"op": "rejoin_pairs"})  # no round named
    assert (reply["type"], reply["code"]) == ("error", "invalid"), reply
    await r.checked("host", "end_pairs", round=1)
    message = await r.refused(leaver, "rejoin_pairs", "out_of_order", round=1)
    assert "no pair-up round" in message
