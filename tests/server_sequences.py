"""Event sequences recorded from a real server: someone enters a community and a room
(snapshot at a seq), others act on both over websockets and HTTP, and the first person's
socket records every event it receives. Then a fresh socket fetches both snapshots.
Used by tests/test_verify_folds.py (Python) and tests/browser/test_folds.py (JavaScript).
"""

from __future__ import annotations

from typing import Any

from tests.people import Person
from tests.wsclient import Client

C = "/api/communities/guild"


async def record(server: Any) -> dict[str, dict[str, Any]]:
    """Per stream (``community:guild``, ``room:<room>``): ``first`` (the snapshot a
    socket started from, its seq and the events it received after it) and ``fresh``
    (the snapshot a new socket gets at the end). Run it with a long presence grace
    (``presence_grace_ms``): a socket closed by the role change must not lapse meanwhile."""
    owner = await Person.sign_up(server.url, "Olga Owner")
    made = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "Bridges", "purpose": "Build",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    room = (await owner.call("POST", f"{C}/rooms", {"name": "Workshop"})).json()["rooms"][0]["room"]
    watcher = await owner.connect(server.ws_url)
    ready = await watcher.identify(community="guild")
    first = {s["stream"]: s for s in ready["syncs"]}
    first[f"room:{room}"] = (await watcher.command("join", room=room))["sync"]

    people: list[tuple[Person, Client]] = []
    for name in ("Ann Example", "Bob Builder", "Chidi Anagonye"):
        person = await Person.sign_up(server.url, name)
        await person.join("guild")
        socket = await person.connect(server.ws_url)
        await socket.identify(community="guild")
        await socket.command("join", room=room)
        people.append((person, socket))
    (ann, ann_ws), (bob, bob_ws), (chidi, chidi_ws) = people
    posted = [(await ws.command("post", room=room, text=f"note {i}"))["seq"]
              for i, (_, ws) in enumerate(people * 3)]
    await ann_ws.command("edit", room=room, message=posted[0], text="note 0, edited")
    await bob_ws.command("delete", room=room, message=posted[1])
    await watcher.command("delete", room=room, message=posted[2])  # moderated
    await chidi_ws.command("leave", room=room)
    for path, body in [
        (f"/members/{ann.id}/role", {"role": "host"}),
        (f"/members/{bob.id}/timeout", {"minutes": 30, "reason": "heated"}),
        (f"/members/{chidi.id}/remove", {"reason": "rude"}),
        ("/rooms", {"name": "Second room", "topic": "cases"}),
    ]:
        reply = await owner.call("PUT" if path.endswith("role") else "POST", C + path, body)
        assert reply.status_code in (200, 201, 204), reply.text
    renamed = await bob.call("PATCH", "/api/profile", {"name": "Bob B."})
    assert renamed.status_code == 200, renamed.text
    edited = await owner.call("PATCH", C, {"name": "The Guild", "domain": "Bridges",
                                           "purpose": "Build well", "description": "*hi*",
                                           "join_policy": "approval"})
    assert edited.status_code == 200, edited.text

    streams = list(first)
    store = server.practica.store
    for stream in streams:  # every committed event has reached the watcher
        head = await store.head(stream)
        await watcher.wait_for(lambda f, s=stream, h=head: f["type"] == "event"
                               and f["stream"] == s and f["seq"] == h)
    fresh_ws = await owner.connect(server.ws_url)
    fresh = {s["stream"]: s for s in (await fresh_ws.identify(community="guild"))["syncs"]}
    fresh[f"room:{room}"] = (await fresh_ws.command("join", room=room))["sync"]
    result = {stream: {"first": {**first[stream], "events": watcher.events(stream)},
                       "fresh": fresh[stream]} for stream in streams}
    for socket in [watcher, fresh_ws, *(ws for _, ws in people)]:
        await socket.close()
    return result
