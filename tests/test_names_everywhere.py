"""Every way a name enters refuses one that renders as nothing, with a typed ``invalid``
that changes nothing, and stores the others normalized: over HTTP against a running
server, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from server.domain.events import community_stream
from tests.people import DEMO, Person, signed_in

pytestmark = pytest.mark.anyio

BLANK = ["", " ", "\t\n", "\r\n  \r\n", "\u200b\u200c", "\u3164", "\u2800", "\u202e\u2066",
         " \u00ad\u2060\ufeff ", "\u0301", "\u3000\u00a0", "\u200e\u200f\u061c"]


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def refused(reply: Any) -> bool:
    return reply.status_code == 400 and reply.json()["code"] == "invalid"


async def found(server: Any, community: str = "guild") -> Person:
    owner = await Person.sign_up(server.url, "Olu Owner")
    reply = await owner.call("POST", "/api/communities", {
        "community": community, "name": "Guild", "domain": "d", "purpose": "p"})
    assert reply.status_code == 201, reply.text
    return owner


async def heads(server: Any) -> dict[str, int]:
    store = server.practica.store
    return {s: await store.head(s) for s in (*await store.streams("community:"),
                                            *await store.streams("room:"))}


async def test_sign_up_refuses_blank_names_and_newline_logins(server):
    visitor = Person(server.url)
    await visitor.refresh()
    for i, name in enumerate(BLANK):
        reply = await visitor.call("POST", "/api/signup", {
            "login": f"blank{i}", "password": "a long enough password", "name": name})
        assert refused(reply), (name, reply.text)
    for login in ("owner\n", "owner\r\n", "ann\n", "\nann"):
        reply = await visitor.call("POST", "/api/signup", {
            "login": login, "password": "a long enough password", "name": "Ann"})
        assert refused(reply), (login, reply.text)
    rows = await server.practica.store.fetch("SELECT login FROM accounts")
    assert [r[0] for r in rows] == ["owner"]  # only the seeded one
    assert (await visitor.refresh())["account"] is None
    ann = await Person.sign_up(server.url, " \u200b\uff21nn\u202e  Lee\n")
    assert ann.me["account"]["name"] == "Ann Lee"


async def test_profile_refuses_blank_names(server):
    client = await signed_in(server, "Ann")
    person = client.person
    before = await heads(server)
    for name in BLANK:
        reply = await person.call("PATCH", "/api/profile", {"name": name, "pronouns": "she"})
        assert refused(reply), (name, reply.text)
    me = await person.refresh()
    assert (me["account"]["name"], me["account"]["pronouns"]) == ("Ann", "")
    assert await heads(server) == before  # no member_renamed
    assert server.practica.folds.community(DEMO).members[person.id].name == "Ann"
    reply = await person.call("PATCH", "/api/profile", {"name": "\u2066Ann  B\u2069"})
    assert reply.json()["name"] == "Ann B"
    await client.close()


async def test_guests_with_blank_names_are_refused(server):
    owner = await found(server)
    rooms = (await owner.call("POST", "/api/communities/guild/rooms",
                              {"name": "Clinic"})).json()["rooms"]
    link = (await owner.call("POST", "/api/communities/guild/invites",
                             {"kind": "guest", "room": rooms[0]["room"]})).json()
    guest = Person(server.url)
    await guest.refresh()
    for name in BLANK:
        reply = await guest.call("POST", "/api/guest", {"token": link["token"], "name": name})
        assert refused(reply), (name, reply.text)
    assert (await guest.refresh())["guest"] is None
    (invite,) = (await owner.call("GET", "/api/communities/guild/invites")).json()
    assert invite["uses"] == 0
    assert not await server.practica.store.fetch(
        "SELECT id FROM sessions WHERE account IS NULL")
    entered = await guest.call("POST", "/api/guest", {"token": link["token"],
                                                      "name": "\u3164Rosa\u200b "})
    assert entered.status_code == 201 and entered.json()["guest"]["name"] == "Rosa"


async def test_communities_with_blank_names_or_newline_ids_are_refused(server):
    person = await Person.sign_up(server.url, "Olu Owner")
    before = await heads(server)
    for i, name in enumerate(BLANK):
        reply = await person.call("POST", "/api/communities", {
            "community": f"blank-{i}", "name": name, "domain": "d", "purpose": "p"})
        assert refused(reply), (name, reply.text)
    for ident in ("guild\n", DEMO + "\n", "guild\r\n"):
        reply = await person.call("POST", "/api/communities", {
            "community": ident, "name": "Guild", "domain": "d", "purpose": "p"})
        assert refused(reply), (ident, reply.text)
    assert await heads(server) == before
    cards = (await person.call("GET", "/api/communities")).json()
    assert [c["community"] for c in cards] == [DEMO]


async def test_editing_a_community_to_a_blank_name_is_refused(server):
    owner = await found(server)
    stream = community_stream("guild")
    before = await server.practica.store.head(stream)
    for name in BLANK:
        reply = await owner.call("PATCH", "/api/communities/guild", {
            "name": name, "domain": "d2", "purpose": "p2"})
        assert refused(reply), (name, reply.text)
    assert await server.practica.store.head(stream) == before
    state = server.practica.folds.community("guild")
    assert (state.name, state.domain) == ("Guild", "d")
    reply = await owner.call("PATCH", "/api/communities/guild", {
        "name": " \uff27uild\u00ad  Hall ", "domain": "d", "purpose": "p"})
    assert reply.json()["name"] == "Guild Hall"


async def test_rooms_with_blank_names_are_refused(server):
    owner = await found(server)
    before = await heads(server)
    for name in BLANK:
        reply = await owner.call("POST", "/api/communities/guild/rooms", {"name": name})
        assert refused(reply), (name, reply.text)
    assert await heads(server) == before
    assert server.practica.folds.community("guild").rooms == {}
    rooms = (await owner.call("POST", "/api/communities/guild/rooms",
                              {"name": "\u200bClinic\n", "topic": "t"})).json()["rooms"]
    assert [r["name"] for r in rooms] == ["Clinic"]
