"""What a visitor and a member meet in the browser: the public landing page and a
community's front page before signing up, a 404 page, rooms in the URL's hash (typed,
back and forward), times in the profile's zone, confirmations before deleting or
removing, buttons whose names say which message they act on, and an audit log in
names rather than ids."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.test_chat import enter, say, texts
from tests.browser.ui import assert_clean, create_community, live, new_page, sign_up, watch

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))
BARE_ID = re.compile(r"\b[igm]-[0-9a-f]{6,}")
HERO = "Practitioners, learning together"


async def test_a_visitor_sees_what_practica_is_and_a_community_before_signing_up(
        server, new_context):
    page = await new_page(new_context)
    await page.goto(server.url)
    await expect(page.get_by_role("heading", name=HERO)).to_be_visible()
    card = page.locator("#public-list .directory-card", has_text="Clinical Practice Circle")
    await expect(card).to_contain_text("Clinical")  # its domain and purpose, public already
    await expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("form", name="Create an account")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "landing.png"), full_page=True)

    await card.get_by_role("link", name="Clinical Practice Circle").click()
    await expect(page).to_have_url(f"{server.url}/c/clinical-practice-circle")
    front = page.get_by_role("article", name="Clinical Practice Circle")
    await expect(front).to_be_visible()
    rooms = front.locator("#public-front-rooms")
    for room in ("# Case review", "# Journal club", "# Help desk"):
        await expect(rooms).to_contain_text(room)
    await expect(page.locator("#auth-context")).to_contain_text("To join Clinical Practice Circle")
    await page.screenshot(path=str(SHOTS / "front-signed-out.png"), full_page=True)
    # Signing up from there leads to that community's page, ready to join.
    await sign_up(page, "Newcomer Nia")
    await expect(page.locator("#front-name")).to_have_text("Clinical Practice Circle")
    await page.get_by_role("button", name="Join", exact=True).click()
    await live(page)

    # A community that does not exist says so, and still shows the others.
    other = await new_page(new_context)
    await other.goto(f"{server.url}/c/no-such-community")
    await expect(other.locator("#auth-context")).to_contain_text("no community “no-such-community”")
    await expect(other.locator("#public-list .directory-card")).to_have_count(1)
    assert_clean(page, other)


async def test_an_unknown_path_shows_the_404_page(server, new_context):
    page = await new_page(new_context)
    response = await page.goto(f"{server.url}/no/such/page")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "not-found.png"))
    await page.get_by_role("link", name="Go to Practica").click()
    await expect(page.get_by_role("heading", name=HERO)).to_be_visible()
    assert_clean(page)


async def test_the_room_follows_the_hash_typed_and_back_and_forward(server, new_context):
    page = watch(await (await new_context()).new_page())
    await enter(page, server.url, "Hash Hana")
    await page.evaluate("location.hash = '#journal-club'")
    await expect(page.locator("#room-name")).to_have_text("# Journal club")
    await page.locator("#room-list").get_by_role("button", name="Help desk").click()
    await expect(page.locator("#room-name")).to_have_text("# Help desk")
    assert page.url.endswith("#help-desk")
    await page.go_back()
    await expect(page.locator("#room-name")).to_have_text("# Journal club")
    await page.go_back()
    await expect(page.locator("#room-name")).to_have_text("# Case review")
    await page.go_forward()
    await expect(page.locator("#room-name")).to_have_text("# Journal club")
    # Still in the room for real: what is said there arrives.
    await say_in(page, "Journal club", "read the paper?")
    await expect(texts(page).last).to_have_text("read the paper?")
    await page.evaluate("location.hash = '#no-such-room'")  # unknown: nothing changes
    await expect(page.locator("#room-name")).to_have_text("# Journal club")
    assert_clean(page)


async def say_in(page, room: str, text: str) -> None:
    await page.get_by_label(f"Message #{room}").fill(text)
    await page.keyboard.press("Enter")


async def test_times_show_in_the_profiles_time_zone(server, new_context):
    # The browser says Los Angeles; the profile says Kathmandu (UTC+5:45, unmistakable).
    page = watch(await (await new_context(timezone_id="America/Los_Angeles",
                                          locale="en-GB")).new_page())
    await enter(page, server.url, "Zone Zia")
    await say(page, "what time is it?")
    stamp = page.locator(".message", has_text="what time is it?").locator("time")

    async def shown_in(zone: str) -> None:
        iso = await stamp.get_attribute("datetime")
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        await expect(stamp).to_have_text(when.astimezone(ZoneInfo(zone)).strftime("%H:%M"))

    await shown_in("America/Los_Angeles")  # no zone chosen yet: the browser's
    await page.locator("#profile-badge").click()
    await page.get_by_label("Time zone").fill("Asia/Kathmandu")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#toast")).to_have_text("Profile saved")
    await page.get_by_role("link", name="Clinical Practice Circle").click()  # back in the room
    await shown_in("Asia/Kathmandu")
    await page.reload()  # and after a reload
    await live(page)
    await expect(texts(page).last).to_have_text("what time is it?")
    await shown_in("Asia/Kathmandu")
    assert_clean(page)


async def test_delete_asks_first_and_every_button_names_its_message(server, new_context):
    page = watch(await (await new_context()).new_page())
    await enter(page, server.url, "Careful Cai")
    for text in ("first thought", "second thought"):
        await say(page, text)
    await expect(texts(page).last).to_have_text("second thought")
    log = page.get_by_role("log", name="Messages")
    snapshot = await log.aria_snapshot()
    names = re.findall(r'button "([^"]*)"', snapshot)
    edits = [n for n in names if n.startswith("Edit")]
    deletes = [n for n in names if n.startswith("Delete")]
    assert len(edits) == len(set(edits)) == 2 and len(deletes) == len(set(deletes)) == 2, names
    assert any("second thought" in n for n in edits)

    first_id = await page.locator(".message.own", has_text="first thought").get_attribute("data-id")
    mine = page.locator(f'.message[data-id="{first_id}"]')
    await mine.hover()
    delete = re.compile("^Delete your message .*first thought")
    await mine.get_by_role("button", name=delete).click()
    dialog = page.get_by_role("dialog", name="Delete this message?")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await page.screenshot(path=str(SHOTS / "confirm-delete.png"))
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await page.keyboard.press("Escape")
    await expect(mine.locator(".text")).to_have_text("first thought")  # nothing happened
    await mine.hover()
    await mine.get_by_role("button", name=re.compile("^Delete your message")).click()
    await page.keyboard.press("Escape")  # Escape cancels too
    await expect(dialog).to_be_hidden()
    await expect(mine.locator(".text")).to_have_text("first thought")
    await mine.hover()
    await mine.get_by_role("button", name=re.compile("^Delete your message")).click()
    await dialog.get_by_role("button", name="Delete message").click()
    await expect(mine.locator(".text")).to_have_text("This message was deleted.")
    await expect(texts(page).last).to_have_text("second thought")
    assert_clean(page)


async def test_the_audit_log_shows_names_not_ids(server, new_context):
    owner = await new_page(new_context)
    await owner.goto(server.url)
    await sign_up(owner, "Ann Owner")
    await create_community(owner, "wound-care", "Wound Care Network")
    await owner.get_by_role("button", name="Manage", exact=True).click()
    rooms = owner.get_by_role("form", name="Create a room")
    await rooms.get_by_label("Room name").fill("Case files")
    await rooms.get_by_role("button", name="Create room").click()
    await expect(owner.locator("#room-list")).to_contain_text("Case files")
    await owner.get_by_role("button", name="Create invite link").click()
    await expect(owner.locator("#invite-result")).to_be_visible()
    await owner.get_by_role("form", name="Create guest link").get_by_label("Room").select_option(
        label="Case files")
    await owner.get_by_role("button", name="Create guest link").click()
    await expect(owner.locator("#guest-link-result")).to_be_visible()
    await owner.locator("#audit-refresh").click()
    audit = owner.locator("#audit-list")
    await expect(audit.locator("tr", has_text="create guest link")).to_contain_text(
        "guest link to #Case files")
    await expect(audit.locator("tr", has_text="invite members")).to_contain_text(
        "member invite link")
    await expect(audit.locator("tr", has_text="create community")).to_contain_text(
        "Wound Care Network")
    assert not BARE_ID.search(await audit.inner_text())
    assert_clean(owner)


async def test_remove_member_asks_first(server, new_context):
    owner = await new_page(new_context)
    await owner.goto(server.url)
    await sign_up(owner, "Ann Owner")
    await create_community(owner, "wound-care", "Wound Care Network")
    bob = await new_page(new_context)
    await bob.goto(f"{server.url}/c/wound-care")
    await sign_up(bob, "Bob Builder")
    await bob.get_by_role("button", name="Join", exact=True).click()
    await live(bob)
    await owner.get_by_role("button", name="Members", exact=True).click()
    row = owner.locator(".member-row", has_text="Bob Builder")
    await row.get_by_role("button", name="Remove").click()
    dialog = owner.get_by_role("dialog", name="Remove Bob Builder?")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_have_count(1)
    assert await bob.evaluate("window.practica.gateway.state") == "live"
    await row.get_by_role("button", name="Remove").click()
    await dialog.get_by_role("button", name="Remove Bob Builder").click()
    await expect(row).to_have_count(0)
    assert_clean(owner, bob)
