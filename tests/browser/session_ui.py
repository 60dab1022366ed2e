"""Driving a live session in the browser as a person would: a host and members in a
room, opening a session, editing its agenda, joining it; reading the server's view."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import BrowserContext, Page, expect

from tests.browser.test_accounts import owner_with_community
from tests.browser.ui import live, open_room, sign_up, watch
from tests.pictures import readme_picture

PHONE = {"width": 375, "height": 740}
SESSION_BUTTON = re.compile(r"^Session( · live)?$")  # the room header's


async def host_in_room(new_context: Any, server: Any) -> Page:
    ann = await owner_with_community(new_context, server)
    await open_room(ann, "Case files")
    return ann


async def member_in_room(new_context: Any, server: Any, name: str,
                         context: BrowserContext | None = None, **options: Any) -> Page:
    """A new member (through the page) in the room; in ``context`` if given."""
    page = watch(await (context or await new_context(**options)).new_page())
    await page.goto(f"{server.url}/c/wound-care")
    await sign_up(page, name)
    await page.get_by_role("button", name="Join", exact=True).click()
    await live(page)
    await open_room(page, "Case files")
    return page


async def open_session(host: Page, title: str = "Tuesday community hour") -> str:
    """From the room header: open a session with the default agenda; its id."""
    await host.get_by_role("button", name=SESSION_BUTTON).click()
    form = host.get_by_role("form", name="Open a session")
    await form.get_by_label("Session title").fill(title)
    await form.get_by_role("button", name="Open session").click()
    await expect(host.locator("#session-title")).to_have_text(title)
    await expect(host).to_have_url(re.compile(r"/s/[^/]+$"))
    return host.url.rsplit("/", 1)[1]


async def set_agenda(host: Page, minutes: list[int]) -> None:
    """Edit the agenda in place: segment i gets minutes[i]."""
    await host.get_by_role("button", name="Edit agenda").click()
    form = host.get_by_role("form", name="Edit the agenda")
    for i, value in enumerate(minutes, start=1):
        await form.get_by_label(f"Segment {i} minutes").fill(str(value))
    await form.get_by_role("button", name="Save agenda").click()
    await expect(form).to_be_hidden()


async def join_session(page: Page) -> None:
    await page.get_by_role("button", name=SESSION_BUTTON).click()
    await expect(page.locator("#session-live")).to_be_visible()


async def fetch_session(page: Page, session: str) -> dict[str, Any]:
    """The server's snapshot of the session (GET /api/sessions/{id}, as that page)."""
    view: dict[str, Any] = await page.evaluate(
        "async (id) => (await fetch(`/api/sessions/${id}`)).json()", session)
    snapshot: dict[str, Any] = view["snapshot"]
    return snapshot


def countdown_seconds(text: str) -> int:
    parts = [int(p) for p in text.split(" ")[0].split(":")]
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


async def readme_screenshots(host: Page, member: Page) -> None:
    """The README's pictures: the host console at desktop width, the member view on a
    phone, each from the top of the session."""
    await host.set_viewport_size({"width": 1280, "height": 1280})
    await member.set_viewport_size({"width": 375, "height": 1500})
    for page in (host, member):
        await page.evaluate("""() => {
          document.getElementById('toast').hidden = true;
          document.activeElement && document.activeElement.blur();
          document.getElementById('session-view').scrollTop = 0;
          const view = document.getElementById('session-view');
          view.scrollIntoView();
        }""")
    await host.screenshot(path=readme_picture("screenshot-host.png"))
    await member.screenshot(path=readme_picture("screenshot-member.png"))


def board(page: Page):
    return page.locator("#board .question .question-text")
