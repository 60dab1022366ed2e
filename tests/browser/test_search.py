"""Searching in the browser: type in the search box, see the match, open it in its room,
even when it is older than the room's first screen of history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.ui import assert_clean, sign_up, watch
from tests.people import signed_in

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))


@pytest.mark.settings(commands_per_minute=100_000, command_burst=10_000)
async def test_search_box_finds_a_message_and_opens_it_in_its_room(server, new_context):
    writer = await signed_in(server, "Wren Writer")
    await writer.command("join", room="journal-club")
    found = await writer.command("post", room="journal-club",
                                 text="The okapi <b>trial</b> had 40 patients")
    for n in range(70):  # the match is older than what a room shows when you open it
        await writer.command("post", room="journal-club", text=f"filler number {n}")

    page = watch(await (await new_context()).new_page())
    await page.goto(server.url)
    await sign_up(page, "Sam Searcher")
    await page.locator(".directory-card", has_text="Clinical Practice Circle").get_by_role(
        "button", name="Join").click()
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await page.get_by_role("button", name="Case review").click()
    await expect(page.locator("#room-name")).to_have_text("# Case review")

    box = page.get_by_role("searchbox", name="Search messages in this community")
    await box.fill("OKAPI trial")
    await box.press("Enter")
    results = page.get_by_role("region", name="Search results")
    await expect(results.get_by_role("status")).to_have_text(
        "1 message found for “OKAPI trial”")
    hit = results.get_by_role("link")
    await expect(hit).to_have_count(1)
    await expect(hit).to_contain_text("# Journal club")
    await expect(hit).to_contain_text("Wren Writer")
    await expect(hit).to_contain_text("The okapi <b>trial</b> had 40 patients")  # as text
    await expect(hit.locator("mark")).to_have_text(["okapi", "trial"])
    assert await hit.locator("b").count() == 0
    await page.screenshot(path=str(SHOTS / "search.png"))

    await box.press("ArrowDown")  # from the box to the first result, by keyboard
    await expect(hit).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#room-name")).to_have_text("# Journal club")
    target = page.locator(f'.message-list li[data-id="{found["seq"]}"]')
    await expect(target).to_have_class("message found")
    await expect(target).to_be_focused()
    await expect(target).to_be_in_viewport()
    assert page.url.endswith("#journal-club")
    await page.screenshot(path=str(SHOTS / "search-found.png"))

    await box.fill('"* -')  # no words: the server says so, the page says why
    await box.press("Enter")
    await expect(results.get_by_role("status")).to_contain_text("at least one word")
    assert_clean(page)
