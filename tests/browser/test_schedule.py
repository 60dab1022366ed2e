"""Recurring rooms in the browser: a convener (browser in Berlin) schedules a weekly room
that meets at noon in New York, is refused a rule and a zone the server cannot read
(nothing saved), cancels one session; a member whose browser is in Sydney sees every
session at the right local time (computed here with zoneinfo), the cancelled one
struck through, RSVPs, volunteers, upvotes a topic and reads their calendar feed; a
profile zone overrides the browser's. A session whose lobby is open lights up for those
who said they would come, with a reminder and a Join link to the live session. A
convener moves one session, gives another a different host, and reads who attended.

``PRACTICA_README_SCREENSHOTS=1`` also writes the README's picture of the Schedule
(web/screenshot-schedule.png)."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from server.domain.recurrence import normalize_rule, recurrence
from tests.browser.test_accounts import owner_with_community
from tests.browser.ui import assert_clean, live, sign_up, watch
from tests.pictures import readme_picture

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

BERLIN = "Europe/Berlin"
SYDNEY = "Australia/Sydney"
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def shown(instant: datetime, zone: str) -> str:
    """How the Schedule writes an instant in a zone: "Tue 8 Dec 2026, 18:00"."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b} {local.year}, {local:%H:%M}"


def key(instant: datetime) -> str:
    """An occurrence's name: the UTC instant the rule gave it."""
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def weekly(first: date, at: time, zone: ZoneInfo, count: int) -> list[datetime]:
    """A weekly rule's first instants, on wall-clock time in its zone (across DST)."""
    return [datetime.combine(first + timedelta(weeks=i), at, tzinfo=zone) for i in range(count)]


async def convener(new_context: Any, server: Any) -> Page:
    """Ann, in a browser whose zone is Berlin, owns wound-care with the room Case files."""
    async def berlin(**options: Any) -> Any:
        return await new_context(timezone_id=BERLIN, **options)
    return await owner_with_community(berlin, server)


async def member(new_context: Any, server: Any, name: str, zone: str) -> Page:
    page = watch(await (await new_context(timezone_id=zone)).new_page())
    await page.goto(f"{server.url}/c/wound-care")
    await sign_up(page, name)
    await page.get_by_role("button", name="Join", exact=True).click()
    await live(page)
    return page


async def api_get(page: Page, path: str) -> Any:
    return await page.evaluate(
        """async (path) => {
          const r = await fetch(path);
          return r.ok ? r.json() : {status: r.status};
        }""", path)


async def schedule_series(page: Page, *, title: str, first: date, at: str, zone: str,
                          rule: str | None = None, lobby: int | None = None) -> None:
    """Manage → Schedule a recurring room, filled in as a person would."""
    await page.get_by_role("button", name="Manage", exact=True).click()
    form = page.get_by_role("form", name="Schedule a recurring room")
    await form.get_by_label("Room").select_option(label="Case files")
    await form.get_by_label("Title").fill(title)
    await form.get_by_label("First session").fill(first.isoformat())
    await form.get_by_label("Start time").fill(at)
    await form.get_by_label("Time zone").fill(zone)
    await form.get_by_label("Repeats").select_option("weekly")
    if rule is not None:
        await form.get_by_label("Rule (RRULE)").fill(rule)
    if lobby is not None:
        await form.get_by_label("Lobby opens (minutes before)").fill(str(lobby))
    await form.get_by_role("button", name="Create recurring room").click()


def card(page: Page, occurrence: datetime):
    return page.locator(f'#upcoming-list li.occurrence[data-occurrence="{key(occurrence)}"]')


def when_of(page: Page, occurrence: datetime):
    """The time a session's card shows."""
    return card(page, occurrence).locator(".occurrence-when")


async def open_schedule(page: Page) -> None:
    await page.get_by_role("button", name="Schedule", exact=True).click()
    await expect(page.locator("#schedule-view")).to_be_visible()


async def test_a_weekly_room_with_a_cancelled_session_in_another_members_time_zone(
        server, new_context):
    ann = await convener(new_context, server)
    today = datetime.now(NEW_YORK).date()
    first = today + timedelta(days=2)
    sessions = weekly(first, time(12, 0), NEW_YORK, 4)

    # Bad input first: an RRULE the server cannot read, then an unknown zone. The
    # server's reason shows in the form, and no series is saved.
    await schedule_series(ann, title="Case clinic", first=first, at="12:00",
                          zone="America/New_York", rule="FREQ=SOMETIMES;BYDAY=TH")
    form = ann.get_by_role("form", name="Schedule a recurring room")
    await expect(form.get_by_role("alert")).to_contain_text("invalid RRULE")
    await expect(form.get_by_role("alert")).to_contain_text("FREQ")
    await form.get_by_label("Repeats").select_option("weekly")  # the builder writes it again
    await form.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await form.get_by_role("button", name="Create recurring room").click()
    await expect(form.get_by_role("alert")).to_contain_text("unknown time zone")
    await form.get_by_label("Time zone").fill("America/New_York")
    await form.get_by_label("Length (minutes)").fill("3")
    await form.get_by_role("button", name="Create recurring room").click()
    await expect(form.get_by_role("alert")).to_have_text("Length (minutes) must be 5 or more.")
    assert await api_get(ann, "/api/communities/wound-care/series") == []

    await form.get_by_label("Length (minutes)").fill("60")
    await expect(form.get_by_label("Rule (RRULE)")).to_have_value(
        f"FREQ=WEEKLY;BYDAY={first.strftime('%a')[:2].upper()}")
    await form.get_by_role("button", name="Create recurring room").click()
    await expect(form.get_by_role("alert")).to_be_hidden()
    await expect(ann.locator("#toast")).to_contain_text("Case clinic is scheduled")
    [series] = await api_get(ann, "/api/communities/wound-care/series")
    assert (series["zone"], series["start"][:16]) == ("America/New_York", f"{first}T12:00")

    # Ann's Schedule shows them in her profile's zone (her browser's: Berlin).
    await open_schedule(ann)
    await expect(ann.locator("#schedule-zone")).to_contain_text(BERLIN)
    for when in sessions:
        await expect(when_of(ann, when)).to_contain_text(shown(when, BERLIN))
    await expect(card(ann, sessions[0]).locator(".occurrence-meta")).to_contain_text(
        f"{shown(sessions[0], 'America/New_York')} in America/New_York")
    await expect(ann.locator(".series-card .series-rule")).to_have_text(
        f"Every {first:%A} at 12:00 (America/New_York), from {first}")

    # She cancels the second one (it asks first).
    second = card(ann, sessions[1])
    await second.get_by_text("Change this session").click()
    await second.get_by_label("Reason").fill("Public holiday")
    await second.get_by_role("button", name="Cancel this session").click()
    await ann.get_by_role("button", name="Cancel the session").click()
    await expect(second.locator(".occurrence-status")).to_have_text("Cancelled: Public holiday")

    # ...and moves the fourth an hour later, wall-clock in New York.
    fourth = card(ann, sessions[3])
    await fourth.get_by_text("Change this session").click()
    await fourth.get_by_label("New start (America/New_York)").fill(f"{sessions[3].date()}T13:00")
    await fourth.get_by_role("button", name="Move").click()
    moved_to = sessions[3] + timedelta(hours=1)
    await expect(fourth.locator(".occurrence-status")).to_have_text(
        f"Moved from {shown(sessions[3], BERLIN)}")
    await expect(fourth.locator(".occurrence-when")).to_contain_text(shown(moved_to, BERLIN))

    # Bob's browser is in Sydney: the same instants, in his local time.
    bob = await member(new_context, server, "Bob Member", SYDNEY)
    await open_schedule(bob)
    await expect(bob.locator("#schedule-zone")).to_contain_text(SYDNEY)
    for when in sessions[:3]:
        await expect(when_of(bob, when)).to_contain_text(shown(when, SYDNEY))
    await expect(card(bob, sessions[3]).locator(".occurrence-when")).to_contain_text(
        shown(moved_to, SYDNEY))
    assert shown(sessions[0], SYDNEY) != shown(sessions[0], BERLIN)
    # The first 8 show; the rest of the next 60 days (the server's window) on request.
    horizon = datetime.now(UTC) + timedelta(days=60)
    listed = [w for w in weekly(first, time(12, 0), NEW_YORK, 12) if w < horizon]
    assert len(listed) > 8
    await expect(bob.locator("#upcoming-list li.occurrence")).to_have_count(8)
    await bob.get_by_role("button", name=f"Show all {len(listed)} sessions").click()
    await expect(bob.locator("#upcoming-list li.occurrence")).to_have_count(len(listed))
    await expect(when_of(bob, listed[-1])).to_contain_text(shown(listed[-1], SYDNEY))
    cancelled = card(bob, sessions[1])
    await expect(cancelled).to_have_class(re.compile(r"\bcancelled\b"))
    await expect(cancelled.locator(".occurrence-status")).to_have_text("Cancelled: Public holiday")
    await expect(cancelled.get_by_role("button", name="Yes")).to_have_count(0)
    await expect(card(bob, sessions[0]).locator("details")).to_have_count(0)  # no convener controls

    # He RSVPs, volunteers as the backup of the first session, proposes and upvotes a topic.
    upcoming = card(bob, sessions[0])
    await upcoming.get_by_role("button", name="Yes", exact=True).click()
    await expect(upcoming.get_by_role("button", name="Yes", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    await expect(upcoming.locator(".occurrence-people")).to_contain_text("1 coming")
    await upcoming.get_by_role("button", name="Be the backup").click()
    await expect(upcoming.locator(".occurrence-people")).to_contain_text("Backup: Bob Member")
    one = await api_get(bob, f"/api/series/{series['series']}/occurrences/{key(sessions[0])}")
    assert (one["my_rsvp"], one["backup"]) == ("yes", await bob.evaluate("practica.ui.me.id"))
    topics = bob.get_by_role("region", name="Topics for Case clinic")
    await topics.get_by_role("textbox", name="Propose a topic").fill("Dressing sacral wounds")
    await topics.get_by_role("button", name="Propose").click()
    await expect(topics.locator(".topic-title")).to_have_text(["Dressing sacral wounds"])
    await topics.get_by_role("button", name="Upvote Dressing sacral wounds").click()
    await expect(topics.locator(".topic-votes")).to_have_text(["1"])

    # His calendar feed: a private address that serves the series as iCalendar.
    feed = bob.locator("#feed-community")
    await expect(feed).to_have_value(re.compile(rf"^{re.escape(server.url)}/api/feeds/"))
    status, calendar = await bob.evaluate(
        "async (url) => { const r = await fetch(url); return [r.status, await r.text()]; }",
        await feed.input_value())
    assert status == 200, calendar
    assert "BEGIN:VCALENDAR" in calendar and "RRULE:FREQ=WEEKLY" in calendar
    assert "EXDATE" in calendar  # the cancelled session

    # Ann makes the topic the title of the third session; Bob's open Schedule shows it.
    await open_schedule(ann)
    use = ann.get_by_role("form", name="Use Dressing sacral wounds as a session's title")
    await use.get_by_label("For the session of").select_option(label=shown(sessions[2], BERLIN))
    await use.get_by_role("button", name="Use as title").click()
    await expect(card(ann, sessions[2]).locator(".occurrence-title")).to_have_text(
        "Dressing sacral wounds")
    await expect(card(bob, sessions[2]).locator(".occurrence-title")).to_have_text(
        "Dressing sacral wounds")

    # Ann sees the gap: Bob is the backup, nobody presents.
    await ann.get_by_role("button", name="Manage", exact=True).click()
    gap = ann.locator(f'#gap-list li[data-occurrence="{key(sessions[0])}"]')
    await expect(gap).to_contain_text("no presenter")
    await expect(gap).to_contain_text("backup Bob Member")

    # She takes the cancellation back; Bob steps down as backup.
    await open_schedule(ann)
    restored = card(ann, sessions[1])
    await expect(restored.locator("details")).to_have_attribute("open", "")  # kept open
    await restored.get_by_role("button", name="Restore this session").click()
    await expect(restored).not_to_have_class(re.compile(r"\bcancelled\b"))
    await expect(restored.locator(".occurrence-status")).to_have_count(0)
    await upcoming.get_by_role("button", name="Stop being the backup").click()
    await expect(upcoming.locator(".occurrence-people")).to_contain_text("no backup yet")

    # A zone in the profile overrides the browser's.
    await bob.goto(f"{server.url}/?profile")
    await bob.get_by_label("Time zone").fill("America/Santiago")
    await bob.get_by_role("button", name="Save profile").click()
    await expect(bob.locator("#toast")).to_have_text("Profile saved")
    await bob.goto(f"{server.url}/c/wound-care")
    await live(bob)
    await open_schedule(bob)
    await expect(bob.locator("#schedule-zone")).to_contain_text(
        f"America/Santiago, your profile's time zone (this browser is in {SYDNEY})")
    await expect(card(bob, sessions[2]).locator(".occurrence-when")).to_contain_text(
        shown(sessions[2], "America/Santiago"))
    yes = card(bob, sessions[1]).get_by_role("button", name="Yes", exact=True)
    await expect(yes).to_be_visible()  # the restored session takes answers again
    assert_clean(ann, bob)


async def test_an_open_lobby_lights_up_for_those_coming_with_a_reminder_and_join(
        server, new_context):
    ann = await convener(new_context, server)
    # The first session starts in about 40 minutes (New York wall clock) and its lobby
    # opens 60 minutes before: the scheduler opens it at once.
    start = (datetime.now(NEW_YORK) + timedelta(minutes=40)).replace(second=0, microsecond=0)
    await schedule_series(ann, title="Morning huddle", first=start.date(),
                          at=f"{start:%H:%M}", zone="America/New_York", lobby=60)
    await expect(ann.locator("#toast")).to_contain_text("Morning huddle is scheduled")
    bob = await member(new_context, server, "Bob Member", SYDNEY)
    cara = await member(new_context, server, "Cara Member", "America/Santiago")
    for page in (bob, cara):
        await open_schedule(page)
        join = card(page, start).get_by_role("link", name=re.compile("^Join Morning huddle"))
        await expect(join).to_be_visible()  # the lobby opening is a series event: live
    first = card(bob, start)
    await expect(first).not_to_have_class(re.compile(r"\blit\b"))
    await first.get_by_role("button", name="Yes", exact=True).click()
    await expect(first).to_have_class(re.compile(r"\blit\b"))
    await expect(first.locator(".lobby-badge")).to_have_text("Lobby open")
    await expect(card(cara, start)).not_to_have_class(re.compile(r"\blit\b"))  # she did not answer
    reminder = bob.locator("#reminder-list li")
    await expect(reminder).to_contain_text("Morning huddle: the lobby is open")
    await expect(reminder).to_contain_text(shown(start, SYDNEY))
    await expect(cara.locator("#reminders")).to_be_hidden()
    if os.environ.get("PRACTICA_README_SCREENSHOTS") == "1":
        await bob.set_viewport_size({"width": 1280, "height": 900})
        await bob.evaluate("document.getElementById('toast').hidden = true")
        await bob.screenshot(path=readme_picture("screenshot-schedule.png"))

    await first.get_by_role("link", name=re.compile("^Join Morning huddle")).click()
    await expect(bob).to_have_url(re.compile(r"/s/[^/]+$"))
    await expect(bob.locator("#session-title")).to_have_text("Morning huddle")
    await expect(bob.locator("#session-phase")).to_contain_text("Lobby")
    assert_clean(ann, bob, cara)


async def test_a_convener_rehosts_one_session_reads_attendance_edits_the_rule_and_ends_it(
        server, new_context):
    ann = await convener(new_context, server)
    # A weekly drop-in that began ten minutes ago: its lobby opens at once.
    start = (datetime.now(NEW_YORK) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    sessions = weekly(start.date(), start.time(), NEW_YORK, 2)
    await schedule_series(ann, title="Drop-in", first=start.date(), at=f"{start:%H:%M}",
                          zone="America/New_York")
    await expect(ann.locator("#toast")).to_contain_text("Drop-in is scheduled")
    bob = await member(new_context, server, "Bob Member", SYDNEY)
    await open_schedule(bob)
    now = card(bob, sessions[0])
    await expect(now.get_by_role("button", name="Yes", exact=True)).to_have_count(0)  # it began
    await now.get_by_role("link", name=re.compile("^Join Drop-in")).click()
    await expect(bob.locator("#session-title")).to_have_text("Drop-in")

    # Ann makes Bob a host, then gives him next week's session.
    await ann.get_by_role("button", name="Members", exact=True).click()
    row = ann.locator(".member-row", has_text="Bob Member")
    await row.get_by_label("Role").select_option("host")
    await row.get_by_role("button", name="Change role").click()
    await expect(row.locator(".role-badge")).to_have_text("host")
    await open_schedule(ann)
    following = card(ann, sessions[1])
    await following.get_by_text("Change this session").click()
    await following.get_by_label("Host of this session").select_option(label="Bob Member")
    await following.get_by_role("button", name="Set host").click()
    await expect(following.locator(".occurrence-meta")).to_contain_text("Host: Bob Member")
    await expect(card(ann, sessions[0]).locator(".occurrence-meta")).to_contain_text(
        "Host: Ann Owner")

    # Attendance of the session under way: Bob came; the same as CSV.
    await ann.get_by_role("button", name="Manage", exact=True).click()
    form = ann.get_by_role("form", name="Show attendance")
    await form.get_by_label("Past session").select_option(
        label=f"Drop-in · {shown(sessions[0], BERLIN)}")
    await form.get_by_role("button", name="Show attendance").click()
    await expect(ann.locator("#attendance-list tr")).to_have_count(1)
    await expect(ann.locator("#attendance-list tr")).to_contain_text("Bob Member")
    csv_link = ann.get_by_role("link", name="Download as CSV")
    await expect(csv_link).to_be_visible()
    csv = await ann.evaluate("async (url) => (await fetch(url)).text()",
                             await csv_link.get_attribute("href"))
    assert csv.splitlines()[0] == "member,name,joined,left,duration_s,rsvp"
    assert "Bob Member" in csv

    # The rule changes from now on (every 2nd week), then the series ends.
    await open_schedule(ann)
    block = ann.locator(".series-card", has_text="Drop-in")
    await block.get_by_role("button", name="Edit rule").click()
    edit = block.get_by_role("form", name="Edit Drop-in")
    await edit.get_by_label("Repeats").select_option("fortnightly")
    await expect(edit.get_by_label("Rule (RRULE)")).to_have_value(
        f"FREQ=WEEKLY;INTERVAL=2;BYDAY={start.strftime('%a')[:2].upper()}")
    await edit.get_by_role("button", name="Save rule").click()
    await expect(block.locator(".series-rule")).to_have_text(
        f"Every 2nd {start:%A} at {start:%H:%M} (America/New_York), from {start.date()}")
    await expect(card(ann, sessions[1])).to_have_count(0)  # next week's is no more
    await expect(card(ann, start + timedelta(weeks=2))).to_have_count(1)
    await block.get_by_role("button", name="End series").click()
    await ann.get_by_role("button", name="End the series").click()
    await expect(block.locator(".series-meta")).to_contain_text("ended")
    await expect(card(ann, start + timedelta(weeks=2))).to_have_count(0)
    await expect(block.get_by_role("button", name="Edit rule")).to_have_count(0)
    assert_clean(ann, bob)


async def test_the_rule_builder_writes_rules_the_server_expands_from_the_first_session(
        server, new_context):
    """Every preset of web/rrule.js, built from a first session's date, is a rule the
    server reads (server/domain/recurrence.py) whose first instant is that date, and
    the builder reads it back as the same preset, in words as the Schedule says it."""
    page = watch(await (await new_context()).new_page())
    await page.goto(server.url)
    dates = ["2026-03-29", "2026-10-25", "2026-12-08", "2026-12-29", "2027-02-28"]
    built = await page.evaluate("""async (dates) => {
      const r = await import('/static/rrule.js');
      const out = [];
      for (const date of dates) {
        for (const [preset] of r.PRESETS.filter(([p]) => p !== 'custom')) {
          const chosen = {preset, weekday: r.weekdayOfDate(date), nth: r.nthOfDate(date),
                          monthday: Number(date.slice(8))};
          const rule = r.ruleOf(chosen);
          out.push({date, chosen, rule, back: r.presetOf(rule), words: r.describe(rule)});
        }
      }
      out.push({custom: r.presetOf('FREQ=DAILY;COUNT=3'), words: r.describe('RRULE:FREQ=DAILY')});
      return out;
    }""", dates)
    custom = built.pop()
    assert custom == {"custom": {"preset": "custom"}, "words": "FREQ=DAILY"}
    assert len(built) == 4 * len(dates)
    words = {"weekly": "Every {day}", "fortnightly": "Every 2nd {day}",
             "monthly-day": "Monthly on day {n}"}
    for case in built:
        day = date.fromisoformat(case["date"])
        start = f"{day}T18:00"
        expected = datetime.combine(day, time(18, 0), tzinfo=ZoneInfo(BERLIN))
        got = recurrence(normalize_rule(case["rule"], BERLIN), start, BERLIN).first_ms()
        assert got == int(expected.timestamp() * 1000), case
        chosen = {k: v for k, v in case["chosen"].items() if k in case["back"]}
        assert case["back"] == chosen, case
        preset = case["chosen"]["preset"]
        if preset in words:
            assert case["words"] == words[preset].format(day=f"{day:%A}", n=day.day)
        else:
            assert case["words"].startswith("The ") and case["words"].endswith(
                f" {day:%A} of each month")
    assert_clean(page)
