"""A ref makes a command idempotent; reusing it for a different command is a conflict,
never a silent success (over a real socket, both backends)."""

from __future__ import annotations

import pytest

from tests.people import signed_in

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
