"""Without Janus the session says room-wide video is off, and the rest of it works: the
host starts it and brings a member on stage, who gets no video controls."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.session_ui import host_in_room, join_session, member_in_room, open_session
from tests.conftest import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


@pytest.mark.settings(janus_url=f"ws://127.0.0.1:{free_port()}")
async def test_without_janus_the_room_says_video_is_off(server, new_context):
    ann = await host_in_room(new_context, server)
    bob = await member_in_room(new_context, server, "Bob Member")
    await open_session(ann, "No video tonight")
    await join_session(bob)
    for page in (ann, bob):
        await expect(page.locator("#media-status")).to_contain_text(
            "Room-wide video is off")
        await expect(page.locator("#session-media")).to_have_attribute(
            "data-available", "false")
    await ann.get_by_role("button", name="Start session").click()
    await ann.get_by_label("Put on stage").select_option(label="Bob Member")
    await ann.get_by_role("button", name="Put on stage").click()
    await expect(bob.locator("#stage-list")).to_contain_text("Bob Member")
    await expect(bob.locator("#media-controls")).to_be_hidden()
    await expect(bob.locator("#media-status")).to_contain_text("Room-wide video is off")
