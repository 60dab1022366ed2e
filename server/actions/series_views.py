"""What the recurring-rooms API answers with, built from a series' fold."""

from __future__ import annotations

from ..domain.community import CommunityState
from ..domain.series import Occurrence, SeriesState, Topic
from ..http.series_types import OccurrenceView, SeriesView, TopicView


def _name(state: SeriesState, community: CommunityState | None, member: str | None) -> str:
    if member is None:
        return ""
    info = community.members.get(member) if community is not None else None
    return info.name if info is not None else state.name_of(member)


def series_view(state: SeriesState, community: CommunityState | None) -> SeriesView:
    rules = state.rules
    return SeriesView(
        series=state.series, community=state.community, room=state.room, title=rules.title,
        rule=rules.rule, start=rules.start, zone=rules.zone, duration_min=rules.duration_min,
        lobby_min=rules.lobby_min, reminder_min=rules.reminder_min, host=rules.host,
        host_name=_name(state, community, rules.host), template=rules.template,
        agenda=list(rules.agenda), ended_ms=state.ended_ms, seq=state.seq)


def occurrence_view(state: SeriesState, occurrence: Occurrence,
                    community: CommunityState | None, me: str | None) -> OccurrenceView:
    answer = occurrence.rsvps.get(me) if me is not None else None
    return OccurrenceView(
        series=state.series, occurrence=occurrence.key, community=state.community,
        room=state.room, title=occurrence.title, start_ms=occurrence.start_ms,
        end_ms=occurrence.end_ms, original_start_ms=occurrence.original_ms,
        zone=occurrence.rules.zone, local_start=occurrence.local_start,
        cancelled=occurrence.cancelled, moved=occurrence.moved, reason=occurrence.reason,
        host=occurrence.host, host_name=_name(state, community, occurrence.host),
        presenter=occurrence.presenter,
        presenter_name=_name(state, community, occurrence.presenter) or None,
        backup=occurrence.backup,
        backup_name=_name(state, community, occurrence.backup) or None,
        topic=occurrence.topic, lobby_opens_ms=occurrence.lobby_ms,
        session=occurrence.session,
        rsvps=dict(occurrence.rsvps),  # type: ignore[arg-type]
        my_rsvp=answer)  # type: ignore[arg-type]


def topic_view(state: SeriesState, topic: Topic, me: str | None) -> TopicView:
    used = sorted(key for key, (_, number) in state.titles.items() if number == topic.topic)
    return TopicView(topic=topic.topic, title=topic.title, member=topic.member,
                     name=topic.name, votes=len(topic.voters), voted=me in topic.voters,
                     used_for=used)


def ranked_topics(state: SeriesState) -> list[Topic]:
    """Most votes first, then the oldest first."""
    return sorted(state.topics.values(), key=lambda t: (-len(t.voters), t.topic))
