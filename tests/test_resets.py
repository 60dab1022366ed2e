"""Password-reset links over HTTP, on both backends: who may issue one, and every way
a link dies (used, replaced, membership ended, account now elsewhere)."""

from __future__ import annotations

import pytest

from tests.people import PASSWORD, Person

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"])]
NEW = "a brand new passphrase"


async def found(server, community: str, owner: Person | None = None) -> Person:
    owner = owner or await Person.sign_up(server.url, f"Owner of {community}")
    reply = await owner.call("POST", "/api/communities", {
        "community": community, "name": community.title(), "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert reply.status_code == 201, reply.text
    return owner


async def member_of(server, *communities: str) -> tuple[Person, str]:
    person = await Person.sign_up(server.url, "Target Tam")
    for community in communities:
        await person.join(community)
    return person, person.me["account"]["login"]


async def issue(owner: Person, community: str, target: Person):
    return await owner.call(
        "POST", f"/api/communities/{community}/members/{target.id}/password-reset")


async def redeem(server, path: str, password: str = NEW):
    stranger = Person(server.url)
    await stranger.refresh()
    return await stranger.call("POST", "/api/password-resets/" + path.removeprefix("/reset/"),
                               {"password": password})


async def password_is(server, login: str, password: str) -> bool:
    probe = Person(server.url)
    await probe.refresh()
    reply = await probe.call("POST", "/api/signin", {"login": login, "password": password})
    return reply.status_code == 200


async def resets_stored(server) -> int:
    return (await server.practica.store.fetch("SELECT count(*) FROM password_resets"))[0][0]


async def test_an_owner_cannot_reset_a_member_who_belongs_elsewhere(server, backend):
    x_owner = await found(server, "xguild")
    convener, login = await member_of(server, "xguild")
    granted = await x_owner.call("PUT", f"/api/communities/xguild/members/{convener.id}/role",
                                 {"role": "convener"})
    assert granted.status_code == 204, granted.text
    y_owner = await found(server, "yclub")  # anyone can found a community
    await convener.join("yclub")
    refused = await issue(y_owner, "yclub", convener)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "other communities" in refused.json()["message"]
    assert "operator" in refused.json()["message"]
    assert "Xguild" not in refused.json()["message"]  # not where else they are
    assert await resets_stored(server) == 0
    audit = await y_owner.call("GET", "/api/communities/yclub/audit")
    assert audit.json()["entries"][0]["outcome"] == "refused"
    # X's own owner is refused too: the account is in Y as well.
    assert (await issue(x_owner, "xguild", convener)).status_code == 403
    assert await password_is(server, login, PASSWORD)


async def test_a_member_only_here_gets_a_working_one_time_link(server, backend):
    owner = await found(server, "guild")
    target, login = await member_of(server, "guild")
    link = await issue(owner, "guild", target)
    assert link.status_code == 201
    assert (await redeem(server, link.json()["path"])).status_code == 204
    assert await password_is(server, login, NEW)
    again = await redeem(server, link.json()["path"], "yet another passphrase")
    assert again.status_code == 404
    assert await password_is(server, login, NEW)


@pytest.mark.parametrize("ending", ["removed", "left", "removed and rejoined"])
async def test_a_link_dies_when_the_membership_ends(server, backend, ending):
    owner = await found(server, "guild")
    target, login = await member_of(server, "guild")
    link = (await issue(owner, "guild", target)).json()["path"]
    if ending == "left":
        assert (await target.call("POST", "/api/communities/guild/leave")).status_code == 204
    else:
        removed = await owner.call("POST", f"/api/communities/guild/members/{target.id}/remove",
                                   {"reason": "gone"})
        assert removed.status_code == 204, removed.text
        if ending == "removed and rejoined":  # a removal is a ban until a convener lifts it
            lifted = await owner.call(
                "POST", f"/api/communities/guild/removed/{target.id}/lift")
            assert lifted.status_code == 204, lifted.text
            target = await Person.sign_in(server.url, login)
            await target.join("guild")
    dead = await redeem(server, link)
    assert dead.status_code in (403, 404)
    assert dead.json()["code"] in ("forbidden", "not_found")
    assert await password_is(server, login, PASSWORD)
    assert (await redeem(server, link)).status_code == 404  # and it stays dead


async def test_a_link_dies_when_the_account_joins_another_community(server, backend):
    owner = await found(server, "guild")
    await found(server, "other")
    target, login = await member_of(server, "guild")
    link = (await issue(owner, "guild", target)).json()["path"]
    await target.join("other")
    dead = await redeem(server, link)
    assert (dead.status_code, dead.json()["code"]) == (403, "forbidden")
    assert await password_is(server, login, PASSWORD)


async def test_a_newer_link_kills_the_older_one(server, backend):
    owner = await found(server, "guild")
    target, login = await member_of(server, "guild")
    first = (await issue(owner, "guild", target)).json()["path"]
    second = (await issue(owner, "guild", target)).json()["path"]
    assert (await redeem(server, first)).status_code == 404
    assert await password_is(server, login, PASSWORD)
    assert (await redeem(server, second)).status_code == 204
    assert await password_is(server, login, NEW)


async def test_unknown_and_absurd_tokens_are_not_found(server, backend):
    for token in ("nope", "x" * 500):
        reply = await redeem(server, token)
        assert (reply.status_code, reply.json()["code"]) == (404, "not_found")
