"""The audit log names what it mentions: members, rooms, invite and guest links, guests
and people who left, never a bare id."""

from __future__ import annotations

import re

import pytest

from tests.people import Person
from tests.test_communities import found

pytestmark = pytest.mark.anyio
BARE_ID = re.compile(r"^[migs]-[0-9a-f]{6,}$")


async def test_links_guests_rooms_and_former_members_are_named(server):
    owner = await found(server, join_policy="open")
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    invite = (await owner.call("POST", "/api/communities/guild/invites", {})).json()
    link = (await owner.call("POST", "/api/communities/guild/invites",
                             {"kind": "guest", "room": room})).json()
    assert (await owner.call("DELETE", f"/api/communities/guild/invites/{invite['id']}")
            ).status_code == 204
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link["token"],
                                                      "name": "Remote Rosa"})
    guest.me, guest.csrf = entered.json(), entered.json()["csrf"]
    guest_socket = await guest.connect(server.ws_url)
    await guest_socket.identify(community="guild")
    await guest_socket.command("join", room=room)
    posted = await guest_socket.command("post", room=room, text="hello")
    owner_socket = await owner.connect(server.ws_url)
    await owner_socket.identify(community="guild")
    await owner_socket.command("join", room=room)
    assert (await owner_socket.command("delete", room=room, message=posted["seq"]))["type"] == "ack"
    await guest_socket.close()
    await owner_socket.close()
    leaver = await Person.sign_up(server.url, "Lee Leaver")
    await leaver.join("guild")
    await owner.call("POST", f"/api/communities/guild/members/{leaver.id}/remove", {})

    entries = (await owner.call("GET", "/api/communities/guild/audit")).json()["entries"]
    named = {(e["action"], e["target_name"]) for e in entries}
    assert ("invite_members", "member invite link") in named
    assert ("create_guest_link", "guest link to #Clinic") in named
    assert ("moderate_messages", "Remote Rosa (guest)") in named
    deleted = next(e for e in entries if e["action"] == "moderate_messages")
    assert deleted["detail"] == f"deleted message {posted['seq']} in #Clinic"
    assert ("remove_member", "Lee Leaver") in named
    assert ("create_room", "Clinic") in named
    assert ("create_community", "Guild") in named
    for entry in entries:
        for name in (entry["actor_name"], entry["target_name"]):
            assert name is None or not BARE_ID.match(name), entry
        assert entry["target"] is None or entry["target_name"], entry
