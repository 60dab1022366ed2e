"""Guest links to one live session: the guest may read and act in that session only
(and join its room, to be present), not in the room's chat nor another session."""

from __future__ import annotations

import pytest

from tests.people import Person
from tests.test_communities import found
from tests.test_transcripts import SESSION, community_with_session, open_session

pytestmark = pytest.mark.anyio


async def enter(server, token: str, name: str) -> Person:
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": token, "name": name})
    assert entered.status_code == 201, entered.text
    guest.me, guest.csrf = entered.json(), entered.json()["csrf"]
    return guest


async def test_a_session_guest_reads_and_acts_in_that_session_only(server):
    owner, _, room = await community_with_session(server)
    await open_session(server, owner, room, "s-other")
    made = await owner.call("POST", "/api/communities/guild/invites",
                            {"kind": "guest", "session": SESSION, "max_uses": 3})
    assert made.status_code == 201, made.text
    link = made.json()
    assert (link["room"], link["session"], link["path"]) == (
        room, SESSION, f"/guest/{link['token']}")
    preview = (await Person(server.url).call("GET", f"/api/invites/{link['token']}")).json()
    assert (preview["kind"], preview["room"], preview["session"]) == ("guest", room, SESSION)
    listed = (await owner.call("GET", "/api/communities/guild/invites")).json()
    assert [i["session"] for i in listed] == [SESSION]
    guest = await enter(server, link["token"], "Remote Rosa")
    assert guest.me["guest"]["session"] == SESSION and guest.me["guest"]["room"] == room
    assert (await guest.call("GET", f"/api/sessions/{SESSION}/transcript.md")).status_code == 200
    other = await guest.call("GET", "/api/sessions/s-other/transcript.md")
    assert (other.status_code, other.json()["code"]) == (403, "forbidden")
    assert "one session only" in other.json()["message"]
    socket = await guest.connect(server.ws_url)
    ready = await socket.identify()
    assert ready["session"]["role"] == "guest"
    assert (await socket.command("join", room=room))["type"] == "ack"  # present, to follow
    posted = await socket.command("post", room=room, text="hello room")
    assert (posted["code"], "one session only" in posted["message"]) == ("forbidden", True)
    for op in ({"op": "attend"}, {"op": "ask", "text": "From afar?", "anonymous": False},
               {"op": "upvote", "question": 1}, {"op": "say", "text": "hi all"}):
        assert (await socket.command("session", session=SESSION, op=op))["type"] == "ack", op
    for op in ({"op": "attend"}, {"op": "say", "text": "hi there"}):
        elsewhere = await socket.command("session", session="s-other", op=op)
        assert (elsewhere["code"], "one session only" in elsewhere["message"]) == (
            "forbidden", True)
    again = await guest.connect(server.ws_url)  # following both: only theirs is given
    followed = await again.resume({f"session:{SESSION}": 0, "session:s-other": 0},
                                  community="guild")
    modes = {s["stream"]: s["mode"] for s in followed["syncs"]}
    assert modes[f"session:{SESSION}"] != "refused" and modes["session:s-other"] == "refused"
    await again.close()
    await socket.close()
    audit = (await owner.call("GET", "/api/communities/guild/audit")).json()["entries"]
    assert any(e["detail"] == f"guest link to session {SESSION}, 3 uses" for e in audit)


async def test_a_session_link_needs_a_session_of_the_community(server):
    owner, _, _ = await community_with_session(server)
    for body, status in [
        ({"kind": "guest", "session": "s-nowhere"}, 404),
        ({"kind": "member", "session": SESSION}, 400),
        ({"kind": "guest", "session": SESSION, "room": "case-review"}, 400),
        ({"kind": "guest", "session": "Bad Id"}, 400),
    ]:
        reply = await owner.call("POST", "/api/communities/guild/invites", body)
        assert reply.status_code == status, (body, reply.text)
    # A session of another community cannot be handed out from this one.
    stranger = await found(server, "other-guild")
    elsewhere = await stranger.call("POST", "/api/communities/other-guild/invites",
                                    {"kind": "guest", "session": SESSION})
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "not_found")
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    refused = await member.call("POST", "/api/communities/guild/invites",
                                {"kind": "guest", "session": SESSION})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert (await owner.call("GET", "/api/communities/guild/invites")).json() == []
