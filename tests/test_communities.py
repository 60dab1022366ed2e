"""Communities over HTTP against a running server: founding, front pages, joining by
policy, invites, guest links, join requests and the audit log."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.domain.events import community_stream
from tests.people import DEMO, PASSWORD, Person, signed_in

pytestmark = pytest.mark.anyio


async def found(server, community: str = "guild", **fields) -> Person:
    owner = await Person.sign_up(server.url, "Olu Owner")
    reply = await owner.call("POST", "/api/communities", {
        "community": community, "name": "Guild", "domain": "Structural engineering",
        "purpose": "Review each other's designs", "description": "We *check* loads.\n\n"
        "<script>alert(1)</script> [x](javascript:alert(1))", **fields})
    assert reply.status_code == 201, reply.text
    return owner


async def test_front_page_shows_domain_purpose_and_sanitized_description(server):
    owner = await found(server)
    visitor = Person(server.url)
    page = (await visitor.call("GET", "/api/communities/guild")).json()
    assert page["domain"] == "Structural engineering"
    assert page["purpose"] == "Review each other's designs"
    assert "<em>check</em>" in page["description_html"]
    assert "<script" not in page["description_html"]
    assert "javascript:" not in page["description_html"].replace("[x](javascript:", "")
    assert page["your_role"] is None and page["member_count"] == 1
    mine = (await owner.call("GET", "/api/communities/guild")).json()
    assert mine["your_role"] == "owner"
    cards = (await visitor.call("GET", "/api/communities")).json()
    assert {c["community"] for c in cards} == {"guild", DEMO}


async def test_a_community_id_is_taken_once(server):
    await found(server)
    again = await Person.sign_up(server.url, "Copy Cat")
    reply = await again.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild 2", "domain": "d", "purpose": "p"})
    assert (reply.status_code, reply.json()["code"]) == (409, "conflict")
    demo = await again.call("POST", "/api/communities", {
        "community": DEMO, "name": "Mine now", "domain": "d", "purpose": "p"})
    assert demo.status_code == 409
    assert server.practica.folds.community(DEMO).name == "Clinical Practice Circle"


async def test_unknown_community_is_404(server):
    person = await Person.sign_up(server.url, "Ann")
    reply = await person.call("GET", "/api/communities/nowhere")
    assert (reply.status_code, reply.json()["code"]) == (404, "not_found")
    joined = await person.call("POST", "/api/communities/nowhere/join", {})
    assert joined.status_code == 404


async def test_invite_links_expire_run_out_and_can_be_revoked(server):
    owner = await found(server, join_policy="invite")
    made = await owner.call("POST", "/api/communities/guild/invites", {"max_uses": 1})
    token = made.json()["token"]
    assert made.json()["path"] == f"/invite/{token}"
    preview = (await Person(server.url).call("GET", f"/api/invites/{token}")).json()
    assert preview["community_name"] == "Guild" and preview["kind"] == "member"
    first = await Person.sign_up(server.url, "First")
    second = await Person.sign_up(server.url, "Second")
    assert (await first.call("POST", f"/api/invites/{token}/accept")).json() == {
        "outcome": "joined", "role": "member"}
    used_up = await second.call("POST", f"/api/invites/{token}/accept")
    assert (used_up.status_code, used_up.json()["code"]) == (404, "not_found")
    # Revoked and expired links admit nobody either.
    revoked = (await owner.call("POST", "/api/communities/guild/invites", {})).json()
    assert (await owner.call("DELETE",
                             f"/api/communities/guild/invites/{revoked['id']}")).status_code == 204
    assert (await second.call("POST", f"/api/invites/{revoked['token']}/accept")).status_code == 404
    expired = (await owner.call("POST", "/api/communities/guild/invites", {})).json()
    await server.practica.store.execute([("UPDATE invites SET expires = 1 WHERE id = ?",
                                          (expired["id"],))])
    assert (await second.call("POST", f"/api/invites/{expired['token']}/accept")).status_code == 404
    listed = (await owner.call("GET", "/api/communities/guild/invites")).json()
    assert {(i["uses"], i["revoked"]) for i in listed} == {(1, False), (0, True), (0, False)}
    members = server.practica.folds.community("guild").members
    assert first.id in members and second.id not in members


async def test_invite_only_refuses_plain_joins_without_auditing_outsiders(server):
    await found(server, join_policy="invite")
    person = await Person.sign_up(server.url, "Walk In")
    head = await server.practica.store.head("audit:guild")
    reply = await person.call("POST", "/api/communities/guild/join", {})
    assert (reply.status_code, reply.json()["code"]) == (403, "forbidden")
    # Not a member: limited per address, but kept out of the community's audit log.
    assert await server.practica.store.head("audit:guild") == head


async def test_join_requests_wait_for_a_convener(server):
    owner = await found(server, join_policy="approval")
    asker = await Person.sign_up(server.url, "Asha")
    asked = await asker.call("POST", "/api/communities/guild/join", {"note": "ICU nurse"})
    assert asked.json() == {"outcome": "requested", "role": None}
    assert (await asker.call("GET", "/api/communities/guild")).json()["request_pending"]
    pending = (await owner.call("GET", "/api/communities/guild/requests")).json()
    assert [(p["name"], p["note"]) for p in pending] == [("Asha", "ICU nurse")]
    refused = await asker.call("POST", f"/api/communities/guild/requests/{asker.id}/approve")
    assert refused.status_code == 403  # not a convener (not even a member yet)
    approved = await owner.call("POST", f"/api/communities/guild/requests/{asker.id}/approve")
    assert approved.status_code == 204
    assert (await asker.call("GET", "/api/communities/guild")).json()["your_role"] == "member"
    again = await owner.call("POST", f"/api/communities/guild/requests/{asker.id}/approve")
    assert again.status_code == 404


async def test_a_guest_attends_one_room_and_nothing_more(server):
    owner = await found(server)
    rooms = (await owner.call("POST", "/api/communities/guild/rooms",
                              {"name": "Clinic"})).json()["rooms"]
    await owner.call("POST", "/api/communities/guild/rooms", {"name": "Back office"})
    room = rooms[0]["room"]
    other_room = next(r for r in server.practica.folds.community("guild").rooms if r != room)
    link = (await owner.call("POST", "/api/communities/guild/invites",
                             {"kind": "guest", "room": room, "max_uses": 5})).json()
    assert link["path"] == f"/guest/{link['token']}"
    guest = Person(server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link["token"],
                                                      "name": "Remote Rosa"})
    assert entered.status_code == 201, entered.text
    guest.me, guest.csrf = entered.json(), entered.json()["csrf"]
    assert guest.me["guest"]["room"] == room and guest.me["account"] is None
    socket = await guest.connect(server.ws_url)
    ready = await socket.identify(community=DEMO)  # a guest always lands in their link's
    assert ready["session"]["role"] == "guest" and ready["session"]["guest_room"] == room
    assert ready["syncs"] == []  # no community stream: rooms and members are not theirs
    assert (await socket.command("join", room=room))["type"] == "ack"
    assert (await socket.command("post", room=room, text="hello from afar"))["type"] == "ack"
    for command, fields in [("join", {"room": other_room}), ("join", {"room": "case-review"}),
                            ("history", {"room": other_room})]:
        refused = await socket.command(command, **fields)
        assert refused["code"] == "forbidden", (command, fields)
    for method, path in [("GET", "/api/sessions"), ("POST", "/api/communities/guild/join"),
                         ("GET", "/api/communities/guild/requests")]:
        reply = await guest.call(method, path, {} if method == "POST" else None)
        assert reply.status_code in (401, 403), (path, reply.text)
    await socket.close()


async def test_guest_links_need_a_room_of_the_community(server):
    owner = await found(server)
    reply = await owner.call("POST", "/api/communities/guild/invites",
                             {"kind": "guest", "room": "case-review"})
    assert (reply.status_code, reply.json()["code"]) == (400, "invalid")


async def test_the_last_owner_cannot_leave_but_a_member_can(server):
    owner = await found(server, join_policy="open")
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    stuck = await owner.call("POST", "/api/communities/guild/leave")
    assert (stuck.status_code, stuck.json()["code"]) == (409, "conflict")
    assert (await member.call("POST", "/api/communities/guild/leave")).status_code == 204
    assert member.id not in server.practica.folds.community("guild").members


async def test_the_audit_log_pages_newest_first_for_conveners_only(server):
    owner = await found(server, join_policy="open")
    member = await signed_in(server, "Mo", community="guild")
    for i in range(5):
        await owner.call("POST", "/api/communities/guild/rooms", {"name": f"Room {i}"})
    page = (await owner.call("GET", "/api/communities/guild/audit?limit=3")).json()
    assert [e["detail"] for e in page["entries"]] == ["Room 4", "Room 3", "Room 2"]
    assert page["has_more"] and page["entries"][0]["actor_name"] == "Olu Owner"
    older = (await owner.call(
        "GET", f"/api/communities/guild/audit?limit=3&before={page['entries'][-1]['seq']}")).json()
    assert [e["detail"] for e in older["entries"]][:2] == ["Room 1", "Room 0"]
    refused = await member.person.call("GET", "/api/communities/guild/audit")
    assert refused.status_code == 403
    bad = await owner.call("GET", "/api/communities/guild/audit?limit=lots")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
    await member.close()


async def test_editing_the_community_reaches_members_live(server):
    owner = await found(server, join_policy="open")
    member = await signed_in(server, "Mo", community="guild")
    reply = await owner.call("PATCH", "/api/communities/guild", {
        "name": "Guild of Checkers", "domain": "Loads", "purpose": "Fewer collapses",
        "description": "**Bold** claims", "join_policy": "approval"})
    assert reply.status_code == 200 and "<strong>Bold</strong>" in reply.json()["description_html"]
    edited = await member.wait_for(lambda f: f["type"] == "event"
                                   and f["body"]["type"] == "community_edited")
    assert edited["body"]["name"] == "Guild of Checkers"
    head = await server.practica.store.head(community_stream("guild"))
    refused = await member.person.call("PATCH", "/api/communities/guild", {
        "name": "Mine", "domain": "d", "purpose": "p"})
    assert refused.status_code == 403
    assert await server.practica.store.head(community_stream("guild")) == head
    await member.close()


async def test_hosts_see_and_revoke_guest_links_but_not_member_invites(server):
    owner = await found(server, join_policy="open")
    host = await Person.sign_up(server.url, "Hana Host")
    await host.join("guild")
    await owner.call("PUT", f"/api/communities/guild/members/{host.id}/role", {"role": "host"})
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    member_invite = (await owner.call("POST", "/api/communities/guild/invites", {})).json()
    guest_link = (await host.call("POST", "/api/communities/guild/invites",
                                  {"kind": "guest", "room": room})).json()
    listed = (await host.call("GET", "/api/communities/guild/invites")).json()
    assert [i["id"] for i in listed] == [guest_link["id"]]
    refused = await host.call("DELETE", f"/api/communities/guild/invites/{member_invite['id']}")
    assert refused.status_code == 403
    revoked = await host.call("DELETE", f"/api/communities/guild/invites/{guest_link['id']}")
    assert revoked.status_code == 204
    assert len((await owner.call("GET", "/api/communities/guild/invites")).json()) == 2


async def test_a_timeout_can_be_lifted_and_the_audit_keeps_names_of_people_who_left(server):
    owner = await found(server, join_policy="open")
    member = await Person.sign_up(server.url, "Tess")
    await member.join("guild")
    path = f"/api/communities/guild/members/{member.id}"
    await owner.call("POST", f"{path}/timeout", {"minutes": 30, "reason": "heated"})
    assert server.practica.folds.community("guild").members[member.id].timed_out_until > 0
    assert (await owner.call("POST", f"{path}/timeout", {"minutes": 0})).status_code == 204
    socket = await member.connect(server.ws_url)
    await socket.identify(community="guild")
    await socket.command("join", room=(await owner.call(
        "POST", "/api/communities/guild/rooms", {"name": "Desk"})).json()["rooms"][0]["room"])
    room = next(iter(server.practica.folds.community("guild").rooms))
    assert (await socket.command("post", room=room, text="back"))["type"] == "ack"
    await socket.close()
    await owner.call("POST", f"{path}/remove", {"reason": "moved away"})
    entries = (await owner.call("GET", "/api/communities/guild/audit")).json()["entries"]
    assert [(e["action"], e["target_name"], e["detail"]) for e in entries[:3]] == [
        ("remove_member", "Tess", "moved away"), ("create_room", "Desk", "Desk"),
        ("timeout_member", "Tess", "lifted")]


BACKENDS = ["sqlite", "postgres+redis"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_revoking_a_guest_link_ends_the_sessions_entered_through_it(server, backend):
    owner = await found(server, join_policy="open")
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    guests = []
    for name in ("Vera", "Wim"):
        link = (await owner.call("POST", "/api/communities/guild/invites",
                                 {"kind": "guest", "room": room})).json()
        guest = Person(server.url)
        await guest.refresh()
        entered = await guest.call("POST", "/api/guest", {"token": link["token"], "name": name})
        guest.csrf = entered.json()["csrf"]
        socket = await guest.connect(server.ws_url)
        await socket.identify()
        guests.append((guest, socket, link))
    (vera, vera_socket, vera_link), (_, wim_socket, _) = guests
    revoked = await owner.call("DELETE", f"/api/communities/guild/invites/{vera_link['id']}")
    assert revoked.status_code == 204
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await vera_socket.next_frame(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
    assert (await vera.refresh())["guest"] is None  # the cookie stands for nothing now
    with pytest.raises(InvalidStatus):
        await vera.connect(server.ws_url)
    latecomer = Person(server.url)
    await latecomer.refresh()
    again = await latecomer.call("POST", "/api/guest", {"token": vera_link["token"],
                                                        "name": "Vera again"})
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    # The other link's guest is untouched.
    assert (await wim_socket.command("join", room=room))["type"] == "ack"
    entry = (await owner.call("GET", "/api/communities/guild/audit")).json()["entries"][0]
    assert entry["detail"] == "revoked; 1 guest session(s) ended"
    await wim_socket.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_two_owners_leaving_at_the_same_moment_leave_one_owner(server, backend):
    for round_ in range(3):
        community = f"guild-{round_}"
        first = await found(server, community, join_policy="open")
        second = await Person.sign_up(server.url, "Second Owner")
        await second.join(community)
        path = f"/api/communities/{community}"
        made = await first.call("PUT", f"{path}/members/{second.id}/role", {"role": "owner"})
        assert made.status_code == 204, made.text
        head = await server.practica.store.head(community_stream(community))
        replies = await asyncio.gather(first.call("POST", f"{path}/leave"),
                                       second.call("POST", f"{path}/leave"))
        assert sorted(r.status_code for r in replies) == [204, 409], [r.text for r in replies]
        refused = next(r for r in replies if r.status_code == 409)
        assert refused.json()["code"] == "conflict" and "only owner" in refused.json()["message"]
        state = server.practica.folds.community(community)
        assert len(state.owners()) == 1
        assert await server.practica.store.head(community_stream(community)) == head + 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_owner_deleting_their_account_while_the_other_leaves_leaves_one_owner(
        server, backend):
    first = await found(server, join_policy="open")
    second = await Person.sign_up(server.url, "Second Owner")
    await second.join("guild")
    await first.call("PUT", f"/api/communities/guild/members/{second.id}/role",
                     {"role": "owner"})
    replies = await asyncio.gather(
        first.call("POST", "/api/account/delete", {"password": PASSWORD}),
        second.call("POST", "/api/communities/guild/leave"))
    assert sorted(r.status_code for r in replies) == [204, 409], [r.text for r in replies]
    assert len(server.practica.folds.community("guild").owners()) == 1


async def test_creating_rooms_with_the_same_name_answers_each_new_rooms_id(server):
    owner = await found(server)
    made = []
    for _ in range(2):
        reply = await owner.call("POST", "/api/communities/guild/rooms", {"name": "Clinic"})
        assert reply.status_code == 201
        made.append(reply.json())
    first, second = made[0]["room"], made[1]["room"]
    assert first != second
    names = {r["room"]: r["name"] for r in made[1]["rooms"]}  # still the whole page too
    assert names[first] == names[second] == "Clinic"


REFUSE_AUDIT = {  # makes appending an audit entry fail, as a crash would
    "sqlite": ("CREATE TEMP TRIGGER no_audit BEFORE INSERT ON events WHEN NEW.stream LIKE"
               " 'audit:%' BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
               "DROP TRIGGER temp.no_audit"),
    "postgres": ("ALTER TABLE events ADD CONSTRAINT no_audit CHECK (stream NOT LIKE 'audit:%')"
                 " NOT VALID", "ALTER TABLE events DROP CONSTRAINT no_audit"),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_privileged_change_and_its_audit_entry_are_written_together(server, backend):
    owner = await found(server, join_policy="open")
    member = await Person.sign_up(server.url, "Mo")
    await member.join("guild")
    store = server.practica.store
    community_head, audit_head = (await store.head(community_stream("guild")),
                                  await store.head("audit:guild"))
    refuse, allow = REFUSE_AUDIT[backend]
    await store.execute([(refuse, ())])  # the audit entry cannot be written (a crash)
    path = f"/api/communities/guild/members/{member.id}"
    failed = [await owner.call("PUT", f"{path}/role", {"role": "host"}),
              await owner.call("POST", f"{path}/timeout", {"minutes": 5, "reason": "x"}),
              await owner.call("POST", "/api/communities/guild/rooms", {"name": "Side"})]
    assert all(reply.status_code >= 500 for reply in failed), [r.text for r in failed]
    # Neither the change nor its entry: the community is as it was.
    assert await store.head(community_stream("guild")) == community_head
    assert await store.head("audit:guild") == audit_head
    state = server.practica.folds.community("guild")
    assert state.members[member.id].role == "member" and not state.rooms
    await store.execute([(allow, ())])
    assert (await owner.call("PUT", f"{path}/role", {"role": "host"})).status_code == 204
    assert await store.head(community_stream("guild")) == community_head + 1
    assert await store.head("audit:guild") == audit_head + 1
