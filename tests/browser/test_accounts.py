"""Accounts, communities and roles in the browser, end to end: signing up and in,
creating a community, invite and guest links, roles, timeouts, removals, join
requests, sessions, profile, export, password resets and the audit log. Each test
also walks a bad path, and no page may throw or trip the Content Security Policy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.ui import (
    PASSWORD,
    assert_clean,
    create_community,
    live,
    new_page,
    open_room,
    say,
    sign_in,
    sign_up,
    signin_form,
    signup_form,
    texts,
    unique_login,
)
from tests.people import DEMO, Person

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def create_room(page: Page, name: str, topic: str = "") -> None:
    await page.get_by_role("button", name="Manage", exact=True).click()
    form = page.get_by_role("form", name="Create a room")
    await form.get_by_label("Room name").fill(name)
    await form.get_by_label("Topic").fill(topic)
    await form.get_by_role("button", name="Create room").click()
    await expect(page.locator("#room-list")).to_contain_text(name)


async def owner_with_community(new_context, server, community: str = "wound-care",
                               name: str = "Wound Care Network", *, join_policy: str = "open",
                               rooms: tuple[str, ...] = ("Case files",)) -> Page:
    """A new account (through the page) that creates a community and its rooms."""
    page = await new_page(new_context)
    await page.goto(server.url)
    page.login = await sign_up(page, "Ann Owner")  # type: ignore[attr-defined]
    await create_community(page, community, name, join_policy=join_policy)
    for room in rooms:
        await create_room(page, room)
    return page


def member_row(page: Page, name: str):
    return page.locator(".member-row", has_text=name)


async def show_members(page: Page) -> None:
    await page.get_by_role("button", name="Members", exact=True).click()
    await expect(page.locator("#members-view")).to_be_visible()


async def test_sign_up_create_community_front_page_and_sign_out(server, new_context):
    page = await new_page(new_context)
    await page.goto(server.url)
    # Bad paths first: an unknown login, then a password too short to sign up with.
    form = signin_form(page)
    await form.get_by_label("Login").fill("nobody")
    await form.get_by_label("Password").fill("not the password")
    await form.get_by_role("button", name="Sign in").click()
    await expect(form.get_by_role("alert")).to_have_text("wrong login or password")
    login = unique_login("founder")
    up = signup_form(page)
    await up.get_by_label("Login").fill(login)
    await up.get_by_label("Password").fill("short")
    await up.get_by_label("Display name").fill("Fiona Founder")
    await up.get_by_role("button", name="Create account").click()
    await expect(up.get_by_role("alert")).to_contain_text("at least 10 characters")
    await up.get_by_label("Password").fill(PASSWORD)
    await up.get_by_role("button", name="Create account").click()

    # No memberships yet: the directory, with the demo community to join.
    await expect(page.get_by_role("heading", name="Communities")).to_be_visible()
    demo = page.locator(".directory-card", has_text="Clinical Practice Circle")
    await expect(demo.get_by_role("button", name="Join")).to_be_visible()
    create = page.get_by_role("form", name="Create a community")
    await create.get_by_label("Community id").fill(DEMO)  # taken
    await create.get_by_label("Name", exact=True).fill("Wound Care Network")
    await create.get_by_label("Domain").fill("Chronic wound care in the community")
    await create.get_by_label("Purpose").fill("Share what heals and what does not")
    await create.get_by_label("Description").fill(
        "We meet **monthly** to compare dressings.\n\n- photos\n- notes\n\n"
        "<script>alert('x')</script> [js](javascript:alert(1))")
    await create.get_by_label("Who can join").select_option("invite")
    await create.get_by_role("button", name="Create community").click()
    await expect(create.get_by_role("alert")).to_contain_text("taken")
    await create.get_by_label("Community id").fill("wound-care")
    await create.get_by_role("button", name="Create community").click()

    # The front page: name, domain, purpose and the description rendered from markdown.
    await live(page)
    await expect(page.locator("#community-name")).to_have_text("Wound Care Network")
    await expect(page).to_have_url(f"{server.url}/c/wound-care")
    intro = page.locator("#community-intro")
    await expect(intro).to_contain_text("Share what heals and what does not")
    await expect(page.locator("#community-meta")).to_contain_text(
        "Chronic wound care in the community")
    await expect(page.locator("#community-description strong")).to_have_text("monthly")
    await expect(page.locator("#community-description li")).to_have_count(2)
    assert await page.locator("#community-description script").count() == 0
    assert await page.locator("#community-description a[href^='javascript']").count() == 0
    await expect(page.locator("#me-role")).to_have_text("owner")
    await expect(page.locator("#intro-hint")).to_contain_text("create the first one under Manage")
    await expect(page.locator("#rail-list .badge")).to_have_count(1)
    # The only owner cannot leave.
    await page.get_by_role("button", name="Leave community").click()
    await expect(page.locator("#leave-error")).to_contain_text("only owner")
    await live(page)

    # Sign out: back to the sign-in screen; signing in again lands in the community.
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(signin_form(page)).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    me = await page.evaluate("fetch('/api/me').then((r) => r.json())")
    assert me["account"] is None
    await sign_in(page, login)
    await expect(page.locator("#community-name")).to_have_text("Wound Care Network")
    await live(page)
    assert_clean(page)


async def test_invite_link_member_then_host_moderates(server, new_context):
    ann = await owner_with_community(new_context, server, join_policy="invite")
    await ann.get_by_role("button", name="Create invite link").click()
    link = await ann.get_by_role("textbox", name="Invite link", exact=True).input_value()
    assert link.startswith(f"{server.url}/invite/")
    await expect(ann.locator("#invite-list tr")).to_have_count(1)
    await expect(ann.locator("#invite-list")).to_contain_text("0 / 10")

    bob = await new_page(new_context)
    await bob.goto(link)
    await expect(bob.locator("#auth-context")).to_contain_text(
        "You are invited to join Wound Care Network")
    await sign_up(bob, "Bob Builder")
    await expect(bob.locator("#invite-title")).to_have_text("Wound Care Network")
    await bob.get_by_role("button", name="Accept invite").click()
    await expect(bob.locator("#community-name")).to_have_text("Wound Care Network")
    await live(bob)
    await expect(bob.locator("#me-role")).to_have_text("member")

    # The owner edits the front page; the member sees it change, live.
    await ann.get_by_role("button", name="Manage", exact=True).click()
    edit = ann.get_by_role("form", name="Edit community")
    await expect(edit.get_by_label("Purpose")).to_have_value("Why Wound Care Network meets")
    await edit.get_by_label("Purpose").fill("")
    await edit.get_by_role("button", name="Save changes").click()
    await expect(edit.get_by_role("alert")).to_contain_text("needed")
    await edit.get_by_label("Purpose").fill("Heal faster, together")
    await edit.get_by_label("Description").fill("Now we meet **weekly**.")
    await edit.get_by_role("button", name="Save changes").click()
    await expect(bob.locator("#community-purpose")).to_have_text("Heal faster, together")
    await expect(bob.locator("#community-description strong")).to_have_text("weekly")
    await expect(ann.locator("#community-description strong")).to_have_text("weekly")

    # The owner sees the new member arrive, live.
    await show_members(ann)
    await expect(member_row(ann, "Bob Builder")).to_contain_text("member")
    # A member sees no Manage and no controls over anyone.
    await expect(bob.get_by_role("button", name="Manage", exact=True)).to_be_hidden()
    await show_members(bob)
    await expect(member_row(bob, "Ann Owner")).to_contain_text("owner")
    assert await bob.locator("#member-list").get_by_role("button").count() == 0

    await open_room(ann, "Case files")
    await open_room(bob, "Case files")
    await say(ann, "the owner's note", room="Case files")
    await expect(texts(bob).last).to_have_text("the owner's note")
    theirs = bob.locator(".message").last
    await theirs.hover()
    assert await theirs.get_by_role("button").count() == 0  # not a host yet

    # The owner makes Bob a host: his socket reconnects and his controls change.
    await show_members(ann)
    row = member_row(ann, "Bob Builder")
    await row.get_by_label("Role").select_option("host")
    await row.get_by_role("button", name="Change role").click()
    await expect(row.locator(".role-badge")).to_have_text("host")
    await expect(bob.locator("#me-role")).to_have_text("host")
    await live(bob)
    await expect(bob.get_by_role("button", name="Manage", exact=True)).to_be_visible()
    await theirs.hover()
    await theirs.get_by_role("button", name="Delete message by Ann Owner").click()
    await bob.get_by_role("dialog").get_by_role("button", name="Delete message").click()
    await open_room(ann, "Case files")
    await expect(texts(ann).last).to_have_text("This message was deleted.")
    # A host makes guest links but does not hand out member invites.
    await bob.get_by_role("button", name="Manage", exact=True).click()
    await expect(bob.get_by_role("button", name="Create guest link")).to_be_visible()
    await expect(bob.get_by_role("button", name="Create invite link")).to_be_hidden()
    assert_clean(ann, bob)


async def test_timeout_removal_and_audit(server, new_context):
    ann = await owner_with_community(new_context, server)
    bob = await new_page(new_context)
    await bob.goto(f"{server.url}/c/wound-care")
    await sign_up(bob, "Bob Builder")
    await expect(bob.locator("#front-name")).to_have_text("Wound Care Network")
    await bob.get_by_role("button", name="Join", exact=True).click()
    await live(bob)
    await open_room(bob, "Case files")
    await open_room(ann, "Case files")
    await expect(bob.get_by_role("button", name="Manage", exact=True)).to_be_hidden()

    await show_members(ann)
    row = member_row(ann, "Bob Builder")
    assert await member_row(ann, "Ann Owner").get_by_role("button").count() == 0  # not on self
    await row.get_by_label("Minutes").fill("5")
    await row.get_by_label("Timeout reason").fill("please cool down")
    await row.get_by_role("button", name="Time out").click()
    await expect(row.locator(".timeout-note")).to_contain_text("please cool down")

    banner = bob.locator("#timeout-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("please cool down")
    composer = bob.get_by_label("Message #Case files")
    await expect(composer).to_be_disabled()
    await expect(composer).to_have_attribute("placeholder", "Timed out: 5 min left")
    # A client that ignores the disabled composer is refused by the server all the same.
    refused = await bob.evaluate("""() => window.practica.gateway.command("post",
        { room: window.practica.ui.current, text: "let me say one more thing" })
        .then(() => "sent", (error) => error.message)""")
    assert refused == "timed out: you may post again in 5 min"
    assert await texts(bob).count() == 0

    # The audit log shows the timeout done and the post refused.
    await ann.get_by_role("button", name="Manage", exact=True).click()
    audit = ann.locator("#audit-list")
    done = audit.locator("tr", has_text="timeout member")
    await expect(done).to_contain_text("done")
    await expect(done).to_contain_text("Bob Builder")
    refused = audit.locator("tr", has_text="refused")
    await expect(refused).to_contain_text("post")
    await expect(refused).to_contain_text("timed out")
    await expect(ann.get_by_role("button", name="Load older")).to_be_hidden()
    # Page back through a longer log (50 rows at a time), oldest entry last.
    same = await Person.sign_in(server.url, ann.login)  # type: ignore[attr-defined]
    for _ in range(50):
        reply = await same.call("POST", "/api/communities/wound-care/invites", {"max_uses": 1})
        assert reply.status_code == 201, reply.text
    await ann.locator("#audit-refresh").click()
    await expect(audit.locator("tr")).to_have_count(50)
    await ann.get_by_role("button", name="Load older").click()
    await expect(audit.locator("tr").last).to_contain_text("create community")
    assert await audit.locator("tr").count() > 50
    await expect(ann.get_by_role("button", name="Load older")).to_be_hidden()

    await show_members(ann)
    await row.get_by_label("Removal reason").fill("left the practice")
    await row.get_by_role("button", name="Remove").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Remove Bob Builder").click()
    await expect(row).to_have_count(0)
    notice = bob.locator("#notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("removed from Wound Care Network: left the practice")
    await expect(bob.get_by_role("heading", name="Communities")).to_be_visible()
    await asyncio.sleep(1.0)  # it must not reconnect
    assert await bob.evaluate("window.practica.gateway.state") == "removed"
    assert await bob.evaluate("window.practica.gateway.ws") is None
    await expect(bob.locator("#rail-list .badge")).to_have_count(0)
    assert_clean(ann, bob)


async def test_sessions_profile_export_and_delete(server, new_context):
    ann = await new_page(new_context)
    await ann.goto(server.url)
    login = await sign_up(ann, "Ann Example")
    await ann.locator(".directory-card", has_text="Clinical Practice Circle").get_by_role(
        "button", name="Join").click()
    await live(ann)
    await open_room(ann, "Case review")

    other = await new_page(new_context)
    await other.goto(server.url)
    await sign_in(other, login)
    await live(other)

    await ann.get_by_role("link", name="Profile").click()
    sessions = ann.locator("#session-list .session-row")
    await expect(sessions).to_have_count(2)
    current = ann.locator("#session-list .session-row.current")
    await expect(current).to_contain_text("This browser")
    await ann.locator("#session-list .session-row:not(.current)").get_by_role(
        "button", name="Revoke").click()
    await expect(sessions).to_have_count(1)
    await expect(signin_form(other)).to_be_visible()
    await expect(other.locator("#notice")).to_contain_text("session revoked")

    profile = ann.get_by_role("form", name="About you")
    await profile.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await profile.get_by_role("button", name="Save profile").click()
    await expect(profile.get_by_role("alert")).to_contain_text("unknown time zone")
    assert await ann.locator("#timezones option[value='Europe/Oslo']").count() == 1
    await profile.get_by_label("Display name").fill("Ann Renamed")
    await profile.get_by_label("Pronouns").fill("she/her")
    await profile.get_by_label("Time zone").fill("Europe/Oslo")
    await profile.get_by_label("Practice").fill("Community nursing")
    await profile.get_by_role("button", name="Save profile").click()
    await expect(ann.locator("#toast")).to_have_text("Profile saved")

    await ann.get_by_role("link", name="Clinical Practice Circle").click()
    await expect(ann.locator("#room-name")).to_have_text("# Case review")
    await live(ann)
    await expect(ann.locator("#me-name")).to_have_text("Ann Renamed")
    await expect(ann.locator("#people-list")).to_contain_text("Ann Renamed")
    await say(ann, "hello under my new name")
    mine = ann.locator(".message.own").last
    await expect(mine.locator(".text")).to_have_text("hello under my new name")
    await expect(mine.locator(".author")).to_have_text("Ann Renamed")

    await ann.get_by_role("link", name="Profile").click()
    async with ann.expect_download() as info:
        await ann.get_by_role("button", name="Export my data").click()
    download = await info.value
    assert download.suggested_filename.startswith(f"practica-{login}-")
    exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert exported["profile"]["name"] == "Ann Renamed"
    assert exported["profile"]["timezone"] == "Europe/Oslo"
    assert [m["text"] for m in exported["messages"]] == ["hello under my new name"]

    delete = ann.get_by_role("form", name="Delete account")
    await delete.get_by_label("Password").fill("not my password")
    await delete.get_by_role("button", name="Delete account").click()
    await expect(delete.get_by_role("alert")).to_have_text("wrong password")
    await delete.get_by_label("Password").fill(PASSWORD)
    await delete.get_by_role("button", name="Delete account").click()
    await expect(signin_form(ann)).to_be_visible()
    await expect(ann.locator("#notice")).to_contain_text("Your account was deleted")
    form = signin_form(ann)
    await form.get_by_label("Login").fill(login)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Sign in").click()
    await expect(form.get_by_role("alert")).to_have_text("wrong login or password")
    assert_clean(ann, other)


async def test_join_request_approved_and_declined(server, new_context):
    ann = await owner_with_community(new_context, server, join_policy="approval")
    carol = await Person.sign_up(server.url, "Carol Asks")
    reply = await carol.call("POST", "/api/communities/wound-care/join", {"note": "me too"})
    assert reply.json()["outcome"] == "requested"

    bob = await new_page(new_context)
    await bob.goto(f"{server.url}/c/wound-care")
    await sign_up(bob, "Bob Builder")
    await expect(bob.locator("#front-meta")).to_contain_text("Joining is by request")
    await bob.get_by_label("Note for the conveners").fill("I run the wound clinic in Bergen")
    await bob.get_by_role("button", name="Request to join").click()
    await expect(bob.locator("#front-status")).to_contain_text("waiting for a convener")
    await expect(bob.locator("#shell")).to_be_hidden()
    # Still pending: the community's stream is closed to him.
    assert await bob.evaluate("window.practica.gateway.state") == "idle"

    await ann.get_by_role("button", name="Manage", exact=True).click()
    requests = ann.locator("#request-list .request-row")
    await ann.locator("#requests-refresh").click()
    await expect(requests).to_have_count(2)
    await requests.filter(has_text="Carol Asks").get_by_role("button", name="Decline").click()
    await expect(requests).to_have_count(1)
    request = requests.filter(has_text="Bob Builder")
    await expect(request).to_contain_text("I run the wound clinic in Bergen")
    await request.get_by_role("button", name="Approve").click()
    await expect(requests).to_have_count(0)

    await expect(bob.locator("#community-name")).to_have_text("Wound Care Network",
                                                               timeout=10_000)
    await live(bob)
    await expect(bob.locator("#me-role")).to_have_text("member")
    await show_members(ann)
    await expect(member_row(ann, "Bob Builder")).to_be_visible()
    await expect(member_row(ann, "Carol Asks")).to_have_count(0)
    assert (await carol.call("GET", "/api/communities/wound-care")).json()["your_role"] is None

    # Bob leaves again: back to the directory, and gone from the owner's list.
    await bob.get_by_role("button", name="About", exact=True).click()
    await bob.get_by_role("button", name="Leave community").click()
    await expect(bob.get_by_role("heading", name="Communities")).to_be_visible()
    await expect(bob.locator("#notice")).to_be_hidden()
    await expect(bob.locator("#rail-list .badge")).to_have_count(0)
    await expect(member_row(ann, "Bob Builder")).to_have_count(0)
    assert_clean(ann, bob)


async def test_guest_link_admits_to_one_room(server, new_context):
    ann = await owner_with_community(new_context, server, rooms=("Case files", "Staff room"))
    form = ann.get_by_role("form", name="Create guest link")
    await form.get_by_label("Room").select_option(label="Case files")
    await form.get_by_role("button", name="Create guest link").click()
    link = await ann.get_by_role("textbox", name="Guest link", exact=True).input_value()
    assert link.startswith(f"{server.url}/guest/")

    vera = await new_page(new_context)
    await vera.goto(link)
    await expect(vera.locator("#guest-title")).to_have_text("# Case files")
    await expect(vera.locator("#guest-community")).to_contain_text("Wound Care Network")
    await vera.get_by_role("button", name="Join as guest").click()
    await expect(vera.locator("#guest-error")).to_contain_text("display name")
    await vera.get_by_role("form", name="Join as a guest").get_by_label("Display name").fill(
        "Visiting Vera")
    await vera.get_by_role("button", name="Join as guest").click()
    await expect(vera.locator("#room-name")).to_have_text("# Case files")
    await live(vera)
    # One room only; no communities rail, no members, no manage, no profile.
    await expect(vera.locator("#room-list .room-link")).to_have_count(1)
    await expect(vera.locator(".rail")).to_be_hidden()
    await expect(vera.get_by_role("button", name="Members", exact=True)).to_be_hidden()
    await expect(vera.get_by_role("button", name="Manage", exact=True)).to_be_hidden()
    await expect(vera.locator("#me-role")).to_have_text("guest")

    await open_room(ann, "Case files")
    await expect(ann.locator("#people-list")).to_contain_text("Visiting Vera")
    await say(vera, "thanks for having me", room="Case files")
    await expect(texts(ann).last).to_have_text("thanks for having me")
    await say(ann, "welcome, Vera", room="Case files")
    await expect(texts(vera).last).to_have_text("welcome, Vera")
    # The server refuses her the rest of the community, whatever the page shows.
    staff = await ann.evaluate(
        "window.practica.ui.rooms.find((r) => r.name === 'Staff room').room")
    refused = await vera.evaluate(
        "(room) => window.practica.gateway.command('join', {room}).catch((e) => e.message)", staff)
    assert refused == "a guest link admits to its one room only"

    # Revoked, the link no longer admits anyone.
    await ann.get_by_role("button", name="Manage", exact=True).click()
    await ann.locator("#invite-list tr", has_text="Guest").get_by_role(
        "button", name="Revoke").click()
    await expect(ann.locator("#invite-list tr", has_text="Guest")).to_contain_text("revoked")
    late = await new_page(new_context)
    await late.goto(link)
    await expect(late.locator("#guest-title")).to_have_text("This guest link does not work")
    await expect(late.get_by_role("button", name="Join as guest")).to_be_hidden()
    assert_clean(ann, vera, late)


async def test_password_reset_link(server, new_context):
    ann = await owner_with_community(new_context, server, rooms=())
    login = unique_login("bob")
    bob = await Person.sign_up(server.url, "Bob Forgetful", login=login)
    await bob.join("wound-care")
    await show_members(ann)
    row = member_row(ann, "Bob Forgetful")
    await row.get_by_role("button", name="Password reset link").click()
    link = await row.get_by_label("Reset link").input_value()
    assert link.startswith(f"{server.url}/reset/")

    page = await new_page(new_context)
    await page.goto(link)
    form = page.get_by_role("form", name="Choose a new password")
    await form.get_by_label("New password").fill("too short")
    await form.get_by_role("button", name="Set password").click()
    await expect(form.get_by_role("alert")).to_contain_text("at least 10 characters")
    await form.get_by_label("New password").fill("a brand new passphrase")
    await form.get_by_role("button", name="Set password").click()
    await expect(page.locator("#auth-context")).to_contain_text("Your password is set")
    await expect(page).to_have_url(f"{server.url}/")
    signin = signin_form(page)
    await signin.get_by_label("Login").fill(login)
    await signin.get_by_label("Password").fill(PASSWORD)  # the old one
    await signin.get_by_role("button", name="Sign in").click()
    await expect(signin.get_by_role("alert")).to_have_text("wrong login or password")
    await sign_in(page, login, "a brand new passphrase")
    await expect(page.locator("#community-name")).to_have_text("Wound Care Network")
    await live(page)

    # The link worked once.
    again = await new_page(new_context)
    await again.goto(link)
    form = again.get_by_role("form", name="Choose a new password")
    await form.get_by_label("New password").fill("yet another passphrase")
    await form.get_by_role("button", name="Set password").click()
    await expect(form.get_by_role("alert")).to_contain_text("unknown, used or expired")
    assert_clean(ann, page, again)
