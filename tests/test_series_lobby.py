"""An occurrence's lobby opens its live session through the scheduler (the server's own
clock set by the test), reminders reach those who said yes, and the attendance of the
session is read from its room's presence, as a table and as CSV."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from server.domain.deadlines import TIMER_ACTOR
from tests.series_setup import community, create, joined, local_day, occurrences

pytestmark = pytest.mark.anyio
MIN = 60_000


async def test_lobby_reminders_and_attendance(server):
    owner, room = await community(server)
    ann = await joined(server, "Ann Attendee")
    bob = await joined(server, "Bob Stayer")
    await create(owner, room, series="daily", rule="FREQ=DAILY", start=local_day(1, "10:00"),
                 lobby_min=10, reminder_min=60)
    (first, *_) = await occurrences(owner, "daily")
    key, start = first["occurrence"], first["start_ms"]
    o = f"/api/series/daily/occurrences/{key}"
    assert (await ann.call("PUT", o + "/rsvp", {"answer": "yes"})).status_code == 200
    assert (await bob.call("PUT", o + "/rsvp", {"answer": "no"})).status_code == 200
    # Nobody takes the occurrence's session before its lobby opens.
    owner_ws = await owner.connect(server.ws_url)
    await owner_ws.identify(community="guild")
    taken = await owner_ws.command("session", session=f"daily-{key.lower()}",
                                   op={"op": "open", "room": room, "title": "Mine"})
    assert (taken["type"], taken["code"]) == ("error", "invalid"), taken
    await owner_ws.close()
    practica = server.practica
    now = [start - 61 * MIN]
    practica.scheduler.clock = lambda: now[0]
    await practica.scheduler.sweep_once()
    assert (await ann.call("GET", "/api/reminders")).json() == []
    now[0] = start - 60 * MIN
    await practica.scheduler.sweep_once()
    (reminder,) = (await ann.call("GET", "/api/reminders")).json()
    assert (reminder["occurrence"], reminder["minutes"], reminder["session"]) == (key, 60, None)
    assert (await bob.call("GET", "/api/reminders")).json() == []  # said no
    now[0] = start - 10 * MIN
    await practica.scheduler.sweep_once()
    await practica.scheduler.sweep_once()  # once: a second sweep fires nothing again
    events = await practica.store.read("series:daily")
    tags = [e.body.__struct_config__.tag for e in events]
    assert tags.count("lobby_opened") == 1 and tags.count("reminder_due") == 1
    assert all(e.actor == TIMER_ACTOR for e in events if e.body.__struct_config__.tag in (
        "lobby_opened", "reminder_due"))
    opened = (await ann.call("GET", o)).json()
    session = opened["session"]
    assert session == f"daily-{key.lower()}"
    view = await owner.call("GET", f"/api/sessions/{session}")
    assert view.status_code == 200, view.text
    assert view.json()["snapshot"]["title"] == "Case clinic"
    assert (await ann.call("GET", "/api/reminders")).json()[0]["session"] == session
    # Ann comes and goes; Bob comes and stays.
    ann_ws = await ann.connect(server.ws_url)
    await ann_ws.identify(community="guild")
    bob_ws = await bob.connect(server.ws_url)
    await bob_ws.identify(community="guild")
    assert (await ann_ws.command("join", room=room))["type"] != "error"
    assert (await bob_ws.command("join", room=room))["type"] != "error"
    await asyncio.sleep(0.3)
    assert (await ann_ws.command("leave", room=room))["type"] != "error"

    async def rows() -> list[dict]:
        reply = await owner.call("GET", o + "/attendance")
        assert reply.status_code == 200, reply.text
        return list(reply.json()["rows"])

    deadline = asyncio.get_running_loop().time() + 10
    while {r["member"]: r["left_ms"] is not None for r in await rows()} != {
            ann.id: True, bob.id: False}:
        assert asyncio.get_running_loop().time() < deadline, await rows()
        await asyncio.sleep(0.1)
    table = {r["member"]: r for r in await rows()}
    assert table[ann.id]["name"] == "Ann Attendee" and table[ann.id]["rsvp"] == "yes"
    assert table[ann.id]["left_ms"] >= table[ann.id]["joined_ms"]
    assert table[bob.id]["rsvp"] == "no" and table[bob.id]["duration_s"] >= 0
    csv_reply = await owner.call("GET", o + "/attendance.csv")
    assert csv_reply.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(csv_reply.text)))
    assert {row["member"] for row in parsed} == {ann.id, bob.id}
    assert {row["name"] for row in parsed} == {"Ann Attendee", "Bob Stayer"}
    refused = await ann.call("GET", o + "/attendance.csv")
    assert refused.status_code == 403
    # Once its lobby opened, an occurrence is not cancelled or moved: it is run.
    late = await owner.call("POST", o + "/cancel", {})
    assert (late.status_code, late.json()["code"]) == (409, "out_of_order")
    await ann_ws.close()
    await bob_ws.close()
