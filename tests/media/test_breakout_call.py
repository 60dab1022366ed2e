"""A breakout room's call in headless Chromium with fake camera and microphone, inside the
harness's loopback-only network namespace. The host pairs two members; nothing starts
before each presses "Join the call"; then their pages call each other peer to peer
(signalling over Practica's websocket only) and reach ``connectionState == "connected"``
with video frames arriving both ways; the quality indicator shows; switching the camera
off and low-bandwidth mode reach the partner's page (low bandwidth: no video either way
any more); a signal to someone outside the group, sent by a crafted page, is refused;
leaving the call shows on the partner's page and joining again calls anew; ending the
round hangs up, and the next round's call starts by itself. A trio makes a mesh: every
member receives the other two.

``PRACTICA_README_SCREENSHOTS=1`` also writes the README's picture of a call
(web/screenshot-call.png)."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.session_ui import (
    fetch_session,
    host_in_room,
    join_session,
    member_in_room,
    open_session,
)
from tests.browser.ui import assert_clean
from tests.pictures import readme_picture

pytestmark = [pytest.mark.anyio, pytest.mark.media]

NAMES = ["Bob Member", "Cara Member", "Dev Member"]
CONNECTED = 30_000  # ms: ICE, DTLS and the first frames on a busy two-core machine

FRAMES = """(member) => {
  const tile = document.querySelector(`.call-peer[data-member="${member}"]`);
  const video = tile && tile.querySelector("video");
  return video ? {state: tile.dataset.state || "", width: video.videoWidth,
                  frames: Number(tile.dataset.frames || 0)} : null;
}"""


async def me(page: Page) -> str:
    return str(await page.evaluate("window.practica.ui.me.id"))


async def receiving(page: Page, member: str) -> dict[str, Any]:
    """Wait until ``page`` is connected to ``member`` and their video has frames."""
    tile = page.locator(f'.call-peer[data-member="{member}"]')
    await expect(tile).to_have_attribute("data-state", "connected", timeout=CONNECTED)
    await polled(page, member, lambda found: found["width"] > 0)
    await expect(tile).to_have_attribute("data-frames", re.compile(r"^[1-9]\d*$"),
                                         timeout=CONNECTED)
    found: dict[str, Any] = await page.evaluate(FRAMES, member)
    return found


async def polled(page: Page, member: str, check: Any) -> None:
    """Poll (the page's CSP forbids wait_for_function's eval) until ``check`` holds."""
    for _ in range(CONNECTED // 100):
        found = await page.evaluate(FRAMES, member)
        if found and check(found):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{member} on the page: {await page.evaluate(FRAMES, member)}")


async def frames(page: Page, member: str) -> int:
    return int((await page.evaluate(FRAMES, member))["frames"])


async def screenshot(page: Page) -> None:
    """The README's picture of a breakout call (web/screenshot-call.png)."""
    await page.set_viewport_size({"width": 900, "height": 1100})
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await asyncio.sleep(2.5)  # the quality line is read every 2 s
    await page.locator("#pairs-view").screenshot(path=readme_picture("screenshot-call.png"))


async def paired_session(media_context: Any, server: Any, n: int) -> tuple[Page, list[Page]]:
    """The host and ``n`` members in a session's pair-up segment, paired."""
    host = await host_in_room(media_context, server)
    members = list(await asyncio.gather(*(member_in_room(media_context, server, name)
                                          for name in NAMES[:n])))
    await open_session(host)
    await asyncio.gather(*(join_session(page) for page in members))
    await host.get_by_role("button", name="Start session").click()
    await expect(host.locator("#attendee-list li")).to_have_count(n + 1)
    await host.get_by_role("button", name="Pair everyone").click()
    for page in members:  # nothing starts before the first press; later rooms join alone
        await expect(page.locator("#breakout-call")).to_have_count(0)
        await page.get_by_role("button", name="Join the call").click()
        await expect(page.locator("#breakout-call")).to_be_visible()
    return host, members


async def test_a_pair_sees_and_hears_each_other(server, media_context):
    host, (bob, cara) = await paired_session(media_context, server, 2)
    bob_id, cara_id = await me(bob), await me(cara)
    for page, other in ((bob, cara_id), (cara, bob_id)):
        found = await receiving(page, other)
        assert found["width"] > 0 and found["frames"] > 0, found
        await expect(page.locator(f'.call-peer[data-member="{other}"] .call-quality')).to_have_text(
            re.compile(r"^Connection (good|fair|poor)( · \d+ ms)? · \d+ kbps"), timeout=CONNECTED)
    if os.environ.get("PRACTICA_README_SCREENSHOTS"):
        await screenshot(bob)
    session = host.url.rsplit("/", 1)[1]
    snapshot = await fetch_session(host, session)
    assert sorted(snapshot["groups"][0]["members"]) == sorted([bob_id, cara_id])

    # The camera off: the partner's page says so.
    camera = bob.get_by_role("button", name="Camera")
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "false")
    await expect(cara.locator(f'.call-peer[data-member="{bob_id}"] figcaption')).to_have_text(
        "Bob Member (camera off)")
    await camera.click()
    await expect(cara.locator(f'.call-peer[data-member="{bob_id}"] figcaption')).to_have_text(
        "Bob Member")

    # Low bandwidth on Cara's side: audio only, and no video comes to her either.
    await cara.get_by_role("button", name="Low bandwidth (audio only)").click()
    await expect(bob.locator(f'.call-peer[data-member="{cara_id}"] figcaption')).to_have_text(
        "Cara Member (audio only)")
    await asyncio.sleep(3)  # let frames in flight arrive and the stats be read again
    to_cara, to_bob = await frames(cara, bob_id), await frames(bob, cara_id)
    await asyncio.sleep(4)
    assert await frames(cara, bob_id) == to_cara, "video still reaches the low-bandwidth page"
    assert await frames(bob, cara_id) == to_bob, "the low-bandwidth page still sends video"
    await expect(cara.locator(f'.call-peer[data-member="{bob_id}"]')).to_have_attribute(
        "data-state", "connected")  # audio goes on

    # A crafted page signalling the host (in the main room) is refused; nothing reaches him.
    await cara.evaluate("""(to) => import('/static/session.js').then((m) => m.command('signal',
        {to, signal: {kind: 'hello'}})).catch(() => null)""", await me(host))
    await expect(cara.locator("#session-error")).to_contain_text("not in your breakout room")

    await cara.get_by_role("button", name="Low bandwidth (audio only)").click()
    await expect(bob.locator(f'.call-peer[data-member="{cara_id}"] figcaption')).to_have_text(
        "Cara Member")

    # Leaving the call: the partner sees it; joining again calls anew.
    await bob.get_by_role("button", name="Leave the call").click()
    await expect(cara.locator(f'.call-peer[data-member="{bob_id}"] .call-quality')).to_have_text(
        "Left the call")
    await bob.get_by_role("button", name="Join the call").click()
    await receiving(cara, bob_id)

    # The host ends the round: both pages hang up; the next round's call starts by itself.
    await host.get_by_role("button", name="End pair-ups now").click()
    for page in (bob, cara):
        await expect(page.locator("#breakout-call")).to_have_count(0)
    await host.get_by_role("button", name="Pair everyone").click()
    await receiving(bob, cara_id)
    assert_clean(host, bob, cara)


async def test_a_trio_calls_as_a_mesh(server, media_context):
    _, members = await paired_session(media_context, server, 3)
    ids = [await me(page) for page in members]
    for page, mine in zip(members, ids, strict=True):
        await expect(page.locator(".call-peer")).to_have_count(2)
        for other in ids:
            if other != mine:
                await receiving(page, other)
    assert_clean(*members)
