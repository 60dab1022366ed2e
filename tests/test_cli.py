"""The command line: making an owner for a community that has none; password resets."""

from __future__ import annotations

import asyncio

import pytest

from server.cli import main
from server.passwords import hash_token
from tests.conftest import make_settings, running_server
from tests.people import DEMO, Person

pytestmark = pytest.mark.anyio


async def test_make_owner_gives_a_community_an_owner_while_the_server_is_stopped(
        tmp_path, capsys):
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        person = await Person.sign_up(server.url, "Operator Olga", login="olga")
    url = settings.database_url
    assert await asyncio.to_thread(main, ["make-owner", "nobody", "--database", url]) == 1
    assert await asyncio.to_thread(
        main, ["make-owner", "olga", "--community", "nowhere", "--database", url]) == 1
    assert await asyncio.to_thread(
        main, ["make-owner", "OLGA", "--community", DEMO, "--database", url]) == 0
    assert "OLGA is now an owner of Clinical Practice Circle" in capsys.readouterr().out
    async with running_server(make_settings(tmp_path)) as server:
        state = server.practica.folds.community(DEMO)
        assert state.members[person.id].role == "owner"
        audit = await server.practica.store.read(f"audit:{DEMO}")
        assert audit[-1].body.action == "make_owner" and audit[-1].actor is None
        person.base_url = server.url  # the same session, on the restarted server
        page = await person.call("GET", f"/api/communities/{DEMO}")
        assert page.json()["your_role"] == "owner"
    assert await asyncio.to_thread(
        main, ["make-owner", "olga", "--community", DEMO, "--database", url]) == 0
    assert "already an owner" in capsys.readouterr().out


async def test_reset_password_prints_a_link_that_works_once(tmp_path, capsys):
    settings = make_settings(tmp_path)
    url = settings.database_url
    async with running_server(settings) as server:
        owner = await Person.sign_up(server.url, "Owner Oz")
        await owner.call("POST", "/api/communities", {
            "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
            "join_policy": "open"})
        target = await Person.sign_up(server.url, "Busy Bea", login="bea")
        await target.join("guild")
        owners_link = (await owner.call(
            "POST", f"/api/communities/guild/members/{target.id}/password-reset")).json()
        await target.join(DEMO)  # now in two communities: only the operator can reset
        assert await asyncio.to_thread(
            main, ["reset-password", "nobody", "--database", url]) == 1
        assert await asyncio.to_thread(main, [
            "reset-password", "BEA", "--database", url,
            "--base-url", "https://practica.example/"]) == 0
        printed = capsys.readouterr().out
        link = printed.strip().splitlines()[-1]
        assert link.startswith("https://practica.example/reset/")
        token = link.rsplit("/", 1)[1]
        stranger = Person(server.url)
        await stranger.refresh()
        superseded = await stranger.call(
            "POST", "/api/password-resets/" + owners_link["path"].removeprefix("/reset/"),
            {"password": "the owner's choice!"})
        assert superseded.status_code == 404
        done = await stranger.call("POST", f"/api/password-resets/{token}",
                                   {"password": "chosen by bea herself"})
        assert done.status_code == 204
        again = await stranger.call("POST", f"/api/password-resets/{token}",
                                    {"password": "chosen by someone else"})
        assert again.status_code == 404
        signed = await Person.sign_in(server.url, "bea", "chosen by bea herself")
        assert signed.id == target.id
        hashed = await server.practica.store.fetch(
            "SELECT created_by FROM password_resets WHERE token_hash = ?", (hash_token(token),))
        assert hashed == [("operator",)]  # the link is kept only as its hash
