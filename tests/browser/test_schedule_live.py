"""The Schedule pane is live: while it shows, the page follows the community's series
streams over its socket, so what a convener or another member changes on their page
(a session cancelled or moved, a topic proposed) shows on everyone's open Schedule
without a reload, and keeps doing so after the socket reconnects."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.test_schedule import (
    BERLIN,
    NEW_YORK,
    SYDNEY,
    card,
    convener,
    member,
    open_schedule,
    schedule_series,
    shown,
    weekly,
)
from tests.browser.ui import assert_clean, live

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def two_schedules_open(server, new_context, count):
    """Ann (convener) schedules a weekly "Case clinic" of ``count`` sessions at noon in
    New York; she and Bob (a member in Sydney) each have the Schedule open."""
    ann = await convener(new_context, server)
    first = datetime.now(NEW_YORK).date() + timedelta(days=2)
    sessions = weekly(first, time(12, 0), NEW_YORK, count)
    await schedule_series(ann, title="Case clinic", first=first, at="12:00",
                          zone="America/New_York")
    await expect(ann.locator("#toast")).to_contain_text("Case clinic is scheduled")
    bob = await member(new_context, server, "Bob Member", SYDNEY)
    await open_schedule(bob)
    await open_schedule(ann)
    return ann, bob, sessions


async def test_changes_on_one_page_show_on_the_others_open_schedule(server, new_context):
    ann, bob, sessions = await two_schedules_open(server, new_context, 4)
    await expect(card(bob, sessions[0]).locator(".occurrence-status")).to_have_count(0)

    # Ann cancels the first session: Bob's open Schedule shows it, no reload.
    one = card(ann, sessions[0])
    await one.get_by_text("Change this session").click()
    await one.get_by_label("Reason").fill("Snow")
    await one.get_by_role("button", name="Cancel this session").click()
    await ann.get_by_role("button", name="Cancel the session").click()
    await expect(card(bob, sessions[0]).locator(".occurrence-status")).to_have_text(
        "Cancelled: Snow")

    # Bob proposes a topic: Ann's open Schedule lists it.
    topics = bob.get_by_role("region", name="Topics for Case clinic")
    await topics.get_by_role("textbox", name="Propose a topic").fill("Dressing sacral wounds")
    await topics.get_by_role("button", name="Propose").click()
    await expect(ann.get_by_role("region", name="Topics for Case clinic")
                 .locator(".topic-title")).to_have_text(["Dressing sacral wounds"])

    # Bob's socket drops and comes back; then Ann moves the third session an hour later.
    await bob.evaluate("practica.gateway.reconnect()")
    await live(bob)
    third = card(ann, sessions[2])
    await third.get_by_text("Change this session").click()
    await third.get_by_label("New start (America/New_York)").fill(f"{sessions[2].date()}T13:00")
    await third.get_by_role("button", name="Move").click()
    await expect(card(bob, sessions[2]).locator(".occurrence-status")).to_have_text(
        f"Moved from {shown(sessions[2], SYDNEY)}")
    await expect(card(bob, sessions[2]).locator(".occurrence-when")).to_contain_text(
        shown(sessions[2] + timedelta(hours=1), SYDNEY))
    await expect(card(ann, sessions[2]).locator(".occurrence-when")).to_contain_text(
        shown(sessions[2] + timedelta(hours=1), BERLIN))
    assert_clean(ann, bob)


async def test_words_typed_on_the_schedule_outlast_a_change_arriving(server, new_context):
    """A change arriving while Bob has half-typed a topic (the field no longer focused)
    does not redraw the pane under him: his words stay; sending them draws the view
    again, the change that came meanwhile included."""
    ann, bob, sessions = await two_schedules_open(server, new_context, 2)
    topics = bob.get_by_role("region", name="Topics for Case clinic")
    field = topics.get_by_role("textbox", name="Propose a topic")
    await field.fill("Half a thought")
    await field.blur()
    # resolves a second after the first series event reaches Bob's page: the redraw
    # it would bring (250 ms later, then a read) has had its time
    await bob.evaluate("""() => { window.seriesEventSettled = new Promise((resolve) =>
        practica.gateway.addEventListener("event", (e) => {
          if (e.detail.stream.startsWith("series:")) setTimeout(resolve, 1000);
        })); }""")

    one = card(ann, sessions[0])
    await one.get_by_text("Change this session").click()
    await one.get_by_label("Reason").fill("Snow")
    await one.get_by_role("button", name="Cancel this session").click()
    await ann.get_by_role("button", name="Cancel the session").click()
    await bob.evaluate("() => window.seriesEventSettled")
    await expect(field).to_have_value("Half a thought")
    await expect(card(bob, sessions[0]).locator(".occurrence-status")).to_have_count(0)

    await topics.get_by_role("button", name="Propose").click()
    await expect(topics.locator(".topic-title")).to_have_text(["Half a thought"])
    await expect(card(bob, sessions[0]).locator(".occurrence-status")).to_have_text(
        "Cancelled: Snow")
    assert_clean(ann, bob)
