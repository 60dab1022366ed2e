"""What a change to a recurring room appends, or why it is refused. Pure: the caller
gives the series' and community's folds and the time now.

Refusals: ``invalid`` for a bad rule, zone, start or host, a rule that gives no
occurrence, an end before the first occurrence, a move into the past; ``conflict``
for a move onto another occurrence or a presenter's place someone else holds;
``out_of_order`` for changing an occurrence whose lobby opened or that is over;
``not_found`` for an occurrence the rules do not give or a topic there is not.
A change that changes nothing appends nothing.
"""

from __future__ import annotations

from ..errors import Conflict, InvalidCommand, NotFound, OutOfOrder
from .community import CommunityState
from .events import EventBody
from .policy import Role
from .recurrence import local_ms, ms_of_key, parse_local, recurrence
from .series import MINUTE_MS, Occurrence, SeriesState
from .series_events import (
    OccurrenceCancelled,
    OccurrenceHostSet,
    OccurrenceMoved,
    OccurrenceRestored,
    OccurrenceTitled,
    PresenterVolunteered,
    PresenterWithdrawn,
    RsvpGiven,
    SeriesCreated,
    SeriesEdited,
    SeriesEnded,
    SeriesRules,
    TopicProposed,
    TopicVoted,
)
from .session_events import Segment

MAX_SERIES_ID = 40
"""A series id leaves room in a session id for the occurrence (``<series>-<key>``)."""
LONGEST_MS = 720 * MINUTE_MS


def wall_clock(text: str) -> str:
    """``YYYY-MM-DDTHH:MM``, with ``:SS`` only when the seconds are not zero."""
    value = parse_local(text)
    return value.strftime("%Y-%m-%dT%H:%M" + (":%S" if value.second else ""))


def check_host(community: CommunityState, host: str) -> str:
    role = community.role_of(host)
    if role is None or role < Role.HOST:
        raise InvalidCommand(f"{host!r} cannot host: a host needs the host role or above "
                             f"in {community.community}")
    return host


def make_rules(community: CommunityState, *, title: str, rule: str, start: str, zone: str,
               duration_min: int, lobby_min: int, reminder_min: int, host: str,
               agenda: list[Segment], template: str) -> SeriesRules:
    """Rules read and checked: the rule normalized, the host able to host."""
    found = recurrence(rule, start, zone)
    if not title.strip():
        raise InvalidCommand("a series needs a title")
    return SeriesRules(title=title.strip(), rule=found.rule,
                       start=wall_clock(start), zone=zone,
                       duration_min=duration_min, lobby_min=lobby_min,
                       reminder_min=reminder_min, host=check_host(community, host),
                       agenda=agenda, template=template)


def decide_create(series: str, community: CommunityState, room: str, rules: SeriesRules,
                  state: SeriesState) -> list[EventBody]:
    if len(series) > MAX_SERIES_ID:
        raise InvalidCommand(f"a series id has at most {MAX_SERIES_ID} characters")
    if state.created:
        raise Conflict(f"there is a series {series!r} already")
    if room not in community.rooms:
        raise NotFound(f"no room {room!r} in {community.community}")
    return [SeriesCreated(series=series, community=community.community, room=room,
                          rules=rules)]


def after_open_lobbies(state: SeriesState, at_ms: int) -> int:
    """``at_ms``, or just after the latest occurrence whose lobby has opened when that is
    later: a change from now on leaves an occurrence being run as it is."""
    opened = [ms_of_key(key) for key in state.lobbies]
    return max([at_ms, *(ms + 1 for ms in opened)])


def decide_edit(state: SeriesState, rules: SeriesRules, now_ms: int) -> list[EventBody]:
    _not_ended(state, now_ms)
    if rules == state.rules:
        return []
    return [SeriesEdited(rules=rules, from_ms=after_open_lobbies(state, now_ms))]


def first_start(state: SeriesState) -> int | None:
    starts = [era.recurrence.next_from(lo) for _, era, lo, hi in state.eras_bounded()]
    found = [ms for ms in starts if ms is not None]
    return min(found) if found else None


def decide_end(state: SeriesState, at_ms: int | None, now_ms: int) -> list[EventBody]:
    _not_ended(state, now_ms)
    at = now_ms if at_ms is None else at_ms
    if at < now_ms:
        raise InvalidCommand("a series ends from now on, not in the past")
    first = first_start(state)
    if first is not None and at <= first:
        raise InvalidCommand("that would end the series before it starts: its first "
                             "occurrence is later (cancel occurrences instead)")
    return [SeriesEnded(from_ms=after_open_lobbies(state, at))]


def _not_ended(state: SeriesState, now_ms: int) -> None:
    if state.ended_ms is not None and state.ended_ms <= now_ms:
        raise OutOfOrder(f"series {state.series!r} has ended")


def occurrence_of(state: SeriesState, key: str) -> Occurrence:
    occurrence = state.occurrence(key)
    if occurrence is None:
        raise NotFound(f"no occurrence {key!r} in series {state.series!r}")
    return occurrence


def _changeable(occurrence: Occurrence, now_ms: int) -> Occurrence:
    if occurrence.session is not None:
        raise OutOfOrder("its lobby has opened: run or end the live session instead")
    if occurrence.end_ms <= now_ms:
        raise OutOfOrder("that occurrence is over")
    return occurrence


def _upcoming(occurrence: Occurrence, now_ms: int) -> Occurrence:
    if occurrence.cancelled:
        raise OutOfOrder("that occurrence is cancelled")
    if occurrence.end_ms <= now_ms:
        raise OutOfOrder("that occurrence is over")
    return occurrence


def decide_cancel(state: SeriesState, key: str, reason: str, now_ms: int) -> list[EventBody]:
    occurrence = _changeable(occurrence_of(state, key), now_ms)
    if occurrence.cancelled:
        return []
    return [OccurrenceCancelled(occurrence=key, reason=reason.strip())]


def decide_restore(state: SeriesState, key: str, now_ms: int) -> list[EventBody]:
    occurrence = _changeable(occurrence_of(state, key), now_ms)
    return [OccurrenceRestored(occurrence=key)] if occurrence.cancelled else []


def decide_move(state: SeriesState, key: str, start: str, now_ms: int) -> list[EventBody]:
    occurrence = _changeable(occurrence_of(state, key), now_ms)
    zone = occurrence.rules.zone
    new_ms = local_ms(start, zone)
    if new_ms < now_ms:
        raise InvalidCommand(f"{start} ({zone}) is in the past")
    if state.ended_ms is not None and new_ms >= state.ended_ms:
        raise InvalidCommand(f"{start} ({zone}) is after the series ends")
    if new_ms == occurrence.start_ms:
        return []
    new_end = new_ms + occurrence.rules.duration_min * MINUTE_MS
    for other in state.occurrences(new_ms - LONGEST_MS, new_end):
        if other.key != key and not other.cancelled and (
                other.start_ms < new_end and new_ms < other.end_ms):
            raise Conflict(f"{start} ({zone}) would overlap the occurrence of "
                           f"{other.local_start}: move it elsewhere, or cancel that one")
    return [OccurrenceMoved(occurrence=key, start=wall_clock(start))]


def decide_host(state: SeriesState, community: CommunityState, key: str, host: str,
                now_ms: int) -> list[EventBody]:
    occurrence = _upcoming(occurrence_of(state, key), now_ms)
    check_host(community, host)
    return [] if occurrence.host == host else [OccurrenceHostSet(occurrence=key, host=host)]


def decide_title(state: SeriesState, key: str, title: str, topic: int | None,
                 now_ms: int) -> list[EventBody]:
    occurrence = _upcoming(occurrence_of(state, key), now_ms)
    if topic is not None:
        found = state.topics.get(topic)
        if found is None:
            raise NotFound(f"no topic {topic} in series {state.series!r}")
        title = title.strip() or found.title
    title = title.strip()
    if not title:
        raise InvalidCommand("a title, or a topic to take it from")
    if (occurrence.title, occurrence.topic) == (title, topic):
        return []
    return [OccurrenceTitled(occurrence=key, title=title, topic=topic)]


def decide_rsvp(state: SeriesState, key: str, member: str, name: str, answer: str,
                now_ms: int) -> list[EventBody]:
    occurrence = _upcoming(occurrence_of(state, key), now_ms)
    if occurrence.rsvps.get(member) == answer:
        return []
    return [RsvpGiven(occurrence=key, member=member, name=name,
                      answer=answer)]  # type: ignore[arg-type]


def decide_volunteer(state: SeriesState, key: str, member: str, name: str, role: str,
                     on: bool, now_ms: int) -> list[EventBody]:
    occurrence = _upcoming(occurrence_of(state, key), now_ms)
    holder = occurrence.presenter if role == "presenter" else occurrence.backup
    other = occurrence.backup if role == "presenter" else occurrence.presenter
    if not on:
        if holder != member:
            raise InvalidCommand(f"you are not the {role} of this occurrence")
        return [PresenterWithdrawn(occurrence=key, member=member,
                                   role=role)]  # type: ignore[arg-type]
    if holder == member:
        return []
    if holder is not None:
        raise Conflict(f"{state.name_of(holder)} is the {role} already")
    if other == member:
        raise Conflict("the presenter and the backup are two people")
    return [PresenterVolunteered(occurrence=key, member=member, name=name,
                                 role=role)]  # type: ignore[arg-type]


def decide_propose(member: str, name: str, title: str) -> list[EventBody]:
    if not title.strip():
        raise InvalidCommand("a topic needs a title")
    return [TopicProposed(title=title.strip(), member=member, name=name)]


def decide_vote(state: SeriesState, topic: int, member: str, up: bool) -> list[EventBody]:
    found = state.topics.get(topic)
    if found is None:
        raise NotFound(f"no topic {topic} in series {state.series!r}")
    if (member in found.voters) == up:
        return []
    return [TopicVoted(topic=topic, member=member, up=up)]
