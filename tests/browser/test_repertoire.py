"""The repertoire in the browser: select lines in a transcript, make a case story, edit
it (history and diff), endorse and comment on it, find it by search, and follow its
provenance link back to that transcript moment; the confidential-details guard in the
form, with a mandatory review."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from server.confidential import warm
from tests.browser.ui import assert_clean, sign_in, watch
from tests.people import DEMO, Person
from tests.test_transcripts import open_session

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))
SESSION = "s-demo-syncope"  # the demo community's seeded transcript


@pytest.fixture(autouse=True, scope="module")
def detectors() -> None:
    """The confidential-details detectors, loaded once for this module's servers (they
    take seconds to import; a server loads them in the background when a community
    makes its review mandatory)."""
    warm()


async def test_a_case_story_from_transcript_lines_is_edited_found_and_traced_back(
        server, new_context):
    member = await Person.sign_up(server.url, "Rhea Reader", login="rheareader")
    await member.join(DEMO)
    page = watch(await (await new_context(locale="en-GB", timezone_id="UTC")).new_page())
    await page.goto(server.url)
    await sign_in(page, "rheareader")

    await page.goto(f"{server.url}/s/{SESSION}/transcript")
    form = page.get_by_role("form", name="Make an artefact from the lines you selected")
    await expect(form).to_be_hidden()
    await page.get_by_label("Select line 3").check()
    await page.get_by_label("Select line 4").check()
    await expect(form).to_be_visible()
    await expect(form.get_by_role("status")).to_contain_text("2 lines selected")
    await form.get_by_label("Kind").select_option("case_story")
    await form.get_by_label("Title").fill("Standing up matters")
    await form.get_by_label("Text (markdown)").fill("Check **orthostatic** vitals first.")
    await form.get_by_label("Tags").fill("syncope bedside")
    await form.get_by_role("button", name="Make artefact").click()

    await expect(page).to_have_url(re.compile(r"/r/a-[0-9a-f]+$"))
    await expect(page.locator("#repertoire-title")).to_have_text("Standing up matters")
    await expect(page.locator("#artefact-body strong")).to_have_text("orthostatic")
    quote = page.locator(".artefact-quote")
    await expect(quote.locator("p")).to_have_text([
        "Dr Amara Osei: Today's case: recurring syncope, normal ECG, two admissions in a "
        "month.", "Jonas Berg, RN: Overnight telemetry showed nothing, but the episodes "
        "all came after standing up from the bed."])

    edit = page.get_by_role("form", name="Edit")
    await edit.get_by_label("Title").fill("Standing up matters, always")
    await edit.get_by_label("What changed").fill("a stronger title")
    await edit.get_by_role("button", name="Save revision").click()
    await expect(page.locator("#artefact-meta")).to_contain_text("revision 2")
    await expect(page.locator("#repertoire-title")).to_have_text("Standing up matters, always")

    history = page.get_by_role("list", name="Revisions").get_by_role("listitem")
    await expect(history).to_have_count(2)
    await expect(history.nth(1)).to_contain_text("Revision 2 by Rhea Reader")
    await expect(history.nth(1)).to_contain_text("a stronger title")
    await history.nth(1).get_by_role("button", name="Show changes").click()
    await expect(page.get_by_label("Changes", exact=True)).to_contain_text(
        "-# Standing up matters\n+# Standing up matters, always")
    await page.get_by_role("button", name="This helped me").click()
    await expect(page.get_by_role("button", name="This helped me ✓")).to_have_attribute(
        "aria-pressed", "true")
    await expect(page.locator("#artefact-endorsements")).to_have_text("Helped Rhea Reader")
    talk = page.get_by_role("form", name="Comment")
    await talk.get_by_label("Your comment").fill("Worth a poster on the ward.")
    await talk.get_by_role("button", name="Comment").click()
    await expect(page.get_by_role("list", name="Comments")).to_have_text(
        "Rhea Reader: Worth a poster on the ward.")

    await page.get_by_role("link", name="Back to the community").click()
    await page.get_by_role("navigation", name="Community").get_by_role(
        "link", name="Repertoire").click()
    await expect(page).to_have_url(f"{server.url}/c/{DEMO}/repertoire")
    start_here = page.get_by_role("region", name="Start here")
    await expect(start_here.get_by_role("link")).to_have_count(4)
    search = page.get_by_role("search", name="Search the repertoire")
    await search.get_by_label("Search artefacts and transcripts").fill("always")
    await search.get_by_role("button", name="Search").click()
    hits = page.get_by_role("list", name="Search results").get_by_role("listitem")
    await expect(hits.first).to_contain_text("Standing up matters, always")
    await page.screenshot(path=str(SHOTS / "repertoire.png"), full_page=True)
    await hits.first.get_by_role("link").click()
    await expect(page.locator("#repertoire-title")).to_have_text("Standing up matters, always")

    await page.get_by_role("link", name="Read it in the transcript").click()
    await expect(page).to_have_url(f"{server.url}/s/{SESSION}/transcript#seq-3")
    await expect(page.locator("#seq-3")).to_have_class(re.compile(r"\bat-target\b"))
    await expect(page.locator("#seq-3")).to_contain_text("Today's case")
    assert_clean(page)


async def test_the_guard_shows_details_and_a_mandatory_review_needs_each_confirmed(
        server, new_context):
    owner = await Person.sign_up(server.url, "Olu Owner", login="oluowner")
    made = await owner.call("POST", "/api/communities", {
        "community": "clinic", "name": "Clinic", "domain": "Wound care",
        "purpose": "Learn together", "join_policy": "open"})
    assert made.status_code == 201, made.text
    room = (await owner.call("POST", "/api/communities/clinic/rooms",
                             {"name": "Ward"})).json()["rooms"][0]["room"]
    await open_session(server, owner, room, "s-ward", community="clinic")
    review = await owner.call("PUT", "/api/communities/clinic/repertoire/review",
                              {"required": True})
    assert review.status_code == 200, review.text
    member = await Person.sign_up(server.url, "Mo Member", login="momember")
    await member.join("clinic")
    page = watch(await (await new_context(locale="en-GB", timezone_id="UTC")).new_page())
    await page.goto(server.url)
    await sign_in(page, "momember")
    before = await server.practica.store.streams("artefact:")  # the demo's
    await page.goto(f"{server.url}/s/s-ward/transcript")
    await page.locator("input.line-select").first.check()
    form = page.get_by_role("form", name="Make an artefact from the lines you selected")
    await form.get_by_label("Title").fill("A hard week")
    await form.get_by_label("Text (markdown)").fill("Mrs Jones (DOB 14/03/1962) asked again.")
    make = form.get_by_role("button", name="Make artefact")
    await make.click()
    found = form.get_by_role("region", name="Confidential details found")
    await expect(found.get_by_role("checkbox")).to_have_count(2)
    await expect(form.get_by_role("alert")).to_contain_text("Found 2 possibly identifying")
    await page.screenshot(path=str(SHOTS / "repertoire-guard.png"), full_page=True)
    # One confirmed, one left: the mandatory review refuses, nothing is made.
    await found.get_by_label("Fine to publish: Mrs Jones (titled name, in the text)").check()
    await make.click()
    await expect(form.get_by_role("alert")).to_contain_text("date_of_birth:14/03/1962")
    assert await server.practica.store.streams("artefact:") == before
    # The date edited out: made.
    await form.get_by_label("Text (markdown)").fill("Mrs Jones asked again.")
    await make.click()
    await expect(page).to_have_url(re.compile(r"/r/a-[0-9a-f]+$"))
    await expect(page.locator("#artefact-body")).to_have_text("Mrs Jones asked again.")
    assert_clean(page)


async def test_a_suggested_change_is_made_in_one_browser_and_accepted_in_another(
        server, new_context):
    author = await Person.sign_up(server.url, "Ada Author", login="adaauthor")
    await author.join(DEMO)
    made = await author.call("POST", f"/api/communities/{DEMO}/artefacts", {
        "kind": "faq", "title": "When to call the family", "body": "Early."})
    ident = made.json()["artefact"]["artefact"]
    suggester = await Person.sign_up(server.url, "Sam Suggester", login="samsuggester")
    await suggester.join(DEMO)

    page = watch(await (await new_context(locale="en-GB", timezone_id="UTC")).new_page())
    await page.goto(server.url)
    await sign_in(page, "samsuggester")
    await page.goto(f"{server.url}/r/{ident}")
    await expect(page.get_by_role("form", name="Edit")).to_be_hidden()
    form = page.get_by_role("form", name="Suggest a change")
    await form.get_by_label("Suggested text (markdown)").fill("Early, and again at discharge.")
    await form.get_by_label("Why").fill("Families asked for it")
    await form.get_by_role("button", name="Suggest").click()
    suggestions = page.get_by_role("list", name="Suggested changes")
    await expect(suggestions).to_contain_text(
        'Sam Suggester suggests "When to call the family": Families asked for it (open)')
    await expect(suggestions.get_by_role("button", name="Accept")).to_have_count(0)

    other = watch(await (await new_context(locale="en-GB", timezone_id="UTC")).new_page())
    await other.goto(server.url)
    await sign_in(other, "adaauthor")
    await other.goto(f"{server.url}/r/{ident}")
    await expect(other.get_by_role("form", name="Suggest a change")).to_be_hidden()
    listed = other.get_by_role("list", name="Suggested changes")
    await listed.get_by_label("Reason for suggestion 1").fill("Good point")
    await listed.get_by_role("button", name="Accept").click()
    await expect(other.locator("#artefact-body")).to_have_text("Early, and again at discharge.")
    await expect(other.locator("#artefact-meta")).to_contain_text(
        "by Ada Author, with Sam Suggester · revision 2")
    await expect(listed).to_contain_text("(accepted: Good point)")
    assert_clean(page, other)
