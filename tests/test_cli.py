"""The command line: making an owner for a community that has none."""

from __future__ import annotations

import asyncio

import pytest

from server.cli import main
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
