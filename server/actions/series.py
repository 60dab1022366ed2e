"""Recurring rooms: every change to a series, through the one pipeline.

    authorize (``allowed()``: ``schedule_series`` for conveners' changes,
    ``plan_sessions`` for members') → decide (pure, :mod:`server.domain.series_decide`,
    on the fold) → append to ``series:<id>`` naming the seq decided on, with the audit
    entry of a convener's change (and the HTTP call's Idempotency-Key) → on a stale
    seq: decide again on the new state

Reads, attendance and feeds are :class:`~server.actions.series_reads.SeriesReads`.
The lobbies and reminders are the scheduler's (:mod:`server.domain.series_clock`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TypeVar

from ..authority import PRIVILEGED, Authority, Principal, audit_entry, now_ms
from ..domain import series_decide as d
from ..domain.community import CommunityState
from ..domain.events import EventBody, audit_stream, series_stream
from ..domain.policy import Action
from ..domain.series import SeriesState
from ..domain.session_events import DEFAULT_TEMPLATE, Segment
from ..folds import Folds
from ..http.series_types import (
    CreateSeries,
    EditSeries,
    OccurrenceView,
    SeriesView,
    TopicView,
)
from ..pipeline import Sync, append_keyed, decided
from ..store import EventStore
from ..streams import SERIES
from .series_reads import SeriesReads
from .series_views import occurrence_view, series_view, topic_view
from .sessions import Sessions

Decide = Callable[[SeriesState, CommunityState, int], list[EventBody]]


class Series(SeriesReads):
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 sync: Sync) -> None:
        super().__init__(store, folds, authority, sync)
        self._locks: dict[str, asyncio.Lock] = {}

    # --- the pipeline -------------------------------------------------------------------

    async def _append(self, stream: str, expected: int, community: str, actor: str,
                      bodies: list[EventBody], action: Action, detail: str) -> int:
        parts: list[tuple[str, list[EventBody], int | None]] = [(stream, bodies, expected)]
        if action in PRIVILEGED:
            parts.append((audit_stream(community),
                          [audit_entry(action.value, target=stream, detail=detail)], None))
        (first, *_) = await append_keyed(self.store, parts, actor)
        return first.seq

    async def _change(self, principal: Principal, series: str, action: Action,
                      decide: Decide, detail: str) -> SeriesState:
        """Decide on the fold and append; decided again while the fold is stale."""
        async def attempt() -> SeriesState:
            state = self.state(series)
            community = await self.authority.check(principal, action, state.community)
            bodies = decide(state, community, now_ms())
            if bodies:
                await self._append(series_stream(series), state.seq, state.community,
                                   principal.member, bodies, action, detail)
                await self.sync(series_stream(series))
            return self.state(series)

        async with self._locks.setdefault(series, asyncio.Lock()):
            return await decided(attempt, self.sync)

    def _name(self, principal: Principal, community: CommunityState) -> str:
        info = community.members.get(principal.member)
        return info.name if info is not None else principal.name

    async def _occurrence_change(self, principal: Principal, series: str, key: str,
                                 action: Action, decide: Decide, detail: str
                                 ) -> OccurrenceView:
        state = await self._change(principal, series, action, decide, f"{key}: {detail}")
        community = self.folds.community(state.community)
        return occurrence_view(state, self.found(state, key), community, principal.member)

    # --- the series ---------------------------------------------------------------------

    async def create(self, principal: Principal, community: str,
                     body: CreateSeries) -> SeriesView:
        series = body.series or f"r-{secrets.token_hex(5)}"
        stream = series_stream(series)

        async def attempt() -> SeriesState:
            found = await self.authority.check(principal, Action.SCHEDULE_SERIES, community)
            template = body.template or DEFAULT_TEMPLATE
            agenda = Sessions.agenda_for(found, template, body.agenda)
            rules = d.make_rules(
                found, title=body.title, rule=body.rule, start=body.start, zone=body.zone,
                duration_min=body.duration_min, lobby_min=body.lobby_min,
                reminder_min=body.reminder_min, host=body.host or principal.member,
                agenda=agenda, template="" if body.agenda else template)
            states: dict[str, SeriesState] = self.folds.of(SERIES)
            bodies = d.decide_create(series, found, body.room, rules,
                                     states.get(series) or SeriesState(series))
            await self._append(stream, 0, community, principal.member, bodies,
                               Action.SCHEDULE_SERIES, f"created {rules.title}: {rules.rule}")
            await self.sync(stream)
            return self.state(series)

        state = await decided(attempt, self.sync)
        return series_view(state, self.folds.community(community))

    async def edit(self, principal: Principal, series: str, body: EditSeries) -> SeriesView:
        def decide(state: SeriesState, community: CommunityState, now: int
                   ) -> list[EventBody]:
            old = state.rules
            agenda: list[Segment] = list(old.agenda)
            template = old.template
            if body.agenda is not None:
                agenda, template = list(body.agenda), ""
            elif body.template is not None:
                agenda = Sessions.agenda_for(community, body.template, None)
                template = body.template
            rules = d.make_rules(
                community, title=_or(body.title, old.title), rule=_or(body.rule, old.rule),
                start=_or(body.start, old.start), zone=_or(body.zone, old.zone),
                duration_min=_or(body.duration_min, old.duration_min),
                lobby_min=_or(body.lobby_min, old.lobby_min),
                reminder_min=_or(body.reminder_min, old.reminder_min),
                host=_or(body.host, old.host), agenda=agenda, template=template)
            return d.decide_edit(state, rules, now)

        state = await self._change(principal, series, Action.SCHEDULE_SERIES, decide,
                                   "edited the rules")
        return series_view(state, self.folds.community(state.community))

    async def end(self, principal: Principal, series: str, at_ms: int | None) -> SeriesView:
        state = await self._change(
            principal, series, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_end(state, at_ms, now), "ended")
        return series_view(state, self.folds.community(state.community))

    # --- one occurrence -----------------------------------------------------------------

    async def cancel(self, principal: Principal, series: str, key: str,
                     reason: str) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_cancel(state, key, reason, now),
            f"cancelled {reason}")

    async def restore(self, principal: Principal, series: str, key: str) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_restore(state, key, now), "restored")

    async def move(self, principal: Principal, series: str, key: str,
                   start: str) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_move(state, key, start, now),
            f"moved to {start}")

    async def set_host(self, principal: Principal, series: str, key: str,
                       host: str) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_host(state, community, key, host, now),
            f"host {host}")

    async def set_title(self, principal: Principal, series: str, key: str, title: str,
                        topic: int | None) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.SCHEDULE_SERIES,
            lambda state, community, now: d.decide_title(state, key, title, topic, now),
            f"titled {title}")

    async def rsvp(self, principal: Principal, series: str, key: str,
                   answer: str) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.PLAN_SESSIONS,
            lambda state, community, now: d.decide_rsvp(
                state, key, principal.member, self._name(principal, community), answer, now),
            answer)

    async def volunteer(self, principal: Principal, series: str, key: str, role: str,
                        on: bool) -> OccurrenceView:
        return await self._occurrence_change(
            principal, series, key, Action.PLAN_SESSIONS,
            lambda state, community, now: d.decide_volunteer(
                state, key, principal.member, self._name(principal, community), role, on,
                now), role)

    # --- topics -------------------------------------------------------------------------

    async def propose(self, principal: Principal, series: str, title: str) -> TopicView:
        before = self.state(series).seq
        state = await self._change(
            principal, series, Action.PLAN_SESSIONS,
            lambda state, community, now: d.decide_propose(
                principal.member, self._name(principal, community), title), "topic")
        mine = [t for number, t in state.topics.items()
                if number > before and t.member == principal.member]
        return topic_view(state, mine[-1], principal.member)

    async def vote(self, principal: Principal, series: str, topic: int,
                   up: bool) -> TopicView:
        state = await self._change(
            principal, series, Action.PLAN_SESSIONS,
            lambda state, community, now: d.decide_vote(state, topic, principal.member, up),
            "vote")
        return topic_view(state, state.topics[topic], principal.member)


T = TypeVar("T")


def _or(value: T | None, default: T) -> T:
    return default if value is None else value
