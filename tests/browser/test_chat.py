"""What a person meets in the browser: rooms, chat, presence, reconnecting."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.ui import assert_clean, sign_up, watch
from tests.conftest import free_port
from tests.people import signed_in

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))


async def enter(page: Page, url: str, name: str, room: str = "Case review") -> None:
    """Sign up through the page, join the demo community from the directory, open a room."""
    watch(page)
    await page.goto(url)
    await sign_up(page, name)
    await page.locator(".directory-card", has_text="Clinical Practice Circle").get_by_role(
        "button", name="Join").click()
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await page.get_by_role("button", name=room).click()
    await expect(page.locator("#room-name")).to_have_text(f"# {room}")


async def say(page: Page, text: str) -> None:
    await page.get_by_label("Message #Case review").fill(text)
    await page.keyboard.press("Enter")


def texts(page: Page):
    return page.locator(".message-list .message .text")


async def test_message_typed_in_one_page_appears_in_the_other(server, new_context):
    ann = await (await new_context()).new_page()
    bob = await (await new_context()).new_page()
    await enter(ann, server.url, "Ann Example")
    await enter(bob, server.url, "Bob Example")
    people = ann.locator("#people-list")
    await expect(people).to_contain_text("Bob Example")
    await expect(bob.locator("#people-list")).to_contain_text("Ann Example")
    await expect(ann.locator("#community-name")).to_have_text("Clinical Practice Circle")
    await say(ann, "Has anyone seen this ECG pattern before?")
    await expect(texts(bob).last).to_have_text("Has anyone seen this ECG pattern before?")
    await say(bob, "Yes — let's look at it after the case.")
    await expect(texts(ann).last).to_have_text("Yes — let's look at it after the case.")
    assert_clean(ann, bob)
    await ann.screenshot(path=str(SHOTS / "room.png"))


@pytest.mark.settings(commands_per_minute=100_000, command_burst=10_000)
async def test_edit_delete_and_older_history(server, new_context):
    poster = await signed_in(server, "Archivist")
    await poster.command("join", room="case-review")
    for i in range(60):
        await poster.command("post", room="case-review", text=f"archive {i}")
    await poster.close()
    ann = await (await new_context()).new_page()
    bob = await (await new_context()).new_page()
    await enter(ann, server.url, "Ann Example")
    await enter(bob, server.url, "Bob Example")
    # The room shows the latest 50; older ones come a page at a time.
    await expect(texts(bob).first).to_have_text("archive 10")
    await bob.get_by_role("button", name="Load older messages").click()
    await expect(texts(bob).first).to_contain_text("Welcome back, everyone")
    await expect(bob.get_by_role("button", name="Load older messages")).to_be_hidden()
    assert await texts(bob).count() == 63

    await say(ann, "first draft")
    mine = ann.locator(".message.own").last
    await expect(mine.locator(".text")).to_have_text("first draft")
    await mine.hover()
    await mine.get_by_role("button", name="Edit your message").click()
    await mine.get_by_label("Edit message text").fill("final wording")
    await mine.get_by_role("button", name="Save").click()
    theirs = bob.locator(".message").last
    await expect(theirs.locator(".text")).to_have_text("final wording")
    await expect(theirs.locator(".edited")).to_have_text("(edited)")
    await mine.hover()
    await mine.get_by_role("button", name="Delete your message").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Delete message").click()
    await expect(theirs.locator(".text")).to_have_text("This message was deleted.")
    # Bob cannot edit Ann's message: he has no buttons on it.
    assert await theirs.get_by_role("button").count() == 0


async def test_markup_in_names_and_messages_stays_text(server, new_context):
    payloads = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>',
                '"><svg onload=alert(3)>', "javascript:alert(4)"]
    page = await (await new_context()).new_page()
    await enter(page, server.url, '<b onmouseover=alert(5)>Mallory</b>')
    for payload in payloads:
        await say(page, payload)
    await expect(texts(page).last).to_have_text(payloads[-1])
    assert [t.strip() for t in await texts(page).all_inner_texts()][-4:] == payloads
    assert await page.locator(".message-list img, .message-list script, .message-list svg, "
                              "#people-list b").count() == 0
    await expect(page.locator("#me-name")).to_have_text('<b onmouseover=alert(5)>Mallory</b>')
    assert_clean(page)


class CuttableProxy:
    """A TCP proxy that can cut every live connection and refuse new ones (a closed lid)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cut = False
        self.links: set[asyncio.StreamWriter] = set()
        self.frozen: set[asyncio.StreamWriter] = set()  # links that carry nothing any more
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       src_writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if dst in self.frozen or src_writer in self.frozen:
                        continue  # a dead network: bytes vanish, nothing is closed
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer, writer), pipe(up_reader, writer, up_writer))
        self.links.difference_update((writer, up_writer))

    def cut_all(self) -> None:
        self.cut = True
        for writer in list(self.links):
            writer.transport.abort()

    def freeze_all(self) -> None:
        """Every live link stops carrying bytes without closing (new links work)."""
        self.frozen.update(self.links)

    def restore(self) -> None:
        self.cut = False

    async def close(self) -> None:
        self.cut_all()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_page_cut_off_and_restored_shows_missed_messages_once(server, new_context):
    proxy = CuttableProxy(server.settings.port)
    await proxy.start()
    try:
        away = await (await new_context()).new_page()
        here = await (await new_context()).new_page()
        await enter(away, f"http://127.0.0.1:{proxy.port}/", "Remote Rita")
        await enter(here, server.url, "Local Lou")
        await say(here, "before the cut")
        await expect(texts(away).last).to_have_text("before the cut")

        proxy.cut_all()
        await expect(away.locator("#status")).to_have_attribute("data-state", "reconnecting")
        await expect(away.locator("#status-text")).to_have_text("Reconnecting…")
        missed = [f"while you were away {i}" for i in range(5)]
        for text in missed:
            await say(here, text)
        await expect(texts(here).last).to_have_text(missed[-1])
        await asyncio.sleep(1.0)  # a few reconnect attempts fail while the link is down
        proxy.restore()

        await expect(away.locator("#status")).to_have_attribute("data-state", "live",
                                                                timeout=15_000)
        await expect(texts(away).last).to_have_text(missed[-1])
        shown = [t.strip() for t in await texts(away).all_inner_texts()]
        assert shown[-6:] == ["before the cut", *missed]
        for text in missed:
            assert shown.count(text) == 1
        # Still live afterwards, in both directions.
        await say(away, "back again")
        await expect(texts(here).last).to_have_text("back again")
    finally:
        await proxy.close()
