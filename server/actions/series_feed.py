"""iCalendar feeds of recurring rooms, written with the icalendar package.

Each era of a series (its rules from one edit to the next) is one ``VEVENT`` with
an ``RRULE`` in the series' ``TZID`` (``VTIMEZONE`` included): its ``DTSTART`` is the
era's first occurrence in the feed, and a ``COUNT`` or the era's end becomes an
``UNTIL`` (the last occurrence, in UTC), so a calendar program expands the same
instants Practica does. Cancelled occurrences are ``EXDATE``s; a moved, retitled or
rehosted one is a ``VEVENT`` with the same ``UID`` and its ``RECURRENCE-ID``.
"""

from __future__ import annotations

from datetime import date, timedelta

import icalendar

from ..domain.recurrence import from_ms, key_of, zone
from ..domain.series import NEVER, Era, Occurrence, SeriesState

PRODID = "-//Practica//recurring rooms//EN"
LAST_MS = 253_370_764_800_000
"""9999-01-01: no instant past this is asked of a rule."""


def _rule_until(rule: str, last_ms: int | None) -> str:
    parts = [p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL="))]
    if last_ms is not None:
        parts.append(f"UNTIL={key_of(last_ms)}")
    return ";".join(parts)


def _when(ms: int, zone_name: str) -> object:
    return from_ms(ms).astimezone(zone(zone_name))


def _describe(state: SeriesState, occurrence: Occurrence) -> str:
    lines = [f"Host: {state.name_of(occurrence.host)}"]
    if occurrence.presenter:
        lines.append(f"Presenter: {state.name_of(occurrence.presenter)}")
    if occurrence.backup:
        lines.append(f"Backup: {state.name_of(occurrence.backup)}")
    return "\n".join(lines)


def _era_events(state: SeriesState, index: int, era: Era, lo: int, hi: int,
                stamp: object) -> list[icalendar.Event]:
    rec = era.recurrence
    rules = era.rules
    start = rec.next_from(lo)
    if start is None or start >= hi:
        return []
    bounded = hi < NEVER or "COUNT=" in rules.rule or "UNTIL=" in rules.rule
    last = rec.last_before(min(hi, LAST_MS)) if bounded else None
    if bounded and (last is None or last < start):
        return []
    uid = f"{state.series}-{index}@practica"
    master = icalendar.Event()
    master.add("uid", uid)
    master.add("dtstamp", stamp)
    master.add("summary", rules.title)
    master.add("dtstart", _when(start, rules.zone))
    master.add("duration", timedelta(minutes=rules.duration_min))
    master.add("rrule", icalendar.vRecur.from_ical(_rule_until(rules.rule, last)))
    master.add("description", f"Host: {state.name_of(rules.host)}")
    events = [master]
    upto = hi if last is None else last + 1
    exdates = []
    for key in sorted({*state.cancelled, *state.moved, *state.hosts, *state.titles,
                       *state.presenters}):
        occurrence = state.occurrence(key)
        if occurrence is None or occurrence.rules is not rules or not (
                start <= occurrence.original_ms < upto):
            continue
        if occurrence.cancelled:
            exdates.append(_when(occurrence.original_ms, rules.zone))
            continue
        override = icalendar.Event()
        override.add("uid", uid)
        override.add("dtstamp", stamp)
        override.add("recurrence-id", _when(occurrence.original_ms, rules.zone))
        override.add("summary", occurrence.title)
        override.add("dtstart", _when(occurrence.start_ms, rules.zone))
        override.add("duration", timedelta(minutes=rules.duration_min))
        override.add("description", _describe(state, occurrence))
        events.append(override)
    if exdates:
        master.add("exdate", exdates)
    return events


def calendar(states: list[SeriesState], name: str, since_ms: int) -> bytes:
    """The feed of ``states``: their occurrences from ``since_ms`` on."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for state in states:
        stamp = from_ms(state.created_ms)
        for index, era, lo, hi in state.eras_bounded():
            if hi <= since_ms:
                continue
            for event in _era_events(state, index, era, max(lo, since_ms), hi, stamp):
                cal.add_component(event)
    first = from_ms(since_ms).date()
    cal.add_missing_timezones(first_date=first - timedelta(days=366),
                              last_date=max(date(2038, 1, 1), first + timedelta(days=3700)))
    feed: bytes = cal.to_ical()
    return feed
