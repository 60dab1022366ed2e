"""A community with a room, its owner (who runs sessions) and members, over a real
server: the setting of the live-session tests."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.people import Person
from tests.wsclient import Client

_refs = itertools.count(1)


@dataclass
class Circle:
    server: Any
    community: str
    room: str
    host: Person
    host_ws: Client
    members: list[tuple[Person, Client]] = field(default_factory=list)


async def circle(server: Any, members: int = 2, community: str = "guild",
                 ws_url: str | None = None) -> Circle:
    """An open community with one room; its owner and ``members`` members connected."""
    owner = await Person.sign_up(server.url, "Olga Host")
    made = await owner.call("POST", "/api/communities", {
        "community": community, "name": "Guild", "domain": "Bridges", "purpose": "Build",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    reply = await owner.call("POST", f"/api/communities/{community}/rooms", {"name": "Hall"})
    assert reply.status_code == 201, reply.text
    room = reply.json()["rooms"][0]["room"]
    host_ws = await owner.connect(ws_url or server.ws_url)
    await host_ws.identify(community=community)
    found = Circle(server, community, room, owner, host_ws)
    for name in ["Ann Asker", "Bob Voter", "Cy Third", "Di Fourth"][:members]:
        found.members.append(await member(server, community, name, ws_url))
    return found


async def member(server: Any, community: str, name: str, ws_url: str | None = None,
                 other: Any = None) -> tuple[Person, Client]:
    """A new member (joined through ``server``), connected to ``ws_url`` (of ``other``,
    another process, once it has folded their admission)."""
    person = await Person.sign_up(server.url, name)
    await person.join(community)
    if other is not None:
        await until(lambda: person.id in other.practica.folds.community(community).members,
                    "the other process knows the new member")
    socket = await person.connect(ws_url or server.ws_url)
    ready = await socket.identify(community=community)
    assert ready["type"] == "ready", ready
    return person, socket


async def until(check: Any, what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def op(client: Client, session: str | None, name: str, **fields: Any) -> dict[str, Any]:
    """Send one session op; its ack or error."""
    frame: dict[str, Any] = {"op": {"op": name, **fields}}
    if session is not None:
        frame["session"] = session
    return await client.command("session", **frame)


async def open_session(c: Circle, **fields: Any) -> str:
    ack = await op(c.host_ws, None, "open", room=c.room, title="Thursday hour", **fields)
    assert ack["type"] == "ack", ack
    return str(ack["stream"]).partition(":")[2]


async def attend(client: Client, session: str) -> dict[str, Any]:
    """Attend (and follow) a session; the ack's sync."""
    ack = await op(client, session, "attend")
    assert ack["type"] == "ack", ack
    return dict(ack["sync"])
