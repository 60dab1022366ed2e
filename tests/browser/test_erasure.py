"""Erasing your words in the browser, and every open page learning of it: Bob erases a
line of his chat from the transcript page (after confirming); the host's open session
page, another member's transcript page and an artefact page quoting the line show
"(erased)" without a reload; so do a transcript tab and an artefact tab opened on their
own (they follow the session without attending it), and the session page opened later in
that transcript tab still attends, across a reconnect too; only the speaker and an owner
see an Erase button; an erased question leaves the host's board, which stays live; a
refused or failed erasure says why in the page's error box."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from server.confidential import warm
from tests.browser.session_ui import board, host_in_room, join_session, member_in_room, open_session
from tests.browser.ui import assert_clean, watch

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
PHONE_LINE = "Ring me on 0612 345 678 after the shift"
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))


@pytest.fixture(autouse=True, scope="module")
def detectors() -> None:
    """The confidential-details detectors, loaded once (the artefact form scans quotes)."""
    warm()


def transcript_line(page: Page, text: str):
    return page.locator("#transcript-segments .transcript-line", has_text=text)


async def seq_of(page: Page, text: str) -> int:
    return int(await transcript_line(page, text).get_attribute("data-seq") or 0)


async def to_transcript(page: Page) -> None:
    """From the session page, by its link: the tab still follows the session."""
    await page.get_by_role("link", name="Transcript and exports").click()
    await expect(page.locator("#transcript-page")).to_be_visible()


async def erase(page: Page, seq: int) -> None:
    await page.get_by_role("button", name=f"Erase line {seq}").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Erase these words?")
    await dialog.get_by_role("button", name="Erase the words").click()


async def make_artefact(page: Page, seq: int, title: str) -> None:
    """From the transcript page: quote line ``seq`` (confirming what the guard finds)."""
    await page.get_by_label(f"Select line {seq}").check()
    form = page.get_by_role("form", name="Make an artefact from the lines you selected")
    await form.get_by_label("Title").fill(title)
    await form.get_by_label("Text (markdown)").fill("Agree how to reach each other.")
    make = form.get_by_role("button", name="Make artefact")
    await make.click()
    found = form.get_by_role("region", name="Confidential details found")
    await expect(page.locator("#repertoire-title").or_(found)).to_be_visible()
    if await found.is_visible():
        for box in await found.get_by_role("checkbox").all():
            await box.check()
        await make.click()
    await expect(page).to_have_url(re.compile(r"/r/a-[0-9a-f]+$"))
    await expect(page.locator("#repertoire-title")).to_have_text(title)


async def test_erased_words_leave_every_open_page(server, new_context):
    ann = await host_in_room(new_context, server)
    bob = await member_in_room(new_context, server, "Bob Member")
    cara = await member_in_room(new_context, server, "Cara Member")
    session = await open_session(ann)
    for page in (bob, cara):
        await join_session(page)
    await ann.get_by_label("Say in the session").fill("Welcome, all")
    await ann.get_by_label("Say in the session").press("Enter")
    await bob.get_by_label("Say in the session").fill(PHONE_LINE)
    await bob.get_by_label("Say in the session").press("Enter")
    for page in (ann, cara):
        await expect(page.locator("#session-chat")).to_contain_text(f"Bob Member: {PHONE_LINE}")
    await ann.evaluate("window.notReloaded = true")

    # Cara (neither the speaker nor an owner) reads the transcript: no Erase button there.
    await to_transcript(cara)
    await expect(transcript_line(cara, PHONE_LINE)).to_be_visible()
    seq = await seq_of(cara, PHONE_LINE)
    await expect(cara.get_by_role("button", name=re.compile(r"^Erase line"))).to_have_count(0)
    welcome = await seq_of(cara, "Welcome, all")
    await cara.get_by_label(f"Select line {welcome}").check()  # kept across live reloads

    # Ann, the owner, in a second tab: an Erase button on Bob's line; she quotes it.
    quoting = watch(await ann.context.new_page())
    await quoting.goto(f"{server.url}/s/{session}")
    await expect(quoting.locator("#session-title")).to_have_text("Tuesday community hour")
    await to_transcript(quoting)
    await expect(quoting.get_by_role("button", name=f"Erase line {seq}")).to_be_visible()
    await quoting.screenshot(path=str(SHOTS / "transcript-erase.png"), full_page=True)
    await make_artefact(quoting, seq, "Reaching each other")
    quote = quoting.locator(".artefact-quote p")
    await expect(quote).to_have_text(f"Bob Member: {PHONE_LINE}")

    # Bob, in a tab of his own, erases his line: cancelled first, then confirmed.
    mine = watch(await bob.context.new_page())
    await mine.goto(f"{server.url}/s/{session}/transcript")
    await mine.get_by_role("button", name=f"Erase line {seq}").click()
    await mine.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(transcript_line(mine, PHONE_LINE)).to_be_visible()
    await erase(mine, seq)
    line = mine.locator(f"#seq-{seq}")
    await expect(line).to_contain_text("(erased)")
    await expect(line).to_have_class(re.compile(r"\bkind-erased\b"))
    await expect(line.get_by_role("checkbox")).to_have_count(0)
    await expect(mine.locator("#transcript-segments")).not_to_contain_text("0612")
    await mine.screenshot(path=str(SHOTS / "transcript-erased.png"), full_page=True)

    # Every open page learns of it without a reload.
    chat = ann.locator("#session-chat")
    await expect(chat.locator(".said-erased")).to_have_text("(erased)")
    await expect(chat).not_to_contain_text("0612")
    assert await ann.evaluate("window.notReloaded") is True
    await expect(cara.locator(f"#seq-{seq}")).to_contain_text("(erased)")
    await expect(cara.locator("#transcript-segments")).not_to_contain_text("0612")
    await expect(cara.get_by_label(f"Select line {welcome}")).to_be_checked()
    await expect(cara.get_by_role("form", name="Make an artefact from the lines you selected")
                 ).to_be_visible()
    await expect(quote).to_have_text("(erased)")
    await quoting.reload()
    await expect(quoting.locator(".artefact-quote p")).to_have_text("(erased)")

    # A question asked, then erased by its asker: gone from Ann's board, which stays live.
    await bob.get_by_label("Your question").fill("May I share my number here?")
    await bob.get_by_role("button", name="Ask", exact=True).click()
    await expect(board(ann)).to_have_text(["May I share my number here?"])
    # Bob's transcript tab, opened on its own, follows the session too: it arrives live.
    await expect(transcript_line(mine, "May I share my number here?")).to_be_visible()
    asked = await seq_of(mine, "May I share my number here?")
    await erase(mine, asked)
    await expect(mine.locator(f"#seq-{asked}")).to_contain_text("(erased)")
    await expect(board(ann)).to_have_count(0)
    await expect(ann.locator("#board")).to_contain_text("No questions yet.")
    await cara.get_by_role("link", name="Back to the session").click()
    await cara.get_by_label("Your question").fill("What counts as identifying?")
    await cara.get_by_role("button", name="Ask", exact=True).click()
    await expect(board(ann)).to_have_text(["What counts as identifying?"])
    await expect(ann.locator("#board .question")).to_have_attribute("data-question", "2")
    assert await ann.evaluate("window.notReloaded") is True
    assert_clean(ann, bob, cara, quoting, mine)


async def test_a_failed_erasure_says_why_and_changes_nothing(server, new_context):
    ann = await host_in_room(new_context, server)
    session = await open_session(ann)
    await ann.get_by_label("Say in the session").fill("mine to erase")
    await ann.get_by_label("Say in the session").press("Enter")
    await expect(ann.locator("#session-chat")).to_contain_text("mine to erase")
    page = watch(await ann.context.new_page())
    await page.goto(f"{server.url}/s/{session}/transcript")
    seq = await seq_of(page, "mine to erase")
    await page.route("**/lines/*/erase", lambda route: route.abort())
    await erase(page, seq)
    await expect(page.locator("#transcript-error")).to_have_text(
        "Could not reach the server; check the connection and try again.")
    await expect(transcript_line(page, "mine to erase")).to_be_visible()
    assert (await server.practica.store.read(f"session:{session}"))[seq - 1].body is not None
    await page.unroute("**/lines/*/erase")
    # Erased meanwhile from another tab while this page heard nothing (its socket stopped,
    # so it is stale): its Erase still ends in "(erased)", with no error.
    await page.evaluate("window.practica.gateway.stop('idle')")
    other = watch(await ann.context.new_page())
    await other.goto(f"{server.url}/s/{session}/transcript")
    await erase(other, seq)
    await expect(other.locator(f"#seq-{seq}")).to_contain_text("(erased)")
    await erase(page, seq)
    await expect(page.locator(f"#seq-{seq}")).to_contain_text("(erased)")
    await expect(page.locator("#transcript-error")).to_be_hidden()
    assert_clean(ann, page, other)


async def test_tabs_opened_on_their_own_stay_live_and_the_session_page_still_attends(
        server, new_context):
    ann = await host_in_room(new_context, server)
    bob = await member_in_room(new_context, server, "Bob Member")
    session = await open_session(ann)
    await join_session(bob)
    await bob.get_by_label("Say in the session").fill(PHONE_LINE)
    await bob.get_by_label("Say in the session").press("Enter")
    await expect(ann.locator("#session-chat")).to_contain_text(PHONE_LINE)
    making = watch(await ann.context.new_page())  # Ann quotes the line, then closes the tab
    await making.goto(f"{server.url}/s/{session}/transcript")
    seq = await seq_of(making, PHONE_LINE)
    await make_artefact(making, seq, "Reaching each other")
    artefact_url = making.url
    await making.close()

    # Cara never opens the session page: a transcript tab and an artefact tab of her own.
    cara = await member_in_room(new_context, server, "Cara Member")
    reading = watch(await cara.context.new_page())
    await reading.goto(f"{server.url}/s/{session}/transcript")
    await expect(transcript_line(reading, PHONE_LINE)).to_be_visible()
    quoting = watch(await cara.context.new_page())
    await quoting.goto(artefact_url)
    quote = quoting.locator(".artefact-quote p")
    await expect(quote).to_have_text(f"Bob Member: {PHONE_LINE}")
    stream = f"session:{session}"
    for page in (reading, quoting):
        await page.wait_for_function("(s) => window.practica.gateway.lastSeq.has(s)", arg=stream)
        await page.evaluate("window.notReloaded = true")
    attendees = ann.locator("#attendee-list")
    await expect(attendees).to_contain_text("Bob Member")
    await expect(attendees).not_to_contain_text("Cara Member")  # following is not being there

    mine = watch(await bob.context.new_page())  # Bob erases his line from a tab of his own
    await mine.goto(f"{server.url}/s/{session}/transcript")
    await erase(mine, seq)
    await expect(reading.locator(f"#seq-{seq}")).to_contain_text("(erased)")
    await expect(reading.locator("#transcript-segments")).not_to_contain_text("0612")
    await expect(quote).to_have_text("(erased)")
    for page in (reading, quoting):
        assert await page.evaluate("window.notReloaded") is True
    await expect(attendees).not_to_contain_text("Cara Member")

    # The session page, opened in the transcript tab that follows the session, attends.
    await reading.get_by_role("link", name="Back to the session").click()
    await expect(reading.locator("#session-live")).to_be_visible()
    await expect(attendees).to_contain_text("Cara Member")
    await expect(reading.locator("#attendee-list")).to_contain_text("Cara Member")
    # A reconnect drops what was followed; the session page attends again and stays live.
    await reading.evaluate("window.practica.gateway.ws.close(4000, 'test: reconnect')")
    await reading.wait_for_function(
        "(s) => window.practica.gateway.state === 'live' && window.practica.gateway.lastSeq.has(s)",
        arg=stream)
    await ann.get_by_label("Say in the session").fill("Still with us?")
    await ann.get_by_label("Say in the session").press("Enter")
    await expect(reading.locator("#session-chat")).to_contain_text("Still with us?")
    await expect(attendees).to_contain_text("Cara Member")
    assert_clean(ann, bob, cara, reading, quoting, mine)
