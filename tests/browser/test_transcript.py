"""The transcript page in the browser (/s/<session>/transcript): lines by segment with
times in the viewer's own time zone, export links that download the files, and the
caption upload form for hosts (not for members), with a bad file's error shown."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.ui import assert_clean, sign_in, watch
from tests.people import Person
from tests.test_transcripts import CAPTIONS, SESSION, open_session, session_op

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))


def clock(ms: int, zone: str) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%H:%M")


async def test_the_transcript_page_shows_exports_and_takes_captions(server, new_context):
    owner = await Person.sign_up(server.url, "Olu Owner", login="oluowner")
    reply = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "Wound care",
        "purpose": "Learn together", "join_policy": "open"})
    assert reply.status_code == 201, reply.text
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    member = await Person.sign_up(server.url, "Mo Member", login="momember")
    await member.join("guild")
    await member.call("PATCH", "/api/profile", {"timezone": "Asia/Tokyo"})
    await open_session(server, owner, room)
    host = await owner.connect(server.ws_url)
    await host.identify(community="guild")
    for op in ({"op": "note", "text": "Olu presents the heel case"},
               {"op": "off_record", "on": True}, {"op": "say", "text": "candid"},
               {"op": "off_record", "on": False}):
        await session_op(host, op)
    await host.close()
    events = await server.practica.store.read(f"session:{SESSION}")
    chat_ts = events[2].ts
    off, on = (e.ts for e in events if e.body is not None
               and type(e.body).__name__ in ("OffRecordStarted", "OffRecordEnded"))

    page = watch(await (await new_context(locale="en-GB", timezone_id="UTC",
                                          accept_downloads=True)).new_page())
    await page.goto(server.url)
    await sign_in(page, "oluowner")
    await page.goto(f"{server.url}/s/{SESSION}/transcript")
    await expect(page.locator("#transcript-title")).to_have_text("Community hour")
    talk = page.get_by_role("region", name=f"1. Talk {clock(events[1].ts, 'UTC')}")
    await expect(talk.locator(".transcript-line")).to_have_count(5)
    await expect(talk.locator(".kind-note")).to_contain_text(
        "Note Olu Owner: Olu presents the heel case")
    await expect(talk.locator(".kind-off_record")).to_have_text(
        f"{clock(off, 'UTC')} Off the record from {clock(off, 'UTC')} to {clock(on, 'UTC')}"
        " by Olu Owner")
    await expect(talk).not_to_contain_text("candid")
    chat = talk.locator(".transcript-line.kind-chat")
    # Olu owns the community: an Erase button on every line of words (erasing: test_erasure.py)
    await expect(chat).to_have_text(f"{clock(chat_ts, 'UTC')} Olu Owner: hello *all* Erase")
    await expect(talk.locator(".kind-question")).to_contain_text(
        "Question 1 Anonymous (0 votes, open): Who pays?")

    exports = page.get_by_role("navigation", name="Export the transcript")
    async with page.expect_download() as download_info:
        await exports.get_by_role("link", name="Markdown").click()
    download = await download_info.value
    assert download.suggested_filename == f"{SESSION}-transcript.md"
    saved = await asyncio.to_thread(Path(await download.path()).read_text)
    assert "hello \\*all\\*" in saved
    await expect(exports.get_by_role("link", name="WebVTT")).to_have_attribute(
        "href", f"/api/sessions/{SESSION}/transcript.vtt")

    form = page.get_by_role("form", name="Add captions")
    await form.get_by_label("Caption file").set_input_files(files=[{
        "name": "bad.vtt", "mimeType": "text/vtt",
        "buffer": b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nbackwards\n"}])
    await form.get_by_role("button", name="Upload captions").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "line 3 (cue 1): the cue ends before it starts")
    await form.get_by_label("Caption file").set_input_files(files=[{
        "name": "hour.vtt", "mimeType": "text/vtt", "buffer": CAPTIONS}])
    await form.get_by_role("button", name="Upload captions").click()
    await expect(form.get_by_role("status")).to_have_text("Added 2 captions.")
    await expect(form.get_by_role("alert")).to_be_hidden()
    await expect(talk.locator(".kind-caption")).to_have_count(2)
    await expect(talk.locator(".transcript-line")).to_have_count(7)
    await expect(talk.locator(".kind-caption").first).to_contain_text(
        "Caption Olu Owner: Welcome")
    await page.screenshot(path=str(SHOTS / "transcript.png"), full_page=True)

    # A member reads it in their own zone (their profile's), without the upload form.
    reader = watch(await (await new_context(locale="en-GB",
                                            timezone_id="America/New_York")).new_page())
    await reader.goto(server.url)
    await sign_in(reader, "momember")
    await reader.goto(f"{server.url}/s/{SESSION}/transcript")
    line = reader.locator(".transcript-line.kind-chat")
    await expect(line).to_have_text(f"{clock(chat_ts, 'Asia/Tokyo')} Olu Owner: hello *all*")
    await expect(reader.locator(".transcript-line.kind-caption")).to_have_count(2)
    await expect(reader.get_by_role("form", name="Add captions")).to_be_hidden()
    assert_clean(page, reader)


async def test_someone_outside_the_community_is_told_they_may_not_read_it(server, new_context):
    owner = await Person.sign_up(server.url, "Olu Owner")
    await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p"})
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    await open_session(server, owner, room)
    await Person.sign_up(server.url, "Out Sider", login="outsider")
    page = watch(await (await new_context()).new_page())
    await page.goto(server.url)
    await sign_in(page, "outsider")
    await page.goto(f"{server.url}/s/{SESSION}/transcript")
    await expect(page.locator("#transcript-error")).to_contain_text("not a member of guild")
    await expect(page.locator(".transcript-line")).to_have_count(0)
    assert_clean(page)


async def test_a_session_guest_link_admits_to_the_session_and_its_transcript(
        server, new_context):
    owner = await Person.sign_up(server.url, "Olu Owner", login="oluowner")
    await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "Wound care", "purpose": "p"})
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    await open_session(server, owner, room)
    host = watch(await (await new_context()).new_page())
    await host.goto(server.url)
    await sign_in(host, "oluowner")
    await host.goto(f"{server.url}/c/guild")
    await host.get_by_role("button", name="Manage", exact=True).click()
    form = host.get_by_role("form", name="Create guest link")
    await form.get_by_label("Room").select_option(label="Clinic")
    await form.get_by_label("Session").select_option(label="Community hour")
    await form.get_by_role("button", name="Create guest link").click()
    link = host.get_by_role("textbox", name="Guest link", exact=True)
    await expect(link).to_have_value(re.compile(f"^{re.escape(server.url)}/guest/"))
    await expect(host.locator("#invite-list")).to_contain_text(f"Clinic · session {SESSION}")

    page = watch(await (await new_context()).new_page())
    await page.goto(await link.input_value())
    guest_form = page.get_by_role("form", name="Join as a guest")
    await expect(guest_form.get_by_role("heading")).to_have_text("A live session in # Clinic")
    await expect(guest_form).to_contain_text("A guest attends this one session")
    await guest_form.get_by_label("Display name").fill("Remote Rosa")
    await guest_form.get_by_role("button", name="Join as guest").click()
    await expect(guest_form).to_be_hidden()
    assert await page.evaluate("window.practica.ui.guest.session") == SESSION
    await page.goto(f"{server.url}/s/{SESSION}/transcript")
    await expect(page.locator(".transcript-line.kind-chat")).to_contain_text("hello *all*")
    await expect(page.get_by_role("form", name="Add captions")).to_be_hidden()
    assert_clean(host, page)
