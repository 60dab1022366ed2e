"""Recurrence rules in time zones: the instants they give across daylight-saving changes
(north and south), and the bad rules, zones and starts refused."""

from __future__ import annotations

import pytest

from server.domain.recurrence import (
    key_of,
    local_ms,
    local_text,
    ms_of_key,
    normalize_rule,
    recurrence,
    zone,
)
from server.errors import InvalidCommand


def keys(rule: str, start: str, zone_name: str, since: str, until: str) -> list[str]:
    rec = recurrence(rule, start, zone_name)
    return [key_of(ms) for ms in rec.between(local_ms(since, zone_name),
                                             local_ms(until, zone_name))]


@pytest.mark.parametrize(("rule", "start", "zone_name", "since", "until", "expected"), [
    # Berlin: summer time from 29 March 2026 (UTC+1 -> +2), back on 25 October.
    ("FREQ=WEEKLY;BYDAY=TU", "2026-03-17T18:00", "Europe/Berlin", "2026-03-01T00:00",
     "2026-04-10T00:00",
     ["20260317T170000Z", "20260324T170000Z", "20260331T160000Z", "20260407T160000Z"]),
    ("FREQ=WEEKLY;BYDAY=TU", "2026-03-17T18:00", "Europe/Berlin", "2026-10-15T00:00",
     "2026-11-01T00:00", ["20261020T160000Z", "20261027T170000Z"]),
    # New York: daylight time from 8 March 2026 (UTC-5 -> -4), back on 1 November.
    ("FREQ=WEEKLY;BYDAY=TH", "2026-03-05T12:00", "America/New_York", "2026-03-01T00:00",
     "2026-03-15T00:00", ["20260305T170000Z", "20260312T160000Z"]),
    ("FREQ=WEEKLY;BYDAY=TH", "2026-03-05T12:00", "America/New_York", "2026-10-25T00:00",
     "2026-11-08T00:00", ["20261029T160000Z", "20261105T170000Z"]),
    # Sydney (southern hemisphere): summer time ends 5 April 2026 (+11 -> +10), starts
    # again 4 October.
    ("FREQ=WEEKLY;BYDAY=MO", "2026-03-30T19:00", "Australia/Sydney", "2026-03-29T00:00",
     "2026-04-07T00:00", ["20260330T080000Z", "20260406T090000Z"]),
    ("FREQ=WEEKLY;BYDAY=MO", "2026-03-30T19:00", "Australia/Sydney", "2026-09-27T00:00",
     "2026-10-06T00:00", ["20260928T090000Z", "20261005T080000Z"]),
    # Santiago (southern hemisphere): -3 -> -4 on 5 April 2026, back on 6 September.
    ("FREQ=WEEKLY;BYDAY=SA", "2026-03-28T09:00", "America/Santiago", "2026-03-28T00:00",
     "2026-04-12T00:00", ["20260328T120000Z", "20260404T120000Z", "20260411T130000Z"]),
    ("FREQ=WEEKLY;BYDAY=SA", "2026-08-29T09:00", "America/Santiago", "2026-08-29T00:00",
     "2026-09-13T00:00", ["20260829T130000Z", "20260905T130000Z", "20260912T120000Z"]),
    # The case clinic: every 2nd Tuesday of the month, 18:00 Berlin.
    ("FREQ=MONTHLY;BYDAY=2TU", "2026-12-08T18:00", "Europe/Berlin", "2026-12-01T00:00",
     "2027-05-01T00:00", ["20261208T170000Z", "20270112T170000Z", "20270209T170000Z",
                          "20270309T170000Z", "20270413T160000Z"]),
    ("FREQ=WEEKLY;COUNT=3", "2026-12-08T18:00", "Europe/Berlin", "2026-12-01T00:00",
     "2027-05-01T00:00", ["20261208T170000Z", "20261215T170000Z", "20261222T170000Z"]),
    # An UNTIL without Z is a wall-clock date in the zone (to the end of that day).
    ("RRULE:FREQ=WEEKLY;UNTIL=20261222", "2026-12-08T18:00", "Europe/Berlin",
     "2026-12-01T00:00", "2027-05-01T00:00",
     ["20261208T170000Z", "20261215T170000Z", "20261222T170000Z"]),
])
def test_instants_across_daylight_saving(rule, start, zone_name, since, until, expected):
    assert keys(rule, start, zone_name, since, until) == expected


def test_a_skipped_wall_clock_time_takes_the_offset_before_the_change():
    # 02:30 does not exist in Berlin on 29 March 2026: read at UTC+1, it is 03:30 CEST.
    assert keys("FREQ=DAILY", "2026-03-27T02:30", "Europe/Berlin", "2026-03-27T00:00",
                "2026-03-31T00:00") == [
        "20260327T013000Z", "20260328T013000Z", "20260329T013000Z", "20260330T003000Z"]
    assert local_text(ms_of_key("20260329T013000Z"), "Europe/Berlin") == "2026-03-29T03:30"


def test_a_repeated_wall_clock_time_is_the_first_of_the_two():
    assert keys("FREQ=DAILY", "2026-10-24T02:30", "Europe/Berlin", "2026-10-24T00:00",
                "2026-10-27T00:00") == [
        "20261024T003000Z", "20261025T003000Z", "20261026T013000Z"]


def test_rules_are_normalized_for_storage_and_feeds():
    assert normalize_rule("rrule:freq=weekly;byday=tu", "Europe/Berlin") == (
        "FREQ=WEEKLY;BYDAY=TU")
    assert normalize_rule("FREQ=WEEKLY;UNTIL=20261222T180000", "Europe/Berlin") == (
        "FREQ=WEEKLY;UNTIL=20261222T170000Z")


@pytest.mark.parametrize(("rule", "start", "zone_name", "says"), [
    ("FREQ=FORTNIGHTLY", "2026-12-08T18:00", "Europe/Berlin", "FREQ must be one of"),
    ("FREQ=HOURLY", "2026-12-08T18:00", "Europe/Berlin", "FREQ must be one of"),
    ("BYDAY=TU", "2026-12-08T18:00", "Europe/Berlin", "FREQ is missing"),
    ("FREQ=WEEKLY;BYDAY=XX", "2026-12-08T18:00", "Europe/Berlin", "invalid RRULE"),
    ("FREQ=WEEKLY;COUNT=two", "2026-12-08T18:00", "Europe/Berlin", "invalid RRULE"),
    ("FREQ=WEEKLY;FOO=1", "2026-12-08T18:00", "Europe/Berlin", "invalid RRULE"),
    ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z", "2026-12-08T18:00", "Europe/Berlin",
     "COUNT and UNTIL"),
    ("FREQ=WEEKLY;DTSTART=20261208T180000", "2026-12-08T18:00", "Europe/Berlin",
     "given apart"),
    ("FREQ=WEEKLY\nFREQ=DAILY", "2026-12-08T18:00", "Europe/Berlin", "one line"),
    ("FREQ=WEEKLY", "2026-12-08T18:00", "Mars/Olympus_Mons", "unknown time zone"),
    ("FREQ=WEEKLY", "2026-12-08T18:00", "../etc/passwd", "unknown time zone"),
    ("FREQ=WEEKLY", "2026-12-08T18:00", "", "unknown time zone"),
    ("FREQ=WEEKLY", "8 Dec 2026", "Europe/Berlin", "not a date and time"),
    ("FREQ=WEEKLY", "2026-12-08T18:00+01:00", "Europe/Berlin", "without an offset"),
    # The rule ends before it starts: no occurrence at all.
    ("FREQ=WEEKLY;UNTIL=20261101T000000Z", "2026-12-08T18:00", "Europe/Berlin",
     "ends before it starts"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2026-12-08T18:00", "Europe/Berlin",
     "gives no occurrence"),
])
def test_bad_rules_zones_and_starts_are_invalid(rule, start, zone_name, says):
    with pytest.raises(InvalidCommand, match=says):
        recurrence(rule, start, zone_name)


def test_zone_names_are_iana_names():
    assert str(zone("Australia/Sydney")) == "Australia/Sydney"
    for name in ("Europe/Nowhere", "europe/berlin", "localtime", "posixrules", "zone.tab",
                 "Europe/Berlin ", "/etc/passwd"):
        with pytest.raises(InvalidCommand, match="unknown time zone"):
            zone(name)


def test_keys_round_trip():
    ms = local_ms("2026-12-08T18:00", "Europe/Berlin")
    assert key_of(ms) == "20261208T170000Z" and ms_of_key("20261208T170000Z") == ms
    with pytest.raises(InvalidCommand):
        ms_of_key("20261308T170000Z")
