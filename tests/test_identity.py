"""Accounts over HTTP against a running server: profile, export, deletion, resets."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.people import DEMO, PASSWORD, Person, signed_in

pytestmark = pytest.mark.anyio
ROOM = "case-review"


async def test_wrong_password_is_refused_without_saying_which_part(server):
    await Person.sign_up(server.url, "Ann", login="ann")
    person = Person(server.url)
    await person.refresh()
    for login in ("ann", "nobody"):
        reply = await person.call("POST", "/api/signin", {"login": login, "password": "wrong"})
        assert reply.json() == {"code": "auth_failed", "message": "wrong login or password"}
    assert (await person.refresh())["account"] is None


async def test_profile_changes_reach_the_communities(server):
    client = await signed_in(server, "Ann")
    reply = await client.person.call("PATCH", "/api/profile", {
        "name": "Dr Ann Lee", "pronouns": "she/her", "timezone": "Pacific/Auckland",
        "practice": "Emergency medicine"})
    assert reply.status_code == 200
    assert reply.json()["timezone"] == "Pacific/Auckland"
    renamed = await client.wait_for(lambda f: f["type"] == "event"
                                    and f["body"]["type"] == "member_renamed")
    assert renamed["body"] == {"type": "member_renamed", "member": client.person.id,
                               "name": "Dr Ann Lee"}
    assert server.practica.folds.community(DEMO).members[client.person.id].name == "Dr Ann Lee"
    # The open socket takes the new name up on its next command: no reconnect needed.
    await client.command("join", room=ROOM)
    posted = await client.command("post", room=ROOM, text="renamed")
    (event,) = await server.practica.store.read(f"room:{ROOM}", after=posted["seq"] - 1)
    assert event.body.author_name == "Dr Ann Lee"
    await client.close()


@pytest.mark.parametrize(("body", "fragment"), [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"name": "   "}, "blank"),
    ({"name": "x" * 65}, "length"),
    ({"nickname": "x"}, "unknown field"),
])
async def test_bad_profile_changes_are_refused_and_change_nothing(server, body, fragment):
    person = await Person.sign_up(server.url, "Ann")
    reply = await person.call("PATCH", "/api/profile", body)
    assert reply.status_code == 400 and fragment in reply.json()["message"]
    assert (await person.refresh())["account"]["name"] == "Ann"
    assert (await person.refresh())["account"]["timezone"] == "UTC"


async def test_export_has_what_they_wrote_as_it_reads_now(server):
    client = await signed_in(server, "Ann")
    await client.command("join", room=ROOM)
    kept = (await client.command("post", room=ROOM, text="first"))["seq"]
    gone = (await client.command("post", room=ROOM, text="oops"))["seq"]
    await client.command("edit", room=ROOM, message=kept, text="first, edited")
    await client.command("delete", room=ROOM, message=gone)
    export = (await client.person.call("GET", "/api/export")).json()
    assert export["profile"]["name"] == "Ann"
    assert [m["community"] for m in export["memberships"]] == [DEMO]
    assert [(m["room"], m["text"]) for m in export["messages"]] == [
        (ROOM, "first, edited"), (ROOM, None)]
    await client.close()


async def test_deleting_the_account_ends_its_sockets_and_frees_the_login(server):
    client = await signed_in(server, "Ann")
    login = client.person.me["account"]["login"]
    wrong = await client.person.call("POST", "/api/account/delete", {"password": "nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "auth_failed")
    reply = await client.person.call("POST", "/api/account/delete", {"password": PASSWORD})
    assert reply.status_code == 204
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next_frame(timeout=1)
    assert closed.value.rcvd.code == 4003
    assert client.person.id not in server.practica.folds.community(DEMO).members
    with pytest.raises(InvalidStatus):
        await client.person.connect(server.ws_url)
    again = await Person.sign_up(server.url, "New Ann", login=login)
    assert again.id != client.person.id


async def test_the_only_owner_cannot_delete_their_account(server):
    owner = await Person.sign_up(server.url, "Olu")
    await owner.call("POST", "/api/communities", {"community": "guild", "name": "Guild",
                                                  "domain": "d", "purpose": "p"})
    reply = await owner.call("POST", "/api/account/delete", {"password": PASSWORD})
    assert (reply.status_code, reply.json()["code"]) == (409, "conflict")
    assert (await owner.refresh())["account"] is not None


async def test_an_owner_hands_over_a_one_time_reset_link(server):
    owner = await Person.sign_up(server.url, "Olu")
    await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    member = await signed_in(server, "Forgetful Fen", community="guild")
    login = member.person.me["account"]["login"]
    refused = await member.person.call(
        "POST", f"/api/communities/guild/members/{owner.id}/password-reset")
    assert refused.status_code == 403
    link = await owner.call("POST",
                            f"/api/communities/guild/members/{member.person.id}/password-reset")
    assert link.status_code == 201
    token = link.json()["path"].removeprefix("/reset/")
    stranger = Person(server.url)
    await stranger.refresh()
    weak = await stranger.call("POST", f"/api/password-resets/{token}", {"password": "short"})
    assert weak.status_code == 400
    done = await stranger.call("POST", f"/api/password-resets/{token}",
                               {"password": "a brand new passphrase"})
    assert done.status_code == 204
    with pytest.raises(ConnectionClosed) as closed:  # old sessions end
        while True:
            await member.next_frame(timeout=1)
    assert closed.value.rcvd.code == 4008
    reused = await stranger.call("POST", f"/api/password-resets/{token}",
                                 {"password": "another passphrase!"})
    assert reused.status_code == 404
    signed = await Person.sign_in(server.url, login, "a brand new passphrase")
    assert signed.id == member.person.id
