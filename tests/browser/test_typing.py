"""'… is typing' in a room, and the browser's clock offset from the server's hello."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.test_chat import SHOTS, enter
from tests.browser.ui import assert_clean

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_page_b_sees_ann_typing_while_she_types_and_not_after(server, new_context):
    ann = await (await new_context()).new_page()
    bob = await (await new_context()).new_page()
    relays: list[str] = []
    ann.on("websocket", lambda ws: ws.on(
        "framesent", lambda frame: relays.append(frame) if '"relay"' in str(frame) else None))
    await enter(ann, server.url, "Ann Example")
    await enter(bob, server.url, "Bob Example")
    await expect(bob.locator("#people-list")).to_contain_text("Ann Example")
    indicator = bob.locator("#typing-indicator")
    await expect(indicator).to_be_hidden()
    composer = ann.get_by_label("Message #Case review")
    await composer.press_sequentially("Has anyone seen this ECG pattern")
    await expect(indicator).to_have_text("Ann Example is typing…")
    await expect(indicator).to_be_visible()
    await expect(ann.locator("#typing-indicator")).to_be_hidden()  # not to herself
    await bob.screenshot(path=str(SHOTS / "typing.png"))
    # Throttled: far fewer notices than keystrokes.
    assert 1 <= len(relays) < len("Has anyone seen this ECG pattern") // 4, relays
    await ann.keyboard.press("Enter")  # her message arrives: she is no longer typing
    await expect(bob.locator(".message-list .message .text").last).to_have_text(
        "Has anyone seen this ECG pattern")
    await expect(indicator).to_be_hidden()
    await composer.press_sequentially("before?")
    await expect(indicator).to_have_text("Ann Example is typing…")
    # She stops typing: the notice lapses on its own.
    await expect(indicator).to_be_hidden(timeout=15_000)
    assert_clean(ann, bob)


async def test_the_browser_keeps_its_offset_from_the_servers_clock(server, new_context):
    page = await (await new_context()).new_page()
    await enter(page, server.url, "Ann Example")
    offset = await page.evaluate(
        "import('/static/clock.js').then((clock) => clock.clockOffset())")
    now = await page.evaluate(
        "import('/static/clock.js').then((clock) => clock.serverNow() - Date.now())")
    # The same machine's clock: the offset is small, and serverNow() applies it.
    assert isinstance(offset, int | float) and abs(offset) < 60_000
    assert abs(now - offset) < 1000
    assert_clean(page)
