"""The browser client under real conditions: the network cut (offline, or a link that
silently stops carrying anything), text written meanwhile, bursts that hit the rate
limit, and a reload with unsent text. Nothing written is lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_chat import CuttableProxy, enter, say, texts
from tests.browser.ui import assert_clean, watch

pytestmark = [pytest.mark.anyio, pytest.mark.browser]
SHOTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", Path(__file__).parent / "artifacts"))
ROOM = "case-review"


async def posted_texts(server) -> list[str]:
    """What the server holds: every message posted in the room, in order."""
    events = await server.practica.store.read(f"room:{ROOM}", after=0, limit=10_000)
    return [e.body.text for e in events if type(e.body).__name__ == "MessagePosted"]


def pending(page: Page):
    return page.locator("#pending-list .message")


async def until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Wait until a page expression is true (wait_for_function would need eval, which the
    page's Content-Security-Policy forbids)."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout}s: {expression}"
        await asyncio.sleep(0.1)


async def record_states(page: Page) -> None:
    await page.evaluate("""() => {
        window.seenStates = [];
        window.practica.gateway.addEventListener("state",
            (e) => window.seenStates.push(e.detail.state));
    }""")


@pytest.mark.settings(keepalive_ms=1000)
async def test_offline_is_shown_at_once_and_text_written_meanwhile_arrives_once(
        server, new_context):
    away_context = await new_context()
    away = watch(await away_context.new_page())
    here = watch(await (await new_context()).new_page())
    await enter(away, server.url, "Remote Rita")
    await enter(here, server.url, "Local Lou")
    await expect(away.locator("#status-text")).to_have_text("Connected")

    await away_context.set_offline(True)
    await expect(away.locator("#status-text")).not_to_have_text("Connected", timeout=5_000)
    await expect(away.locator("#status")).to_have_attribute("data-state", "offline")
    await say(away, "written on the train")
    await expect(away.get_by_label("Message #Case review")).to_have_value("")  # not lost:
    await expect(pending(away)).to_contain_text("written on the train")  # it waits here
    await expect(pending(away)).to_contain_text("waiting for the connection")
    await away.screenshot(path=str(SHOTS / "offline-pending.png"))
    # Others see the person go (their socket ended; presence lapses after the grace).
    await expect(here.locator("#people-list")).not_to_contain_text("Remote Rita",
                                                                   timeout=10_000)
    stored = json.loads(await away.evaluate("sessionStorage.getItem('practica.outbox')"))
    assert [item["text"] for item in stored] == ["written on the train"]

    await away_context.set_offline(False)
    await expect(away.locator("#status")).to_have_attribute("data-state", "live", timeout=5_000)
    await expect(texts(here).last).to_have_text("written on the train")
    await expect(here.locator("#people-list")).to_contain_text("Remote Rita")
    await expect(texts(away).last).to_have_text("written on the train")
    await expect(pending(away)).to_have_count(0)
    assert await away.evaluate("sessionStorage.getItem('practica.outbox')") is None
    assert (await posted_texts(server)).count("written on the train") == 1
    assert [t.strip() for t in await texts(away).all_inner_texts()].count(
        "written on the train") == 1
    assert_clean(away, here)


async def test_a_link_that_goes_silent_is_noticed_within_seconds(server, new_context):
    """No offline event, no close: the bytes just stop (a dead Wi-Fi, a sleeping NAT).
    The client's own heartbeat deadline notices it, says so, and reconnects."""
    proxy = CuttableProxy(server.settings.port)
    await proxy.start()
    try:
        away = watch(await (await new_context()).new_page())
        here = watch(await (await new_context()).new_page())
        await enter(away, f"http://127.0.0.1:{proxy.port}/", "Silent Sam")
        await enter(here, server.url, "Local Lou")
        await record_states(away)
        proxy.freeze_all()
        await say(away, "said into the void")
        await expect(pending(away)).to_contain_text("said into the void")
        await until(away, "window.seenStates.includes('reconnecting')")
        await expect(away.locator("#status")).to_have_attribute("data-state", "live",
                                                                timeout=10_000)
        await expect(texts(here).last).to_have_text("said into the void")
        await expect(pending(away)).to_have_count(0)
        assert (await posted_texts(server)).count("said into the void") == 1
        assert_clean(away, here)
    finally:
        await proxy.close()


@pytest.mark.settings(commands_per_minute=600, command_burst=5)
async def test_a_burst_beyond_the_rate_limit_arrives_complete_once_and_in_order(
        server, new_context):
    sender = watch(await (await new_context()).new_page())
    reader = watch(await (await new_context()).new_page())
    await enter(sender, server.url, "Quick Quinn")
    await enter(reader, server.url, "Reading Ray")
    burst = [f"burst {i:02d}" for i in range(35)]
    box = sender.get_by_label("Message #Case review")
    for text in burst:
        await box.fill(text)
        await box.press("Enter")
    await expect(texts(reader).last).to_have_text(burst[-1], timeout=30_000)
    await expect(pending(sender)).to_have_count(0)
    shown = [t.strip() for t in await texts(reader).all_inner_texts()]
    assert [t for t in shown if t.startswith("burst ")] == burst
    assert [t for t in await posted_texts(server) if t.startswith("burst ")] == burst
    assert await sender.evaluate("window.practica.gateway.state") == "live"
    refused = server.practica.metrics.commands.labels("post", "rate_limited")._value.get()
    assert refused > 0  # the limit was really hit, and nothing was lost to it
    assert_clean(sender, reader)


async def test_unsent_text_survives_a_reload_and_a_resent_ref_is_applied_once(
        server, new_context):
    page = watch(await (await new_context()).new_page())
    await enter(page, server.url, "Reloading Rue")
    me = await page.evaluate("window.practica.ui.me.id")
    item = {"ref": "o-reload-test-1", "member": me, "community": "clinical-practice-circle",
            "room": ROOM, "text": "kept across a reload", "status": "pending", "error": "",
            "retryAt": 0}
    # As a page would leave it when closed before the server answered.
    await page.evaluate("(item) => sessionStorage.setItem('practica.outbox', "
                        "JSON.stringify([item]))", item)
    await page.reload()
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await expect(texts(page).last).to_have_text("kept across a reload")
    assert await page.evaluate("sessionStorage.getItem('practica.outbox')") is None
    # The same ref again (the ack was lost, say): the server applies it once.
    await page.evaluate("(item) => sessionStorage.setItem('practica.outbox', "
                        "JSON.stringify([item]))", item)
    await page.reload()
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")
    await until(page, "sessionStorage.getItem('practica.outbox') === null")
    assert (await posted_texts(server)).count("kept across a reload") == 1
    await expect(texts(page).last).to_have_text("kept across a reload")
    assert [t.strip() for t in await texts(page).all_inner_texts()].count(
        "kept across a reload") == 1
    assert_clean(page)


async def test_text_refused_for_good_is_shown_failed_with_retry_and_discard(server, new_context):
    """Written offline, then the writer is timed out before it reaches the server: the
    resend is refused (forbidden), so it stays on screen as failed, never silently gone."""
    from tests.browser.test_accounts import member_row, owner_with_community, show_members
    from tests.browser.ui import live, open_room, say, sign_up

    owner = await owner_with_community(new_context, server)
    bob_context = await new_context()
    bob = watch(await bob_context.new_page())
    await bob.goto(f"{server.url}/c/wound-care")
    await sign_up(bob, "Bob Builder")
    await bob.get_by_role("button", name="Join", exact=True).click()
    await live(bob)
    await open_room(bob, "Case files")
    await expect(bob.get_by_label("Message #Case files")).to_be_visible()  # joined
    await bob_context.set_offline(True)
    await say(bob, "one more thing about the dressing", room="Case files")
    await expect(pending(bob)).to_contain_text("waiting for the connection")

    await show_members(owner)
    row = member_row(owner, "Bob Builder")
    await row.get_by_label("Minutes").fill("5")
    await row.get_by_role("button", name="Time out").click()
    await expect(row.locator(".timeout-note")).to_be_visible()
    await bob_context.set_offline(False)

    failed = bob.locator("#pending-list .message.failed")
    await expect(failed).to_contain_text("Not sent: ")
    await expect(failed).to_contain_text("timed out")
    retry = failed.get_by_role("button", name="Retry sending “one more thing about the dressing”")
    await expect(retry).to_be_visible()
    await retry.click()  # still timed out: refused again, still there
    await expect(failed).to_contain_text("timed out")
    await failed.get_by_role("button", name=re.compile("^Discard unsent")).click()
    await expect(pending(bob)).to_have_count(0)
    assert await bob.evaluate("sessionStorage.getItem('practica.outbox')") is None
    room = next(iter(r for r, info in server.practica.folds.community("wound-care").rooms.items()
                     if info.name == "Case files"))
    events = await server.practica.store.read(f"room:{room}", after=0, limit=1000)
    said = [getattr(e.body, "text", "") for e in events]
    assert "one more thing about the dressing" not in said
    assert_clean(owner, bob)
