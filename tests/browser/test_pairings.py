"""Pair-ups in the browser: a member sees whom they met and keeps their "do not pair me
with" list; a convener sees the community's pairing history in Manage; a plain member
does not (the API refuses them, typed). The meetings come from real session events:
members attend over the websocket and the round is appended to the session's stream,
as the host's pair op appends it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from server.domain.session_pair_events import PairGroup, PairsMade
from tests.browser.ui import assert_clean, live, sign_in, watch
from tests.people import Person
from tests.session_setup import attend, op

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))
GUILD = "guild"


async def person(server: Any, name: str, login: str) -> Person:
    someone = await Person.sign_up(server.url, name, login=login)
    await someone.join(GUILD)
    return someone


async def history(server: Any) -> dict[str, Person]:
    """Olga's open community; Ann, Bob and Cy attend her session and pair up twice."""
    olga = await Person.sign_up(server.url, "Olga Host", login="olga-pairs")
    made = await olga.call("POST", "/api/communities", {
        "community": GUILD, "name": "Guild", "domain": "Bridges", "purpose": "Build",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    room = (await olga.call("POST", f"/api/communities/{GUILD}/rooms", {"name": "Hall"})
            ).json()["rooms"][0]["room"]
    people = {"olga": olga}
    for name in ["Ann Asker", "Bob Voter", "Cy Third"]:
        login = name.split()[0].lower()
        people[login] = await person(server, name, f"{login}-pairs")
    host = await olga.connect(server.ws_url)
    await host.identify(community=GUILD)
    opened = await op(host, None, "open", room=room, title="Thursday hour")
    session = str(opened["stream"]).partition(":")[2]
    sockets = [host]
    for login in ["ann", "bob", "cy"]:
        socket = await people[login].connect(server.ws_url)
        await socket.identify(community=GUILD)
        await attend(socket, session)
        sockets.append(socket)
    ann, bob, cy = (people[x].id for x in ["ann", "bob", "cy"])
    await server.practica.store.append(f"session:{session}", olga.id, [
        PairsMade(round=1, seed="one", groups=[PairGroup(group=1, members=[ann, bob, cy])]),
        PairsMade(round=2, seed="two", groups=[PairGroup(group=1, members=[ann, bob])])])
    for socket in sockets:
        await socket.close()
    return people


async def signed_in_page(new_context: Any, server: Any, login: str) -> Page:
    page = watch(await (await new_context()).new_page())
    await page.goto(server.url)
    await sign_in(page, f"{login}-pairs")
    await page.goto(f"{server.url}/c/{GUILD}")
    await live(page)
    return page


async def status_of(page: Page, path: str) -> list[Any]:
    reply: list[Any] = await page.evaluate(
        "async (path) => { const r = await fetch(path);"
        " return [r.status, (await r.json()).code || null]; }", path)
    return reply


async def test_a_member_sees_whom_they_met_and_keeps_their_list(server, new_context):
    await history(server)
    ann = await signed_in_page(new_context, server, "ann")
    await expect(ann.get_by_role("button", name="Manage")).to_be_hidden()
    await ann.get_by_role("button", name="Pair-ups").click()
    pane = ann.get_by_role("region", name="Pair-ups")
    met = pane.locator("#met-list > li")
    await expect(met).to_have_count(2)
    await expect(met.filter(has_text="Bob Voter")).to_contain_text("2 times")
    await expect(met.filter(has_text="Cy Third")).to_contain_text("1 time")
    await expect(met.filter(has_text="Bob Voter").locator(".met-sessions li")).to_have_text(
        [re.compile(r"^Thursday hour, round 2, "), re.compile(r"^Thursday hour, round 1, ")])
    await expect(pane.locator("#block-empty")).to_be_visible()

    chooser = pane.get_by_label("Member")
    await chooser.select_option(label="Cy Third")
    await pane.get_by_role("button", name="Add").click()
    listed = pane.get_by_role("list", name="Do not pair me with").locator("li")
    await expect(listed.locator(".block-name")).to_have_text(["Cy Third"])
    await expect(chooser.locator("option", has_text="Cy Third")).to_have_count(0)
    await expect(chooser.locator("option", has_text="Ann Asker")).to_have_count(0)  # not yourself
    assert await status_of(ann, f"/api/communities/{GUILD}/pair-blocks") == [200, None]
    await ann.screenshot(path=str(SHOTS / "pairings-member.png"), full_page=True)

    await pane.get_by_role("button", name="Remove Cy Third from your list").click()
    await expect(listed).to_have_count(0)
    await expect(pane.locator("#block-empty")).to_be_visible()
    await expect(chooser.locator("option", has_text="Cy Third")).to_have_count(1)

    # The community's history is not a member's to see: the API says so, typed.
    assert await status_of(ann, f"/api/communities/{GUILD}/pairings") == [403, "forbidden"]
    assert_clean(ann)


async def test_a_convener_sees_the_pairing_history(server, new_context):
    people = await history(server)
    made = await people["olga"].call("PUT", f"/api/communities/{GUILD}/members/"
                                     f"{people['bob'].id}/role", {"role": "convener"})
    assert made.status_code == 204, made.text
    bob = await signed_in_page(new_context, server, "bob")
    await bob.get_by_role("button", name="Manage").click()
    section = bob.locator("#pairings-section")
    await expect(section).to_be_visible()
    rows = section.locator("#pairings-list tr")
    await expect(rows).to_have_count(4)  # round 1: a trio, three meetings; round 2: one
    await expect(rows.first).to_contain_text("Thursday hour")
    await expect(rows.first.locator("td").nth(4)).to_have_text("2")
    for name in ["Ann Asker", "Bob Voter", "Cy Third"]:
        await expect(section).to_contain_text(name)
    await section.get_by_label("Show").select_option(label="Cy Third")
    await expect(rows).to_have_count(2)
    for row in await rows.all():
        await expect(row).to_contain_text("Cy Third")
    await section.scroll_into_view_if_needed()
    await section.screenshot(path=str(SHOTS / "pairings-convener.png"))
    assert await status_of(bob, f"/api/communities/{GUILD}/pairings") == [200, None]
    assert_clean(bob)
