"""The iCalendar feeds: read back with the icalendar package and with
recurring-ical-events, each expands to the instants Practica shows; the secret URL is
the credential, and a new one ends the old."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx2
import icalendar
import pytest
import recurring_ical_events
from dateutil.rrule import rruleset, rrulestr

from tests.series_setup import community, create, joined, local_day, occurrences

pytestmark = pytest.mark.anyio
DAY = 86_400_000
SYDNEY = "Australia/Sydney"


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def by_icalendar(feed: bytes, lo: int, hi: int) -> list[int]:
    """Expand with icalendar's parse (RRULE, EXDATE, RECURRENCE-ID) and dateutil."""
    cal = icalendar.Calendar.from_ical(feed)
    masters, overrides = [], {}
    for event in cal.walk("VEVENT"):
        if event.get("recurrence-id") is not None:
            overrides[(str(event["uid"]), ms(event.decoded("recurrence-id")))] = ms(
                event.decoded("dtstart"))
        else:
            masters.append(event)
    found = []
    for event in masters:
        start = event.decoded("dtstart")
        rules = rruleset()
        rules.rrule(rrulestr(event["rrule"].to_ical().decode(), dtstart=start))
        exdates = event.get("exdate", [])
        for group in exdates if isinstance(exdates, list) else [exdates]:
            for value in group.dts:
                rules.exdate(value.dt)
        for instant in rules.between(datetime.fromtimestamp((lo - 30 * DAY) / 1000, UTC),
                                     datetime.fromtimestamp((hi + 30 * DAY) / 1000, UTC),
                                     inc=True):
            found.append(overrides.get((str(event["uid"]), ms(instant)), ms(instant)))
    return sorted(t for t in found if lo <= t < hi)


def by_recurring_ical_events(feed: bytes, lo: int, hi: int) -> list[int]:
    cal = icalendar.Calendar.from_ical(feed)
    events = recurring_ical_events.of(cal).between(datetime.fromtimestamp(lo / 1000, UTC),
                                                   datetime.fromtimestamp(hi / 1000, UTC))
    return sorted(t for t in (ms(e.decoded("dtstart")) for e in events) if lo <= t < hi)


async def test_the_feed_expands_to_the_instants_practica_shows(server):
    owner, room = await community(server)
    # Started three weeks ago (past occurrences), Sydney, so the window crosses a DST change.
    await create(owner, room, series="clinic", zone=SYDNEY, start=local_day(-21, "19:00",
                                                                             SYDNEY))
    # The rule changes from now on; then exceptions of the new rule's occurrences.
    edited = await owner.call("PATCH", "/api/series/clinic",
                              {"rule": "FREQ=WEEKLY;BYDAY=MO,TH", "title": "Clinic II"})
    assert edited.status_code == 200, edited.text
    await create(owner, room, series="journal", zone="America/New_York",
                 rule="FREQ=MONTHLY;BYDAY=2TU;COUNT=6", start=local_day(2, "12:00",
                                                                          "America/New_York"))
    now = int(time.time() * 1000)
    upcoming = await occurrences(owner, "clinic", from_ms=now, to_ms=now + 60 * DAY)
    o = "/api/series/clinic/occurrences/"
    assert (await owner.call("POST", o + upcoming[1]["occurrence"] + "/cancel",
                             {})).status_code == 200
    moved = await owner.call("POST", o + upcoming[2]["occurrence"] + "/move",
                             {"start": upcoming[2]["local_start"][:11] + "07:15"})
    assert moved.status_code == 200, moved.text
    titled = await owner.call("PUT", o + upcoming[4]["occurrence"] + "/title",
                              {"title": "Special"})
    assert titled.status_code == 200, titled.text
    links = (await owner.call("GET", "/api/communities/guild/feeds")).json()
    assert set(links["series"]) == {"clinic", "journal"}
    lo, hi = now - 60 * DAY, now + 200 * DAY
    listed = [o for series in ("clinic", "journal")
              for o in await occurrences(owner, series, from_ms=lo, to_ms=hi)]
    shown = sorted(o["start_ms"] for o in listed if not o["cancelled"])
    assert len(shown) > 40
    async with httpx2.AsyncClient(base_url=server.url) as anyone:  # no cookies: the URL
        reply = await anyone.get(links["community"])
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("text/calendar")
        feed = reply.content
        assert by_icalendar(feed, lo, hi) == shown
        assert by_recurring_ical_events(feed, lo, hi) == shown
        one = (await anyone.get(links["series"]["clinic"])).content
        clinic = sorted(o["start_ms"] for o in listed
                        if o["series"] == "clinic" and not o["cancelled"])
        assert by_recurring_ical_events(one, lo, hi) == clinic
        cal = icalendar.Calendar.from_ical(one)
        assert {str(c["tzid"]) for c in cal.walk("VTIMEZONE")} == {SYDNEY}
        assert "Special" in {str(e["summary"]) for e in cal.walk("VEVENT")}
        # New URLs: the old ones stop working. Someone who is not a member gets nothing.
        assert (await owner.call("POST", "/api/feeds/reset")).status_code == 204
        assert (await anyone.get(links["community"])).status_code == 404
        fresh = (await owner.call("GET", "/api/communities/guild/feeds")).json()
        assert fresh["community"] != links["community"]
        assert (await anyone.get(fresh["community"])).status_code == 200
        assert (await anyone.get("/api/feeds/guessed/communities/guild")).status_code == 404
    ann = await joined(server, "Ann")
    hers = (await ann.call("GET", "/api/communities/guild/feeds")).json()
    assert (await ann.call("POST", "/api/communities/guild/leave")).status_code in (200, 204)
    async with httpx2.AsyncClient(base_url=server.url) as anyone:
        assert (await anyone.get(hers["community"])).status_code == 404
