"""The demo community's recurring room, seeded with it on first run: a weekly case
review clinic that started three weeks ago, so a newcomer sees past occurrences (with
their attendance) and upcoming ones (RSVPs, a presenter and a backup, one with a gap),
and topics members proposed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .domain.events import EventBody, series_stream
from .domain.recurrence import key_of, recurrence
from .domain.series import MINUTE_MS
from .domain.series_events import (
    AttendanceEntry,
    AttendanceRecorded,
    PresenterVolunteered,
    RsvpGiven,
    SeriesCreated,
    SeriesRules,
    TopicProposed,
    TopicVoted,
)
from .domain.session_events import DEFAULT_TEMPLATE, community_hour

SERIES = "case-clinic"
ROOM = "case-review"
ZONE = "Europe/Berlin"
DURATION_MIN = 75
Append = Callable[[str, str | None, list[EventBody]], Awaitable[int]]
"""``append(stream, actor, bodies)``: the seeder's append, answering the last seq (every
seeder of the demo community takes it)."""
"""``append(stream, actor, bodies)``: the seq of the last event appended."""


async def seed_series(append: Append, community: str, owner: str, people: dict[str, str],
                      now_ms: int) -> None:
    """Append the demo's recurring room."""
    first_day = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(ZONE)).date() - timedelta(
        days=21)
    start = f"{first_day.isoformat()}T18:00"
    rec = recurrence("FREQ=WEEKLY", start, ZONE)
    rules = SeriesRules(title="Case review clinic", rule=rec.rule, start=start, zone=ZONE,
                        duration_min=DURATION_MIN, lobby_min=10, reminder_min=60, host=owner,
                        agenda=community_hour(), template=DEFAULT_TEMPLATE)
    stream = series_stream(SERIES)
    await append(stream, owner, [SeriesCreated(series=SERIES, community=community,
                                               room=ROOM, rules=rules)])
    starts = rec.between(rec.first_ms() or now_ms, now_ms + 15 * 24 * 60 * MINUTE_MS)
    past = [ms for ms in starts if ms + DURATION_MIN * MINUTE_MS <= now_ms]
    upcoming = [ms for ms in starts if ms > now_ms][:2]
    members = list(people)
    for number, start_ms in enumerate(past):
        rows = []
        for index, member in enumerate(members[: 3 - number % 2]):
            joined = start_ms + index * 2 * MINUTE_MS
            left = start_ms + (DURATION_MIN - 5 * index) * MINUTE_MS
            rows.append(AttendanceEntry(member=member, name=people[member], joined_ms=joined,
                                        left_ms=left, duration_s=(left - joined) // 1000))
        await append(stream, None, [AttendanceRecorded(occurrence=key_of(start_ms),
                                                       rows=rows)])
    answers = ["yes", "yes", "maybe"]
    for position, start_ms in enumerate(upcoming):
        key = key_of(start_ms)
        for member, answer in zip(members, answers, strict=False):
            await append(stream, member, [RsvpGiven(occurrence=key, member=member,
                                                    name=people[member],
                                                    answer=answer)])  # type: ignore[arg-type]
        presenter = members[position % len(members)]
        await append(stream, presenter, [PresenterVolunteered(
            occurrence=key, member=presenter, name=people[presenter], role="presenter")])
        if position == 0:  # the next one has a backup; the one after is a gap
            backup = members[1]
            await append(stream, backup, [PresenterVolunteered(
                occurrence=key, member=backup, name=people[backup], role="backup")])
    proposer, voter = members[1], members[2]
    topic = await append(stream, proposer, [TopicProposed(
        title="Recurring syncope with a normal ECG: when to stop testing", member=proposer,
        name=people[proposer])])
    await append(stream, voter, [TopicProposed(
        title="Handover of a deteriorating patient at night", member=voter,
        name=people[voter])])
    for member in (voter, members[0]):
        await append(stream, member, [TopicVoted(topic=topic, member=member, up=True)])
