"""A ref makes a command idempotent; reusing it for a different command is a conflict,
never a silent success (over a real socket, both backends)."""

from __future__ import annotations

import pytest

from tests.people import DEMO, signed_in

pytestmark = pytest.mark.anyio
ROOM, STREAM = "case-review", "room:case-review"


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def texts(client) -> list[str]:
    return [e["body"]["text"] for e in client.events(STREAM)
            if e["body"]["type"] == "message_posted"]


async def test_same_ref_with_other_text_or_command_is_a_conflict_and_changes_nothing(server):
    ann = await signed_in(server, "Ann")
    assert (await ann.command("join", room=ROOM))["type"] == "ack"
    first = await ann.command("post", "once", room=ROOM, text="first")
    assert first["type"] == "ack"
    head = await server.practica.store.head(STREAM)
    other_text = await ann.command("post", "once", room=ROOM, text="second")
    assert other_text["type"] == "error" and other_text["code"] == "conflict"
    other_command = await ann.command("delete", "once", room=ROOM, message=first["seq"])
    assert other_command["type"] == "error" and other_command["code"] == "conflict"
    other_room = await ann.command("post", "once", room="journal-club", text="first")
    assert other_room["type"] == "error"
    assert await server.practica.store.head(STREAM) == head
    resent = await ann.command("post", "once", room=ROOM, text="first")
    assert resent == first
    assert texts(ann).count("first") == 1 and "second" not in texts(ann)
    await ann.close()


async def test_a_different_command_racing_the_first_with_its_ref_is_a_conflict(server):
    ann = await signed_in(server, "Ann")
    await ann.command("join", room=ROOM)
    await ann.send({"type": "post", "ref": "race", "room": ROOM, "text": "one"})
    await ann.send({"type": "post", "ref": "race", "room": ROOM, "text": "two"})
    replies = [await ann.wait_for(lambda f: f.get("ref") == "race" and f["type"] != "event")
               for _ in range(2)]
    assert sorted(r["type"] for r in replies) == ["ack", "error"]
    assert next(r for r in replies if r["type"] == "error")["code"] == "conflict"
    await ann.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "one")
    assert "two" not in texts(ann)
    await ann.close()


def presence_events(client) -> list[dict]:
    return [e for e in client.events(STREAM)
            if e["body"]["type"] in ("member_joined", "member_left", "members_changed")]


async def test_a_repeated_join_or_leave_answers_what_the_first_did(server):
    """Presence changes are coalesced per tick, yet the same ref from the same member is
    applied once and answered again with the same result, also on a new socket."""
    ann = await signed_in(server, "Ann")
    watcher = await signed_in(server, "Wes")
    assert (await watcher.command("join", room=ROOM))["type"] == "ack"
    joined = await ann.command("join", "enter-1", room=ROOM)
    assert joined["type"] == "ack" and joined["seq"] is not None, joined
    again = await ann.command("join", "enter-1", room=ROOM)
    assert (again["type"], again["seq"], again["stream"]) == ("ack", joined["seq"], STREAM)
    assert again["sync"]["mode"] == "snapshot"  # the socket still gets the room

    left = await ann.command("leave", "exit-1", room=ROOM)
    assert left["type"] == "ack" and left["seq"] is not None and left["seq"] > joined["seq"]
    head = await server.practica.store.head(STREAM)
    repeated = await ann.command("leave", "exit-1", room=ROOM)
    assert (repeated["type"], repeated["seq"]) == ("ack", left["seq"]), repeated

    # A new socket of the same member resending the first join: the same answer, and
    # nothing appended for it (the presence change was applied once).
    person = ann.person
    await ann.close()
    ann2 = await person.connect(server.ws_url)
    assert (await ann2.identify(community=DEMO))["type"] == "ready"
    resent = await ann2.command("join", "enter-1", room=ROOM)
    assert (resent["type"], resent["seq"]) == ("ack", joined["seq"]), resent
    assert await server.practica.store.head(STREAM) == head
    # ...and the same ref for another command is a conflict, not the join's answer.
    reused = await ann2.command("leave", "enter-1", room=ROOM)
    assert (reused["type"], reused["code"]) == ("error", "conflict"), reused
    posted = await ann2.command("post", "exit-1", room=ROOM, text="hi")
    assert (posted["type"], posted["code"]) == ("error", "conflict"), posted
    assert await server.practica.store.head(STREAM) == head
    await ann2.close()
    await watcher.close()
