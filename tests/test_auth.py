"""Signing in and out, cookies, CSRF, rate limits, and what ends a socket: over real
sockets against a running server."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.domain.events import RoleChanged, community_stream
from tests.people import DEMO, PASSWORD, Person, signed_in
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
ROOM = "case-review"


async def closed_code(client: Client, within: float = 1.0) -> tuple[int, str]:
    """Wait (at most ``within`` seconds) for the server to close the socket."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next_frame(timeout=within - (time.monotonic() - started))
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def founded(server, community: str = "guild", **fields) -> Person:
    owner = await Person.sign_up(server.url, "Olu Owner")
    reply = await owner.call("POST", "/api/communities", {
        "community": community, "name": "Guild", "domain": "Structural engineering",
        "purpose": "Review each other's designs", "join_policy": "open", **fields})
    assert reply.status_code == 201, reply.text
    return owner


# --- the websocket upgrade -------------------------------------------------------------


async def test_upgrade_without_a_session_is_refused_with_403(server):
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(server.ws_url)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as forged:
        await websockets.connect(server.ws_url,
                                 additional_headers={"Cookie": "practica_session=" + "x" * 43})
    assert forged.value.response.status_code == 403


@pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"])
async def test_sign_out_closes_the_socket_within_a_second(server, backend):
    client = await signed_in(server, "Ann")
    other_tab = await client.person.connect(server.ws_url)
    reply = await client.person.call("POST", "/api/signout")
    assert reply.status_code == 204
    assert (await closed_code(client))[0] == 4008
    assert (await closed_code(other_tab))[0] == 4008
    with pytest.raises(InvalidStatus):  # the cookie no longer opens a socket
        await client.person.connect(server.ws_url)


async def test_revoking_another_session_closes_only_its_sockets(server):
    laptop = await signed_in(server, "Ann")
    phone_person = await Person.sign_in(server.url, laptop.person.me["account"]["login"])
    phone = await phone_person.connect(server.ws_url)
    await phone.identify(community=DEMO)
    sessions = (await laptop.person.call("GET", "/api/sessions")).json()
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s["id"] for s in sessions if not s["current"])
    assert (await laptop.person.call("DELETE", f"/api/sessions/{other}")).status_code == 204
    assert (await closed_code(phone))[0] == 4008
    assert (await laptop.command("join", room=ROOM))["type"] == "ack"  # untouched
    missing = await laptop.person.call("DELETE", f"/api/sessions/{other}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    await laptop.close()


async def test_role_is_checked_on_every_command_not_only_at_connect(server):
    owner = await founded(server)
    host = await Person.sign_up(server.url, "Hana Host")
    await host.join("guild")
    page = await owner.call("POST", "/api/communities/guild/rooms", {"name": "Desk"})
    room = page.json()["rooms"][0]["room"]
    await owner.call("PUT", f"/api/communities/guild/members/{host.id}/role", {"role": "host"})
    poster = await signed_in(server, "Pat", community="guild")
    await poster.command("join", room=room)
    first = (await poster.command("post", room=room, text="one"))["seq"]
    second = (await poster.command("post", room=room, text="two"))["seq"]
    socket = await host.connect(server.ws_url)
    assert (await socket.identify(community="guild"))["session"]["role"] == "host"
    await socket.command("join", room=room)
    assert (await socket.command("delete", room=room, message=first))["type"] == "ack"
    # The role changes under the open socket (no close sent): the next command knows.
    await server.practica.store.append(community_stream("guild"), owner.id,
                                       [RoleChanged(member=host.id, role="member")])
    head = await server.practica.store.head(f"room:{room}")
    refused = await socket.command("delete", room=room, message=second)
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    assert refused["message"] == "a member may not moderate messages"
    assert await server.practica.store.head(f"room:{room}") == head
    await socket.close()
    await poster.close()


async def test_revoking_a_role_closes_the_sockets_and_resume_brings_the_new_role(server):
    owner = await founded(server)
    host = await Person.sign_up(server.url, "Hana Host")
    await host.join("guild")
    await owner.call("PUT", f"/api/communities/guild/members/{host.id}/role", {"role": "host"})
    socket = await host.connect(server.ws_url)
    first = await socket.identify(community="guild")
    assert "moderate_messages" in first["session"]["actions"]
    reply = await owner.call("PUT", f"/api/communities/guild/members/{host.id}/role",
                             {"role": "member"})
    assert reply.status_code == 204
    assert await closed_code(socket) == (4009, "your role is now member")
    again = await host.connect(server.ws_url)
    ready = await again.resume({"community:guild": 0}, community="guild")
    assert ready["session"]["role"] == "member"
    assert "moderate_messages" not in ready["session"]["actions"]  # what to show, refreshed
    assert "post" in ready["session"]["actions"]
    await again.close()


async def test_removed_member_is_told_why_and_cannot_come_back(server):
    owner = await founded(server)
    member = await signed_in(server, "Rae", community="guild")
    reply = await owner.call("POST", f"/api/communities/guild/members/{member.person.id}/remove",
                             {"reason": "shared patient details"})
    assert reply.status_code == 204
    code, reason = await closed_code(member)
    assert (code, reason) == (4010, "removed from Guild: shared patient details")
    again = await member.person.connect(server.ws_url)
    refused = await again.identify(community="guild")
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    await again.close()


async def test_timed_out_member_sees_why_and_cannot_post_until_it_ends(server):
    owner = await founded(server)
    member = await signed_in(server, "Tim", community="guild")
    page = await owner.call("POST", "/api/communities/guild/rooms", {"name": "Desk"})
    room = page.json()["rooms"][0]["room"]
    await member.command("join", room=room)
    reply = await owner.call("POST", f"/api/communities/guild/members/{member.person.id}/timeout",
                             {"minutes": 10, "reason": "cool down"})
    assert reply.status_code == 204
    told = await member.wait_for(lambda f: f["type"] == "event"
                                 and f["body"]["type"] == "member_timed_out")
    assert told["body"]["reason"] == "cool down" and told["body"]["until"] > time.time() * 1000
    refused = await member.command("post", room=room, text="but")
    assert refused["code"] == "forbidden"
    assert refused["message"] == "timed out: you may post again in 10 min"
    await member.close()


# --- HTTP: cookies, CSRF, rate limits ----------------------------------------------------


@pytest.mark.settings(trusted_proxies=("127.0.0.1",))  # the test client is the "proxy"
async def test_session_cookie_flags(server):
    person = Person(server.url)
    await person.refresh()
    async with httpx2.AsyncClient(base_url=server.url, cookies=person.cookies) as http:
        reply = await http.post("/api/signup", headers={"x-csrf-token": person.csrf}, json={
            "login": "flagged", "password": PASSWORD, "name": "Flag"})
        assert reply.status_code == 201
        cookies = {c.split("=", 1)[0]: c.lower() for c in reply.headers.get_list("set-cookie")}
        session = cookies["practica_session"]
        assert "httponly" in session and "samesite=lax" in session and "path=/" in session
        assert "secure" not in session  # plain http here
        assert "httponly" not in cookies["practica_csrf"]  # the page reads it
        behind_tls = await http.post("/api/signin", headers={
            "x-csrf-token": reply.json()["csrf"], "x-forwarded-proto": "https"},
            json={"login": "flagged", "password": PASSWORD})
        assert behind_tls.status_code == 200
        session = next(c.lower() for c in behind_tls.headers.get_list("set-cookie")
                       if c.startswith("practica_session="))
        assert "; secure" in session


@pytest.mark.settings(secure_cookies=True)
async def test_secure_cookies_setting_marks_them_secure_on_http_too(server):
    person = Person(server.url)
    async with httpx2.AsyncClient(base_url=server.url) as http:
        me = await http.get("/api/me")
        assert "; secure" in me.headers["set-cookie"].lower()
    assert person.csrf == ""


@pytest.mark.parametrize(("headers", "why"), [
    ({}, "missing"),
    ({"x-csrf-token": "not-the-token"}, "wrong"),
    ({"origin": "https://evil.example"}, "foreign origin"),
])
async def test_state_changes_without_the_right_csrf_token_are_refused(server, headers, why):
    person = await Person.sign_up(server.url, "Cass")
    if "origin" in headers:
        headers = {**headers, "x-csrf-token": person.csrf}
    before = await server.practica.store.head(community_stream(DEMO))
    reply = await person.call("POST", f"/api/communities/{DEMO}/join", {}, headers=headers)
    assert (reply.status_code, reply.json()["code"]) == (403, "csrf_failed"), why
    assert await server.practica.store.head(community_stream(DEMO)) == before
    assert person.me["memberships"] == (await person.refresh())["memberships"] == []


async def test_csrf_token_must_belong_to_the_session(server):
    ann = await Person.sign_up(server.url, "Ann")
    bob = await Person.sign_up(server.url, "Bob")
    # Bob's cookie jar with Ann's token in both the header and the csrf cookie.
    bob.cookies["practica_csrf"] = ann.csrf
    reply = await bob.call("POST", "/api/signout", headers={"x-csrf-token": ann.csrf})
    assert (reply.status_code, reply.json()["code"]) == (403, "csrf_failed")
    assert (await bob.call("GET", "/api/me")).json()["account"] is not None


@pytest.mark.settings(signin_failures_per_account=3, signin_failures_per_address=1000)
async def test_sign_in_is_rate_limited_per_account(server):
    await Person.sign_up(server.url, "Ann", login="ann")
    person = Person(server.url)
    await person.refresh()
    for _ in range(3):
        wrong = await person.call("POST", "/api/signin", {"login": "ann", "password": "nope"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "auth_failed")
    limited = await person.call("POST", "/api/signin", {"login": "ANN", "password": PASSWORD})
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    other = await Person.sign_up(server.url, "Bob", login="bob")  # other logins are fine
    assert other.me["account"]["login"] == "bob"


@pytest.mark.settings(signin_failures_per_account=1000, signin_failures_per_address=4)
async def test_sign_in_is_rate_limited_per_address(server):
    person = Person(server.url)
    await person.refresh()
    for i in range(4):
        wrong = await person.call("POST", "/api/signin", {"login": f"who{i}", "password": "x"})
        assert wrong.status_code == 401
    limited = await person.call("POST", "/api/signin", {"login": "who9", "password": "x"})
    assert limited.status_code == 429


async def test_passwords_are_stored_as_argon2id_with_enough_memory_and_time(server):
    person = await Person.sign_up(server.url, "Ann")
    ((stored,),) = await server.practica.store.fetch(
        "SELECT password_hash FROM accounts WHERE id = ?", (person.id,))
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert PASSWORD not in stored


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"login": "ann", "password": "short", "name": "Ann"}, 400, "invalid"),
    ({"login": "has space", "password": PASSWORD, "name": "Ann"}, 400, "invalid"),
    ({"login": "ann", "password": PASSWORD}, 400, "invalid"),
    ({"login": "ann", "password": PASSWORD, "name": "Ann", "admin": True}, 400, "invalid"),
])
async def test_bad_sign_ups_are_refused_and_create_nothing(server, body, status, code):
    person = Person(server.url)
    await person.refresh()
    reply = await person.call("POST", "/api/signup", body)
    assert (reply.status_code, reply.json()["code"]) == (status, code)
    assert await server.practica.store.fetch("SELECT count(*) FROM accounts WHERE login = ?",
                                             ("ann",)) == [(0,)]


async def test_a_taken_login_is_a_conflict(server):
    await Person.sign_up(server.url, "Ann", login="ann")
    person = Person(server.url)
    await person.refresh()
    reply = await person.call("POST", "/api/signup",
                              {"login": "ANN", "password": PASSWORD, "name": "Other Ann"})
    assert (reply.status_code, reply.json()["code"]) == (409, "conflict")


async def test_responses_carry_a_csp_that_forbids_inline_script(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        for path in ("/", "/api/me", "/c/clinical-practice-circle"):
            csp = (await http.get(path)).headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp


async def test_a_session_that_expires_while_connected_is_closed_on_its_next_frame(server):
    person = await Person.sign_up(server.url, "Ann")
    await person.join(DEMO)
    soon = int(time.time() * 1000) + 1500
    await server.practica.store.execute([("UPDATE sessions SET expires = ? WHERE account = ?",
                                          (soon, person.id))])
    client = await person.connect(server.ws_url)
    assert (await client.identify(community=DEMO))["type"] == "ready"
    await asyncio.sleep(1.6)
    await client.send({"type": "heartbeat"})
    assert await closed_code(client) == (4003, "session expired; sign in again")
    with pytest.raises(InvalidStatus):
        await person.connect(server.ws_url)


@pytest.mark.settings(refusals_per_minute=3)
async def test_refusals_are_audited_until_they_become_a_flood(server):
    poster = await signed_in(server, "Pat")
    await poster.command("join", room=ROOM)
    message = (await poster.command("post", room=ROOM, text="mine"))["seq"]
    member = await signed_in(server, "Max")
    await member.command("join", room=ROOM)
    replies = [await member.command("delete", room=ROOM, message=message) for _ in range(5)]
    assert [r["code"] for r in replies] == ["forbidden"] * 3 + ["rate_limited"] * 2
    audit = await server.practica.store.read(f"audit:{DEMO}")
    assert sum(e.actor == member.person.id for e in audit) == 3
    await poster.close()
    await member.close()
