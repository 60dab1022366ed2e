"""Recurrence rules in a time zone: reading them, and the instants they give. Pure.

A rule is an RFC 5545 ``RRULE`` value expanded by python-dateutil from a wall-clock
``DTSTART`` in an IANA zone (zoneinfo). The expansion runs on wall-clock time with
the zone attached, so a weekly 18:00 stays 18:00 across daylight-saving changes;
a wall-clock time a change skips is read with the offset before the change (it
lands an hour later), one a change repeats is the first of the two (RFC 5545,
3.3.5). Instants are epoch milliseconds (UTC).

Every bad input raises :class:`~server.errors.InvalidCommand` with what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

from ..errors import InvalidCommand

FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_PER_WINDOW = 2000
"""At most this many instants in one expansion (a daily rule over 400 days is 400)."""
KEY_FORMAT = "%Y%m%dT%H%M%SZ"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this system knows (the system's database, or tzdata's)."""
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``invalid`` if there is none such (file names that are no
    zone, like ``localtime`` or ``posixrules``, included)."""
    if name not in zone_names():
        raise InvalidCommand(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidCommand(f"unknown time zone {name!r}") from None


def parse_local(text: str) -> datetime:
    """A wall-clock ``YYYY-MM-DDTHH:MM[:SS]`` (no zone); ``invalid`` otherwise."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidCommand(f"not a date and time: {text!r}") from None
    if value.tzinfo is not None:
        raise InvalidCommand(f"{text!r}: give the wall-clock time without an offset")
    return value.replace(microsecond=0)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def local_ms(text: str, zone_name: str) -> int:
    """The instant a wall-clock time in a zone names (a skipped time: offset before)."""
    return to_ms(parse_local(text).replace(tzinfo=zone(zone_name)))


def local_text(ms: int, zone_name: str) -> str:
    """The wall-clock ``YYYY-MM-DDTHH:MM`` of an instant in a zone."""
    return from_ms(ms).astimezone(zone(zone_name)).strftime("%Y-%m-%dT%H:%M")


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def key_of(ms: int) -> str:
    """An occurrence's name: the instant the rule gave it, ``YYYYMMDDTHHMMSSZ``."""
    return from_ms(ms).strftime(KEY_FORMAT)


def ms_of_key(key: str) -> int:
    try:
        return to_ms(datetime.strptime(key, KEY_FORMAT).replace(tzinfo=UTC))
    except ValueError:
        raise InvalidCommand(f"not an occurrence: {key!r}") from None


def _parts(rule: str) -> list[tuple[str, str]]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "\r" in text:
        raise InvalidCommand(f"invalid RRULE {rule!r}: one line of NAME=VALUE parts")
    parts: list[tuple[str, str]] = []
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidCommand(f"invalid RRULE {rule!r}: {part!r} is not NAME=VALUE")
        parts.append((name.strip().upper(), value.strip().upper()))
    return parts


def normalize_rule(rule: str, zone_name: str) -> str:
    """The rule as stored and written to feeds: no ``RRULE:`` prefix, upper case, and
    an ``UNTIL`` without ``Z`` read in the zone and written in UTC. ``invalid`` when
    dateutil cannot read it, its FREQ is finer than daily, or it names its own DTSTART."""
    tz = zone(zone_name)
    names = set()
    out: list[str] = []
    for name, value in _parts(rule):
        if name in names:
            raise InvalidCommand(f"invalid RRULE {rule!r}: {name} twice")
        names.add(name)
        if name in ("DTSTART", "TZID"):
            raise InvalidCommand(f"invalid RRULE {rule!r}: the start is given apart, "
                                 "not in the rule")
        if name == "FREQ" and value not in FREQS:
            raise InvalidCommand(f"invalid RRULE {rule!r}: FREQ must be one of "
                                 + ", ".join(FREQS))
        if name == "UNTIL" and not value.endswith("Z"):
            value = _until_utc(rule, value, tz)
        out.append(f"{name}={value}")
    if "FREQ" not in names:
        raise InvalidCommand(f"invalid RRULE {rule!r}: FREQ is missing")
    if "COUNT" in names and "UNTIL" in names:
        raise InvalidCommand(f"invalid RRULE {rule!r}: COUNT and UNTIL together")
    text = ";".join(out)
    _compile(text, datetime(2000, 1, 1, tzinfo=tz), rule)
    return text


def _until_utc(rule: str, value: str, tz: ZoneInfo) -> str:
    try:
        if "T" in value:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
        else:  # a date: to the end of that day
            local = datetime.strptime(value, "%Y%m%d") + timedelta(days=1, seconds=-1)
    except ValueError:
        raise InvalidCommand(f"invalid RRULE {rule!r}: UNTIL {value!r} is no date") from None
    return local.replace(tzinfo=tz).astimezone(UTC).strftime(KEY_FORMAT)


def _compile(text: str, dtstart: datetime, shown: str) -> rrule:
    try:
        compiled = rrulestr("RRULE:" + text, dtstart=dtstart)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        raise InvalidCommand(f"invalid RRULE {shown!r}: {exc}") from None
    if not isinstance(compiled, rrule):
        raise InvalidCommand(f"invalid RRULE {shown!r}")
    return compiled


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A rule from a wall-clock start in a zone, ready to expand."""

    rule: str
    """Normalized (:func:`normalize_rule`)."""
    start: str
    zone: str

    @property
    def dtstart(self) -> datetime:
        return parse_local(self.start).replace(tzinfo=zone(self.zone))

    @property
    def compiled(self) -> rrule:
        return _compiled(self.rule, self.start, self.zone)

    def first_ms(self) -> int | None:
        """The first instant; None when the rule gives none."""
        first = self.compiled.after(self.dtstart - timedelta(seconds=1))
        return None if first is None else to_ms(first)

    def between(self, after_ms: int, before_ms: int) -> list[int]:
        """The instants in ``[after_ms, before_ms)``, in order (at most
        :data:`MAX_PER_WINDOW`)."""
        if before_ms <= after_ms:
            return []
        tz = zone(self.zone)
        lo = from_ms(after_ms).astimezone(tz)
        hi = from_ms(before_ms).astimezone(tz)
        found: list[int] = []
        for value in self.compiled.xafter(lo - timedelta(seconds=1), count=MAX_PER_WINDOW,
                                          inc=True):
            ms = to_ms(value)
            if ms >= before_ms or value > hi + timedelta(hours=3):
                break
            if ms >= after_ms:
                found.append(ms)
        return found

    def next_from(self, ms: int) -> int | None:
        """The first instant at or after ``ms``; None if there is none."""
        value = self.compiled.after(from_ms(ms).astimezone(zone(self.zone)), inc=True)
        while value is not None and to_ms(value) < ms:
            value = self.compiled.after(value)
        return None if value is None else to_ms(value)

    def gives(self, ms: int) -> bool:
        """Does the rule give exactly this instant?"""
        return ms in self.between(ms, ms + 1)

    def last_before(self, before_ms: int) -> int | None:
        """The last instant before ``before_ms``; None if there is none."""
        value = self.compiled.before(from_ms(before_ms).astimezone(zone(self.zone)))
        while value is not None and to_ms(value) >= before_ms:
            value = self.compiled.before(value)
        return None if value is None else to_ms(value)


@lru_cache(maxsize=256)
def _compiled(rule: str, start: str, zone_name: str) -> rrule:
    return _compile(rule, parse_local(start).replace(tzinfo=zone(zone_name)), rule)


def recurrence(rule: str, start: str, zone_name: str) -> Recurrence:
    """Read a rule for a start and zone (normalizing it); ``invalid`` when the rule, the
    start or the zone is bad, or the rule gives no occurrence (ends before it starts)."""
    zone(zone_name)
    parse_local(start)
    found = Recurrence(normalize_rule(rule, zone_name), start, zone_name)
    if found.first_ms() is None:
        raise InvalidCommand(f"the rule {rule!r} gives no occurrence: it ends before it "
                             f"starts ({start})")
    return found
