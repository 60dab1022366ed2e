"""The browser while the store cannot write: a post answered ``unavailable`` waits in the
outbox ("retrying shortly"), is resent after ``retry_after_ms`` under the same ref, and
arrives once when the store writes again."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.test_chat import enter, say, texts
from tests.browser.test_conditions import pending, posted_texts
from tests.browser.ui import assert_clean, watch

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_a_post_refused_while_the_store_cannot_write_is_resent_and_arrives_once(
        server, new_context):
    page = watch(await (await new_context()).new_page())
    await enter(page, server.url, "Patient Pat")
    await expect(page.get_by_label("Message #Case review")).to_be_visible()  # joined
    store = server.practica.store
    # A real SQLite condition, not a mock: the writer's connection may not change the
    # database, as when the disk is remounted read-only.
    await store._w.execute("PRAGMA query_only = ON")
    await say(page, "written while the disk was read-only")
    await expect(pending(page)).to_contain_text("retrying shortly")
    refused = server.practica.metrics.commands.labels("post", "unavailable")
    assert refused._value.get() >= 1
    assert "written while the disk was read-only" not in await posted_texts(server)
    await store._w.execute("PRAGMA query_only = OFF")
    await expect(texts(page).last).to_have_text("written while the disk was read-only",
                                                 timeout=15_000)
    await expect(pending(page)).to_have_count(0)
    assert (await posted_texts(server)).count("written while the disk was read-only") == 1
    assert await page.evaluate("window.practica.gateway.state") == "live"
    assert_clean(page)
