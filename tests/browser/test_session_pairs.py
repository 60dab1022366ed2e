"""Pair-ups in the browser: a host and five members in a session's pairs segment. One
click pairs everyone (one trio, one pair), each page shows its partners and its own
breakout room; breakout chat stays in the room; a broadcast reaches every room; a call
for help reaches the host, who visits and leaves; the scheduler (on the test's clock,
no real minute waited) warns at one minute and then ends the round: every page is back
in the main room with the takeaway prompt, and a takeaway lands in the transcript. Bad
paths: a member sees no pair button; pairing with too few present says why.

``PRACTICA_README_SCREENSHOTS=1`` also writes the README's pictures of pair-ups
(web/screenshot-pairs-host.png and web/screenshot-pairs-member.png)."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.session_ui import (
    PHONE,
    fetch_session,
    host_in_room,
    join_session,
    member_in_room,
    open_session,
    set_agenda,
)
from tests.browser.ui import assert_clean
from tests.pictures import readme_picture

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

NAMES = ["Bob Member", "Cara Member", "Dev Member", "Eli Member", "Fay Member"]


def others(names: list[str]) -> str:
    """ "You're with …" as the page says it: "A", "A and B", "A, B and C"."""
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


async def screenshots(host: Page, member: Page) -> None:
    """The host's pair-up controls at desktop width, a member's breakout on a phone."""
    await host.set_viewport_size({"width": 1280, "height": 1100})
    await member.set_viewport_size({"width": PHONE["width"], "height": 1600})
    for page in (host, member):
        await page.evaluate("""() => {
          document.getElementById('toast').hidden = true;
          document.activeElement && document.activeElement.blur();
        }""")
        await page.locator("#pairs-view").scroll_into_view_if_needed()
    await host.screenshot(path=readme_picture("screenshot-pairs-host.png"))
    await member.locator("#pairs-view").screenshot(
        path=readme_picture("screenshot-pairs-member.png"))


async def sweep_at(server: Any, now_ms: int) -> None:
    """The server's scheduler fires what is due at ``now_ms`` (the test's clock)."""
    scheduler = server.practica.scheduler
    scheduler.clock = lambda: now_ms
    await scheduler.sweep_once()


async def test_a_host_pairs_five_members_and_the_round_runs_to_its_end(server, new_context):
    ann = await host_in_room(new_context, server)
    bob = await member_in_room(new_context, server, NAMES[0])
    session = await open_session(ann)
    await set_agenda(ann, [2, 1, 1])
    await join_session(bob)
    await ann.get_by_role("button", name="Start session").click()
    await expect(bob.locator("#session-segment")).to_contain_text("1/3 · Random pair-ups")

    # A member has no pair button; they may sit out (and back in) before the pairing.
    pairs_view = bob.locator("#pairs-view")
    await expect(pairs_view).to_be_visible()
    await expect(bob.get_by_role("button", name="Pair everyone")).to_have_count(0)
    sit = bob.get_by_role("button", name="Sit out this round")
    await sit.click()
    await expect(sit).to_have_attribute("aria-pressed", "true")
    await expect(bob.locator("#pairs-status")).to_contain_text("You are sitting out the next round")
    await sit.click()
    await expect(sit).to_have_attribute("aria-pressed", "false")
    # Sent anyway (as a crafted page would), a member's pair is refused: nothing changes.
    await bob.evaluate("import('/static/session.js').then((m) => m.command('pair', {round: 0}))"
                       ".catch(() => null)")
    await expect(bob.locator("#session-error")).to_have_text("a member may not run session")
    assert (await fetch_session(bob, session))["pair_round"] == 0

    # Too few present: the host's press is refused with the server's typed message.
    await ann.get_by_role("button", name="Pair everyone").click()
    await expect(ann.locator("#session-error")).to_have_text(re.compile(
        r"^1 to pair; pair-ups need at least two \(present: .*Bob Member.*\)$"))
    refused = await fetch_session(ann, session)
    assert refused["pair_round"] == 0 and refused["groups"] == []

    members = [bob, *await asyncio.gather(*(member_in_room(new_context, server, name)
                                            for name in NAMES[1:]))]
    await asyncio.gather(*(join_session(page) for page in members[1:]))
    await expect(ann.locator("#attendee-list li")).to_have_count(6)

    # One click pairs everyone: five members make one pair and one trio; pressing again
    # reshuffles (the next round, same rules).
    await ann.get_by_role("button", name="Pair everyone").click()
    await expect(ann.locator("#session-error")).to_be_hidden()
    reshuffle = ann.get_by_role("button", name="Reshuffle")
    await expect(reshuffle).to_have_attribute("data-round", "1")
    await reshuffle.click()
    await expect(reshuffle).to_have_attribute("data-round", "2")
    snapshot = await fetch_session(ann, session)
    assert snapshot["pair_round"] == 2
    groups = snapshot["groups"]
    assert sorted(len(g["members"]) for g in groups) == [2, 3]
    ids = await asyncio.gather(*(page.evaluate("window.practica.ui.me.id") for page in members))
    name_of = dict(zip(ids, NAMES, strict=True))
    page_of = dict(zip(ids, members, strict=True))
    group_of = {m: g for g in groups for m in g["members"]}
    assert set(group_of) == set(ids)
    for member, page in page_of.items():
        partners = sorted(name_of[m] for m in group_of[member]["members"] if m != member)
        await expect(page.locator("#breakout-partners")).to_have_text(
            f"You're with {others(partners)}")
        await expect(page.locator("#breakout-countdown")).to_have_text(re.compile(r"^[12]:\d\d$"))
    await expect(ann.locator("#pairs-groups li")).to_have_count(2)
    trio = next(g for g in groups if len(g["members"]) == 3)
    pair = next(g for g in groups if len(g["members"]) == 2)

    # Breakout chat reaches the room, not the other room.
    speaker, listener = (page_of[m] for m in trio["members"][:2])
    outsider = page_of[pair["members"][0]]
    await speaker.get_by_label("Say in your breakout room").fill("What brought you here?")
    await speaker.get_by_role("button", name="Send to your room").click()
    for page in (speaker, listener):
        await expect(page.locator("#breakout-chat")).to_contain_text("What brought you here?")
    await expect(outsider.locator("#breakout-chat")).not_to_contain_text("What brought")

    # The host's broadcast reaches every room.
    await ann.get_by_label("Message to every breakout room").fill("Swap who talks first")
    await ann.get_by_role("button", name="Broadcast").click()
    for page in members:
        await expect(page.locator("#pairs-broadcast")).to_have_text(
            "From Ann Owner to every room: Swap who talks first")

    # A call for help reaches the host; the host visits that room and leaves again.
    caller = page_of[pair["members"][1]]
    await caller.get_by_role("button", name="Call the host").click()
    called = caller.get_by_role("button", name="The host has been called to this room")
    await expect(called).to_be_disabled()
    room = pair["group"]
    await expect(ann.locator("#pairs-help")).to_have_text(
        f"{name_of[pair['members'][1]]} in room {room} calls for the host.")
    row = ann.locator(f"#pairs-groups li[data-group='{room}']")
    await expect(row).to_have_class(re.compile(r"\bhelp\b"))
    if os.environ.get("PRACTICA_README_SCREENSHOTS"):
        await screenshots(ann, caller)
    await ann.get_by_role("button", name=f"Visit room {room}").click()
    await expect(caller.locator("#breakout-visit")).to_have_text(
        "Ann Owner (host) is visiting your room.")
    await expect(ann.locator("#breakout-title")).to_have_text(f"Visiting breakout room {room}")
    await expect(row).not_to_have_class(re.compile(r"\bhelp\b"))
    await expect(caller.get_by_role("button", name="Call the host")).to_be_enabled()
    await ann.get_by_label("Say in your breakout room").fill("How can I help?")
    await ann.get_by_role("button", name="Send to your room").click()
    for page in (caller, page_of[pair["members"][0]]):
        await expect(page.locator("#breakout-chat")).to_contain_text("Ann Owner: How can I help?")
    await expect(speaker.locator("#breakout-chat")).not_to_contain_text("How can I help?")
    await ann.get_by_role("button", name=f"Leave room {room}").click()
    await expect(caller.locator("#breakout-visit")).to_be_hidden()
    await expect(ann.locator("#breakout")).to_be_hidden()

    # Someone leaves the trio: it goes on as a pair. Someone leaves the pair: their
    # partner chooses, and joins the other pair (a trio again).
    stay = trio["members"][:2]
    leaver = page_of[trio["members"][2]]
    await leaver.get_by_role("button", name="Back to main room").click()
    await expect(leaver.locator("#breakout")).to_be_hidden()
    await expect(leaver.locator("#pairs-status")).to_contain_text("You are in the main room")
    await expect(speaker.locator("#breakout-partners")).to_have_text(
        f"You're with {name_of[stay[1]]}")
    await page_of[pair["members"][0]].get_by_role("button", name="Back to main room").click()
    choice = caller.get_by_role("group", name="Your partner left. What would you like to do?")
    await expect(choice).to_be_visible()
    await expect(choice.get_by_role("button", name="Wait for a new partner")).to_be_visible()
    await choice.get_by_role("button", name="Join another pair").click()
    await expect(choice).to_be_hidden()
    await expect(caller.locator("#breakout-partners")).to_have_text(
        f"You're with {others(sorted(name_of[m] for m in stay))}")
    await expect(speaker.locator("#breakout-partners")).to_contain_text(
        name_of[pair["members"][1]])

    # The scheduler, on the test's clock: the one-minute warning, then the end of the round.
    deadline = (await fetch_session(ann, session))["deadline_ms"]
    await sweep_at(server, deadline - 59_000)
    for page in (speaker, listener, caller):  # in a breakout room
        await expect(page.locator("#pairs-warning")).to_have_text(
            "One minute left in your breakout.")
    for page in members:
        await expect(page.locator("#session-warning")).to_have_text("1 minute left in this segment")
    await sweep_at(server, deadline + 1)
    for page in members:
        await expect(page.locator("#breakout")).to_be_hidden()
        await expect(page.get_by_role("form", name="One thing you took away")).to_be_visible()
    ended = await fetch_session(ann, session)
    assert ended["pairs_active"] is False and ended["groups"] == []

    # A takeaway joins the transcript; skipping sends nothing.
    await bob.get_by_label("One thing you took away (optional)").fill("Ask before advising")
    await bob.get_by_role("button", name="Share takeaway").click()
    await expect(bob.locator("#takeaway")).to_be_hidden()
    for page in (ann, bob, members[1]):
        await expect(page.locator("#session-chat")).to_contain_text(
            "Takeaway Bob Member: Ask before advising")
    await members[1].get_by_role("button", name="Skip").click()
    await expect(members[1].locator("#takeaway")).to_be_hidden()
    await ann.goto(f"{server.url}/s/{session}/transcript")
    # Ann owns the community: she may erase both (the button's "Erase" ends each line).
    await expect(ann.locator(".transcript-line.kind-takeaway")).to_have_text(
        re.compile(r"Takeaway Bob Member: Ask before advising Erase$"))
    await expect(ann.locator(".transcript-line.kind-broadcast")).to_have_text(
        re.compile(r"Broadcast Ann Owner: Swap who talks first Erase$"))
    await expect(ann.locator(".transcript-line.kind-pairs")).to_have_text([
        re.compile(r"Pair-ups, round 1: 5 people in 2 breakout rooms"),
        re.compile(r"Pair-ups, round 2: 5 people in 2 breakout rooms"),
        re.compile(r"Pair-ups, round 2: back in the main room \(time\)$")])
    assert_clean(ann, *members)


async def test_the_host_joins_a_late_arrival_makes_a_trio_and_a_reload_keeps_the_room(
        server, new_context):
    """The host ticks "Join the pairs myself" and is paired with the one member there; a
    member who arrives mid-round joins them as a third, the next one waits (and goes
    back to the main room); a reopened page still shows the breakout room and the host's
    broadcast (stored events, in the snapshot); the host ends the round early."""
    ann = await host_in_room(new_context, server)
    bob = await member_in_room(new_context, server, "Bob Member")
    session = await open_session(ann)
    await set_agenda(ann, [5, 1, 1])
    await join_session(bob)
    await ann.get_by_role("button", name="Start session").click()
    await ann.get_by_label("Join the pairs myself").check()
    await ann.get_by_role("button", name="Pair everyone").click()
    await expect(ann.locator("#breakout-partners")).to_have_text("You're with Bob Member")
    await expect(bob.locator("#breakout-partners")).to_have_text("You're with Ann Owner")
    await expect(ann.get_by_role("button", name="Reshuffle")).to_be_visible()
    await ann.get_by_label("Message to every breakout room").fill("Five minutes each")
    await ann.get_by_role("button", name="Broadcast").click()

    cara = await member_in_room(new_context, server, "Cara Member")
    await join_session(cara)
    await expect(cara.locator("#breakout-partners")).to_have_text(
        "You're with Ann Owner and Bob Member")
    await expect(bob.locator("#breakout-partners")).to_have_text(
        "You're with Ann Owner and Cara Member")
    snapshot = await fetch_session(ann, session)
    assert snapshot["host_joins"] is True and len(snapshot["groups"]) == 1
    # One more arrives: no pair to join (a trio is full), so they wait, and may go back.
    dev = await member_in_room(new_context, server, "Dev Member")
    await join_session(dev)
    await expect(dev.locator("#pairs-status")).to_have_text(
        "Everyone else is paired for now: you will be paired with the next person who arrives.")
    await expect(ann.locator("#pairs-others")).to_have_text("Waiting for a partner: Dev Member.")
    await dev.get_by_role("button", name="Back to main room").click()
    await expect(dev.locator("#pairs-status")).to_contain_text("You are in the main room.")
    await expect(ann.locator("#pairs-others")).to_have_text("")
    await cara.goto(f"{server.url}/s/{session}")
    await expect(cara.locator("#breakout-partners")).to_have_text(
        "You're with Ann Owner and Bob Member")
    await expect(cara.locator("#pairs-broadcast")).to_have_text(
        "From Ann Owner to every room: Five minutes each")
    # The host ends the round early: everyone back, and asked for a takeaway.
    await ann.get_by_role("button", name="End pair-ups now").click()
    for page in (ann, bob, cara):
        await expect(page.locator("#breakout")).to_be_hidden()
        await expect(page.get_by_role("form", name="One thing you took away")).to_be_visible()
        await expect(page.locator("#pairs-status")).to_contain_text("Round 1 is over")
    await expect(dev.locator("#pairs-status")).to_contain_text("Round 1 is over")
    await expect(dev.locator("#takeaway")).to_be_hidden()  # never in a room this round
    assert_clean(ann, bob, cara, dev)


async def test_a_member_back_in_the_main_room_rejoins_and_is_in_a_group_again(
        server, new_context):
    """A member presses "Back to main room", their partner chooses the main room too;
    while the round runs both see "Rejoin pairs" (the host, who took no part, does not).
    Pressing it places them as a late arrival is: a third in the other pair, whose
    members see them; the button is gone."""
    ann = await host_in_room(new_context, server)
    session = await open_session(ann)
    await set_agenda(ann, [5, 1, 1])
    members = list(await asyncio.gather(*(member_in_room(new_context, server, name)
                                          for name in NAMES[:4])))
    await asyncio.gather(*(join_session(page) for page in members))
    await ann.get_by_role("button", name="Start session").click()
    await ann.get_by_role("button", name="Pair everyone").click()
    await expect(ann.get_by_role("button", name="Reshuffle")).to_be_visible()
    ids = await asyncio.gather(*(page.evaluate("window.practica.ui.me.id") for page in members))
    name_of = dict(zip(ids, NAMES[:4], strict=True))
    page_of = dict(zip(ids, members, strict=True))
    first, second = (g["members"] for g in (await fetch_session(ann, session))["groups"])
    leaver, partner = (page_of[m] for m in first)
    await leaver.get_by_role("button", name="Back to main room").click()
    choice = partner.get_by_role("group", name="Your partner left. What would you like to do?")
    await choice.get_by_role("button", name="Back to main room").click()
    for page in (leaver, partner):
        await expect(page.locator("#breakout")).to_be_hidden()
        await expect(page.locator("#pairs-status")).to_contain_text("You are in the main room.")
        await expect(page.get_by_role("button", name="Rejoin pairs")).to_have_attribute(
            "data-round", "1")
    await expect(ann.get_by_role("button", name="Rejoin pairs")).to_have_count(0)

    await leaver.get_by_role("button", name="Rejoin pairs").click()
    await expect(leaver.locator("#breakout")).to_be_visible()
    await expect(leaver.locator("#breakout-partners")).to_have_text(
        f"You're with {others(sorted(name_of[m] for m in second))}")
    await expect(leaver.get_by_role("button", name="Rejoin pairs")).to_have_count(0)
    for member in second:
        partners = sorted(name_of[m] for m in [*second, first[0]] if m != member)
        await expect(page_of[member].locator("#breakout-partners")).to_have_text(
            f"You're with {others(partners)}")
    snapshot = await fetch_session(ann, session)
    assert sorted(first[0:1] + second) == next(
        g["members"] for g in snapshot["groups"] if first[0] in g["members"])
    await expect(partner.get_by_role("button", name="Rejoin pairs")).to_be_visible()
    assert_clean(ann, *members)
