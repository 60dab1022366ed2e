"""Managing the repertoire in the browser: the artefacts by kind and tag (filter chips),
collections made, filled, reordered and emptied by an owner and read by a newcomer with
"Start here" first, importing a zip made by the export (a broken one refused, naming
the file), and the Manage pane's switch making the confidential-details review
mandatory."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.async_api import expect

from tests.browser.ui import assert_clean, sign_in, watch
from tests.people import Person

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def owned(server, community: str, login: str) -> Person:
    owner = await Person.sign_up(server.url, "Cleo Curator", login=login)
    made = await owner.call("POST", "/api/communities", {
        "community": community, "name": community.title(), "domain": "Wards",
        "purpose": "Learn together", "join_policy": "open"})
    assert made.status_code == 201, made.text
    return owner


async def artefact(person: Person, community: str, kind: str, title: str,
                   tags: list[str]) -> str:
    made = await person.call("POST", f"/api/communities/{community}/artefacts", {
        "kind": kind, "title": title, "body": f"About {title}.", "tags": tags})
    assert made.status_code == 201, made.text
    return str(made.json()["artefact"]["artefact"])


async def browser(server, new_context, login: str):
    page = watch(await (await new_context(locale="en-GB", timezone_id="UTC")).new_page())
    await page.goto(server.url)
    await sign_in(page, login)
    return page


async def test_filters_and_collections_made_by_an_owner_and_read_by_a_newcomer(
        server, new_context):
    owner = await owned(server, "ward", "cleocurator")
    call = await artefact(owner, "ward", "faq", "When to call", ["family"])
    listen = await artefact(owner, "ward", "insight", "Listen first", ["family", "intake"])
    sheet = await artefact(owner, "ward", "template", "Handover sheet", ["handover"])
    page = await browser(server, new_context, "cleocurator")
    await page.goto(f"{server.url}/c/ward/repertoire")
    listed = page.get_by_role("list", name="Artefacts").get_by_role("listitem")
    await expect(listed).to_have_count(3)

    kinds = page.get_by_role("group", name="Kind")
    tags = page.get_by_role("group", name="Tag")
    await expect(tags.get_by_role("button")).to_have_text(
        ["All tags", "#family", "#handover", "#intake"])
    await kinds.get_by_role("button", name="Insight").click()
    await expect(kinds.get_by_role("button", name="Insight")).to_have_attribute(
        "aria-pressed", "true")
    await expect(listed.get_by_role("link")).to_have_text(["Listen first"])
    await kinds.get_by_role("button", name="All kinds").click()
    await tags.get_by_role("button", name="#family").click()
    await expect(listed.get_by_role("link")).to_have_text(["Listen first", "When to call"])
    await kinds.get_by_role("button", name="Case story").click()  # both: nothing
    await expect(listed).to_have_text(["No artefacts of that kind and tag."])
    await kinds.get_by_role("button", name="All kinds").click()
    await tags.get_by_role("button", name="All tags").click()
    await expect(listed).to_have_count(3)

    form = page.get_by_role("form", name="New collection")
    await form.get_by_label("Collection title").fill("Start here")
    await form.get_by_label("Description").fill("For your first week")
    await form.get_by_label("First artefact").select_option(label="When to call")
    await form.get_by_role("button", name="Make collection").click()
    start = page.get_by_role("region", name="Start here")
    await expect(start.get_by_role("link")).to_have_text(["When to call"])
    await start.get_by_label("Artefact to add to Start here").select_option(label="Listen first")
    await start.get_by_role("button", name="Add to Start here").click()
    await expect(start.get_by_role("link")).to_have_text(["When to call", "Listen first"])
    await start.get_by_label("Artefact to add to Start here").select_option(label="Handover sheet")
    await start.get_by_role("button", name="Add to Start here").click()
    await expect(start.get_by_role("link")).to_have_count(3)
    await start.get_by_role("button", name="Move Handover sheet up").click()
    await expect(start.get_by_role("link")).to_have_text(
        ["When to call", "Handover sheet", "Listen first"])
    await expect(start.get_by_role("button", name="Move When to call up")).to_be_disabled()
    await start.get_by_role("button", name="Remove Listen first from Start here").click()
    await expect(start.get_by_role("link")).to_have_text(["When to call", "Handover sheet"])
    # The same title again: refused in the form, nothing replaced.
    await form.get_by_label("Collection title").fill("Start here")
    await form.get_by_role("button", name="Make collection").click()
    await expect(form.get_by_role("alert")).to_contain_text(
        'There is a collection "start-here" already')
    saved = (await owner.call("GET", "/api/communities/ward/collections/start-here")).json()
    assert [a["artefact"] for a in saved["artefacts"]] == [call, sheet]
    assert saved["description"] == "For your first week"
    assert listen not in str(saved)

    newcomer = await Person.sign_up(server.url, "Nia Newcomer", login="nianewcomer")
    await newcomer.join("ward")
    other = await browser(server, new_context, "nianewcomer")
    await other.goto(f"{server.url}/c/ward")  # the front page points a newcomer there
    hint = other.locator("#start-here-hint")
    await expect(hint).to_have_text("New here? Start here: 2 things to read first, in order.")
    await hint.get_by_role("link", name="Start here").click()
    await expect(other).to_have_url(f"{server.url}/c/ward/repertoire")
    first = other.get_by_role("region", name="Start here")
    await expect(first).to_contain_text("New here? Read these first, in this order.")
    await expect(first.get_by_role("link")).to_have_text(["When to call", "Handover sheet"])
    # Start here comes before the search, the other collections and the artefacts.
    assert await other.evaluate(
        "document.querySelector('#repertoire-start').compareDocumentPosition("
        "document.querySelector('#repertoire-search')) & Node.DOCUMENT_POSITION_FOLLOWING")
    await expect(first.get_by_role("button")).to_have_count(0)  # members read, only
    await expect(other.get_by_role("form", name="New collection")).to_be_hidden()
    await expect(other.get_by_role("form", name="Import a repertoire")).to_be_hidden()
    refused = await newcomer.call("PUT", "/api/communities/ward/collections/start-here", {
        "title": "Mine", "artefacts": [listen]})
    assert refused.status_code == 403
    await first.get_by_role("link", name="Handover sheet").click()
    await expect(other.locator("#repertoire-title")).to_have_text("Handover sheet")
    assert_clean(page, other)


def zipped(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


async def test_a_repertoire_exported_from_one_community_is_imported_into_another(
        server, new_context, tmp_path):
    owner = await owned(server, "ward", "imogenimporter")
    made = await owner.call("POST", "/api/communities", {
        "community": "annex", "name": "Annex", "domain": "Wards",
        "purpose": "Learn together", "join_policy": "open"})
    assert made.status_code == 201, made.text
    await artefact(owner, "ward", "insight", "Listen first", ["intake"])
    page = await browser(server, new_context, "imogenimporter")
    await page.goto(f"{server.url}/c/ward/repertoire")
    export = page.get_by_role("link", name="Export (markdown files)")
    await expect(export).to_have_attribute("href", "/api/communities/ward/repertoire/export")
    async with page.expect_download() as downloading:
        await export.click()
    exported = tmp_path / "ward.zip"
    await (await downloading.value).save_as(exported)
    assert any(n.startswith("artefacts/insight/")
               for n in zipfile.ZipFile(exported).namelist())

    await page.goto(f"{server.url}/c/annex/repertoire")
    form = page.get_by_role("form", name="Import a repertoire")
    await form.get_by_role("button", name="Import").click()
    await expect(form.get_by_role("alert")).to_have_text("Choose a zip exported by Practica first.")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zipped({"artefacts/faq/a.md": "no front matter"}))
    await form.get_by_label("A zip exported by Practica").set_input_files(broken)
    await form.get_by_role("button", name="Import").click()
    alert = form.get_by_role("alert")
    await expect(alert).to_contain_text("Not imported (invalid)")
    await expect(alert).to_contain_text("artefacts/faq/a.md")
    assert (await owner.call("GET", "/api/communities/annex/artefacts")).json() == []
    not_zip = tmp_path / "notes.zip"
    not_zip.write_bytes(b"just text")
    await form.get_by_label("A zip exported by Practica").set_input_files(not_zip)
    await form.get_by_role("button", name="Import").click()
    await expect(alert).to_contain_text("Not imported (invalid)")

    await form.get_by_label("A zip exported by Practica").set_input_files(exported)
    await form.get_by_role("button", name="Import").click()
    await expect(form.get_by_role("status")).to_contain_text(
        "Imported 1 artefact and 0 collections.")
    await expect(alert).to_be_hidden()
    await expect(page.get_by_role("list", name="Artefacts").get_by_role("link")).to_have_text(
        ["Listen first"])
    assert_clean(page)


async def test_an_owner_makes_the_review_mandatory_in_manage(server, new_context):
    owner = await owned(server, "clinic", "oonaowner")
    page = await browser(server, new_context, "oonaowner")
    await page.goto(f"{server.url}/c/clinic")
    await page.get_by_role("button", name="Manage", exact=True).click()
    section = page.get_by_role("region", name="Confidential details")
    box = section.get_by_label("The review is mandatory")
    await expect(box).not_to_be_checked()
    await expect(section.get_by_role("status")).to_contain_text("Advice")
    await box.check()
    await expect(section.get_by_role("status")).to_contain_text("Mandatory")
    setting = await owner.call("GET", "/api/communities/clinic/repertoire/review")
    assert setting.json() == {"required": True}
    await page.reload()
    await page.get_by_role("button", name="Manage", exact=True).click()
    await expect(box).to_be_checked()
    await box.uncheck()
    await expect(section.get_by_role("status")).to_contain_text("Advice")
    assert (await owner.call("GET", "/api/communities/clinic/repertoire/review")
            ).json() == {"required": False}

    member = await Person.sign_up(server.url, "Max Member", login="maxmember")
    await member.join("clinic")
    other = await browser(server, new_context, "maxmember")
    await other.goto(f"{server.url}/c/clinic")
    await expect(other.get_by_role("button", name="Manage", exact=True)).to_be_hidden()
    await expect(other.locator("#review-section")).to_be_hidden()
    await expect(other.locator("#start-here-hint")).to_be_hidden()  # no Start here here
    refused = await member.call("PUT", "/api/communities/clinic/repertoire/review",
                                {"required": True})
    assert refused.status_code == 403
    assert_clean(page, other)
