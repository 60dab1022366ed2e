"""Moderation that sticks, in the browser: a timed-out member's composer is disabled with
the time left and comes back when the time is up; a removed member cannot join again
until a convener lifts the removal from the Removed list in Manage, and their timeout
still runs when they are back."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_accounts import member_row, owner_with_community, show_members
from tests.browser.ui import assert_clean, live, new_page, open_room, sign_up

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def member_in_room(new_context, server, *, clock: bool = False) -> Page:
    bob = await new_page(new_context)
    if clock:  # a clock the test can move forward (it flows in real time meanwhile)
        await bob.clock.install()
    await bob.goto(f"{server.url}/c/wound-care")
    await sign_up(bob, "Bob Builder")
    await bob.get_by_role("button", name="Join", exact=True).click()
    await live(bob)
    await open_room(bob, "Case files")
    return bob


async def time_out(owner: Page, name: str, minutes: int, reason: str) -> None:
    await show_members(owner)
    row = member_row(owner, name)
    await row.get_by_label("Minutes").fill(str(minutes))
    await row.get_by_label("Timeout reason").fill(reason)
    await row.get_by_role("button", name="Time out").click()
    await expect(row.locator(".timeout-note")).to_contain_text(reason)


async def test_the_composer_is_disabled_with_the_time_left_until_the_timeout_ends(
        server, new_context):
    ann = await owner_with_community(new_context, server)
    bob = await member_in_room(new_context, server, clock=True)
    composer = bob.get_by_label("Message #Case files")
    await expect(composer).to_be_enabled()

    await time_out(ann, "Bob Builder", 3, "please cool down")
    await expect(composer).to_be_disabled()
    await expect(composer).to_have_attribute("placeholder", "Timed out: 3 min left")
    await expect(bob.get_by_role("button", name="Send")).to_be_disabled()
    banner = bob.locator("#timeout-banner")
    await expect(banner).to_contain_text("(3 min left): please cool down")

    await bob.clock.fast_forward("01:00")
    await expect(composer).to_have_attribute("placeholder", "Timed out: 2 min left")
    await expect(composer).to_be_disabled()
    await bob.clock.fast_forward("02:01")
    await expect(composer).to_be_enabled()
    await expect(composer).to_have_attribute("placeholder", "Message #Case files")
    await expect(bob.get_by_role("button", name="Send")).to_be_enabled()
    await expect(banner).to_be_hidden()
    assert_clean(ann, bob)


async def test_removed_list_lift_and_the_timeout_still_runs_after_rejoining(
        server, new_context):
    ann = await owner_with_community(new_context, server)
    bob = await member_in_room(new_context, server)
    await time_out(ann, "Bob Builder", 30, "heated")
    row = member_row(ann, "Bob Builder")
    await row.get_by_label("Removal reason").fill("spam links")
    await row.get_by_role("button", name="Remove").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Remove Bob Builder").click()
    await expect(row).to_have_count(0)
    await expect(bob.locator("#notice")).to_contain_text("removed from Wound Care Network")

    # Joining again is refused, and says why.
    await bob.goto(f"{server.url}/c/wound-care")
    await bob.get_by_role("button", name="Join", exact=True).click()
    await expect(bob.locator("#front-error")).to_contain_text("you were removed from Wound Care "
                                                        "Network; a convener may lift it")

    await ann.get_by_role("button", name="Manage", exact=True).click()
    removed = ann.get_by_role("region", name="Removed")
    entry = removed.locator("tr", has_text="Bob Builder")
    await expect(entry).to_contain_text("spam links")
    await expect(entry).to_contain_text("Ann Owner")
    await expect(entry).to_contain_text("timed out until")
    lift = removed.get_by_role("button", name="Lift the removal of Bob Builder")
    await lift.focus()
    await ann.keyboard.press("Enter")  # keyboard reachable
    await expect(entry).to_have_count(0)
    await expect(ann.locator("#removed-list-empty")).to_be_visible()
    audit = ann.locator("#audit-list")
    await ann.locator("#audit-refresh").click()
    await expect(audit.locator("tr", has_text="lift removal")).to_contain_text("Bob Builder")

    await bob.reload()
    await bob.get_by_role("button", name="Join", exact=True).click()
    await live(bob)
    await open_room(bob, "Case files")
    composer = bob.get_by_label("Message #Case files")
    await expect(composer).to_be_disabled()  # the removal did not clear the timeout
    await expect(composer).to_have_attribute("placeholder", "Timed out: 30 min left")
    assert_clean(ann, bob)


async def test_a_host_times_out_and_removes_a_guest_from_here_now(server, new_context):
    ann = await owner_with_community(new_context, server)
    form = ann.get_by_role("form", name="Create guest link")
    await form.get_by_label("Room").select_option(label="Case files")
    await form.get_by_role("button", name="Create guest link").click()
    link = await ann.get_by_role("textbox", name="Guest link", exact=True).input_value()
    vera = await new_page(new_context)
    await vera.goto(link)
    await vera.get_by_role("form", name="Join as a guest").get_by_label("Display name").fill(
        "Visiting Vera")
    await vera.get_by_role("button", name="Join as guest").click()
    await live(vera)

    await open_room(ann, "Case files")
    here = ann.locator("#people-list .person", has_text="Visiting Vera")
    await expect(here).to_contain_text("guest")
    await here.get_by_label("Moderate guest Visiting Vera").click()
    controls = here.get_by_role("form", name="Time out or remove Visiting Vera")
    await controls.get_by_label("Minutes").fill("15")
    await controls.get_by_label("Reason").fill("shouting")
    await controls.get_by_role("button", name="Time out").click()
    await expect(ann.locator("#toast")).to_contain_text("Visiting Vera is timed out for 15 min")
    refused = await vera.evaluate("""() => window.practica.gateway.command("post",
        { room: window.practica.ui.current, text: "HELLO" })
        .then(() => "sent", (e) => e.message)""")
    assert refused == "timed out: you may post again in 15 min"

    await controls.get_by_role("button", name="Remove").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Remove Visiting Vera").click()
    await expect(vera.locator("#notice")).to_contain_text("removed from Wound Care Network")
    await expect(ann.locator("#people-list")).not_to_contain_text("Visiting Vera")
    # No moderation of members from here: they have Members for that.
    assert await ann.locator("#people-list .guest-controls").count() == 0
    assert_clean(ann, vera)
