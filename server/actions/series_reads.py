"""Reading recurring rooms: series, occurrences in a window, gaps, topics, attendance,
reminders and calendar feeds. The changes are :mod:`server.actions.series`."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime

from ..authority import Authority, Principal, now_ms
from ..domain.attendance import attendance_rows
from ..domain.community import CommunityState
from ..domain.events import room_stream, session_stream
from ..domain.policy import Action
from ..domain.series import MINUTE_MS, Occurrence, SeriesState
from ..errors import Forbidden, InvalidCommand, NotFound
from ..folds import Folds
from ..http.series_types import (
    Attendance,
    AttendanceRow,
    FeedLinks,
    OccurrenceView,
    Reminder,
    SeriesView,
    TopicView,
)
from ..pipeline import Sync
from ..store import EventStore, read_stream
from ..streams import SERIES
from .series_feed import calendar
from .series_views import occurrence_view, ranked_topics, series_view, topic_view

DAY_MS = 24 * 60 * MINUTE_MS
DEFAULT_BEFORE_MS = DAY_MS
DEFAULT_AHEAD_MS = 60 * DAY_MS
MAX_WINDOW_MS = 400 * DAY_MS
GAP_DAYS = 14
FEED_PAST_MS = 90 * DAY_MS


class SeriesReads:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 sync: Sync) -> None:
        self.store, self.folds, self.authority, self.sync = store, folds, authority, sync

    # --- finding ------------------------------------------------------------------------

    def state(self, series: str) -> SeriesState:
        state: SeriesState | None = self.folds.of(SERIES).get(series)
        if state is None or not state.created:
            raise NotFound(f"no series {series!r}")
        return state

    def of_community(self, community: str) -> list[SeriesState]:
        states: dict[str, SeriesState] = self.folds.of(SERIES)
        return sorted((s for s in states.values() if s.created and s.community == community),
                      key=lambda s: (s.created_ms, s.series))

    def found(self, state: SeriesState, key: str) -> Occurrence:
        occurrence = state.occurrence(key)
        if occurrence is None:
            raise NotFound(f"no occurrence {key!r} in series {state.series!r}")
        return occurrence

    async def reader(self, principal: Principal, community: str,
                     action: Action = Action.VIEW_COMMUNITY) -> CommunityState:
        return await self.authority.check(principal, action, community)

    @staticmethod
    def window(from_ms: int | None, to_ms: int | None) -> tuple[int, int]:
        now = now_ms()
        lo = now - DEFAULT_BEFORE_MS if from_ms is None else from_ms
        hi = lo + DEFAULT_BEFORE_MS + DEFAULT_AHEAD_MS if to_ms is None else to_ms
        if hi < lo:
            raise InvalidCommand("to_ms is before from_ms")
        if hi - lo > MAX_WINDOW_MS:
            raise InvalidCommand("a window of at most 400 days")
        return lo, hi

    # --- reads --------------------------------------------------------------------------

    async def all_of(self, principal: Principal, community: str) -> list[SeriesView]:
        state = await self.reader(principal, community)
        return [series_view(s, state) for s in self.of_community(community)]

    async def view(self, principal: Principal, series: str) -> SeriesView:
        state = self.state(series)
        return series_view(state, await self.reader(principal, state.community))

    async def occurrences(self, principal: Principal, series: str, from_ms: int | None,
                          to_ms: int | None) -> list[OccurrenceView]:
        state = self.state(series)
        community = await self.reader(principal, state.community)
        lo, hi = self.window(from_ms, to_ms)
        return [occurrence_view(state, o, community, principal.member)
                for o in state.occurrences(lo, hi)]

    async def community_occurrences(self, principal: Principal, community: str,
                                    from_ms: int | None, to_ms: int | None
                                    ) -> list[OccurrenceView]:
        found = await self.reader(principal, community)
        lo, hi = self.window(from_ms, to_ms)
        views = [occurrence_view(s, o, found, principal.member)
                 for s in self.of_community(community) for o in s.occurrences(lo, hi)]
        return sorted(views, key=lambda v: (v.start_ms, v.series, v.occurrence))

    async def occurrence(self, principal: Principal, series: str, key: str) -> OccurrenceView:
        state = self.state(series)
        community = await self.reader(principal, state.community)
        return occurrence_view(state, self.found(state, key), community, principal.member)

    async def gaps(self, principal: Principal, community: str) -> list[OccurrenceView]:
        found = await self.reader(principal, community, Action.SCHEDULE_SERIES)
        now = now_ms()
        views = [occurrence_view(s, o, found, principal.member)
                 for s in self.of_community(community)
                 for o in s.occurrences(now, now + GAP_DAYS * DAY_MS)
                 if not o.cancelled and (o.presenter is None or o.backup is None)]
        return sorted(views, key=lambda v: (v.start_ms, v.series))

    async def topics(self, principal: Principal, series: str) -> list[TopicView]:
        state = self.state(series)
        await self.reader(principal, state.community)
        return [topic_view(state, t, principal.member) for t in ranked_topics(state)]

    async def topic(self, principal: Principal, series: str, number: int) -> TopicView:
        state = self.state(series)
        await self.reader(principal, state.community)
        found = state.topics.get(number)
        if found is None:
            raise NotFound(f"no topic {number} in series {series!r}")
        return topic_view(state, found, principal.member)

    def reminders(self, principal: Principal) -> list[Reminder]:
        """Fired reminders for occurrences ``principal`` answered yes or maybe to, that
        have not ended, in communities they are still in."""
        now = now_ms()
        found: list[Reminder] = []
        states: dict[str, SeriesState] = self.folds.of(SERIES)
        for state in states.values():
            community = self.folds.communities.get(state.community)
            if not state.created or community is None or (
                    principal.member not in community.members):
                continue
            for key in state.reminded:
                occurrence = state.occurrence(key)
                if (occurrence is None or occurrence.cancelled or occurrence.end_ms <= now
                        or occurrence.rsvps.get(principal.member) not in ("yes", "maybe")):
                    continue
                found.append(Reminder(series=state.series, occurrence=key,
                                      title=occurrence.title, start_ms=occurrence.start_ms,
                                      minutes=occurrence.rules.reminder_min,
                                      session=occurrence.session))
        return sorted(found, key=lambda r: r.start_ms)

    # --- attendance ---------------------------------------------------------------------

    async def attendance(self, principal: Principal, series: str, key: str) -> Attendance:
        state = self.state(series)
        await self.reader(principal, state.community, Action.SCHEDULE_SERIES)
        occurrence = self.found(state, key)
        session = occurrence.session
        rows: list[AttendanceRow] = [
            AttendanceRow(member=r.member, name=r.name, joined_ms=r.joined_ms,
                          left_ms=r.left_ms, duration_s=r.duration_s,
                          rsvp=occurrence.rsvps.get(r.member))  # type: ignore[arg-type]
            for r in state.attendance.get(key, [])]
        if session is not None and not rows:
            session_events = await read_stream(self.store, session_stream(session))
            opened_ms = session_events[0].ts if session_events else occurrence.lobby_ms
            room_events = await read_stream(self.store, room_stream(state.room))
            for row in attendance_rows(session_events, room_events, opened_ms, now_ms()):
                rows.append(AttendanceRow(
                    member=row.member, name=row.name, joined_ms=row.joined_ms,
                    left_ms=row.left_ms, duration_s=row.duration_ms // 1000,
                    rsvp=occurrence.rsvps.get(row.member)))  # type: ignore[arg-type]
        return Attendance(series=series, occurrence=key, session=session, rows=rows)

    @staticmethod
    def attendance_csv(table: Attendance) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["member", "name", "joined", "left", "duration_s", "rsvp"])
        for row in table.rows:
            writer.writerow([row.member, _safe(row.name), _iso(row.joined_ms),
                             "" if row.left_ms is None else _iso(row.left_ms),
                             row.duration_s, row.rsvp or ""])
        return out.getvalue().encode()

    # --- calendar feeds -----------------------------------------------------------------

    async def feed_token(self, account: str, *, fresh: bool = False) -> str:
        query = "SELECT token FROM feed_tokens WHERE account = ?"
        if not fresh:
            rows = await self.store.fetch(query, (account,))
            if rows:
                return str(rows[0][0])
        token = secrets.token_urlsafe(24)
        await self.store.execute([(
            "INSERT INTO feed_tokens (account, token, created) VALUES (?, ?, ?)"
            " ON CONFLICT (account) DO UPDATE SET token = excluded.token,"
            " created = excluded.created" if fresh else
            "INSERT INTO feed_tokens (account, token, created) VALUES (?, ?, ?)"
            " ON CONFLICT (account) DO NOTHING", (account, token, now_ms()))])
        rows = await self.store.fetch(query, (account,))
        return str(rows[0][0])

    async def feed_links(self, principal: Principal, community: str) -> FeedLinks:
        if principal.account is None:
            raise Forbidden("a guest has no calendar feed: sign up to subscribe")
        await self.reader(principal, community)
        token = await self.feed_token(principal.account)
        base = f"/api/feeds/{token}"
        return FeedLinks(community=f"{base}/communities/{community}",
                         series={s.series: f"{base}/series/{s.series}"
                                 for s in self.of_community(community)})

    async def reset_feed_token(self, principal: Principal) -> None:
        await self.feed_token(principal.require_account(), fresh=True)

    async def _feed_reader(self, token: str, community: str) -> CommunityState:
        """The community, if the token's owner may read it now (else not found: a feed
        URL tells nothing to someone who may not read it)."""
        rows = await self.store.fetch("SELECT account FROM feed_tokens WHERE token = ?",
                                      (token,)) if 0 < len(token) <= 64 else []
        state = self.folds.communities.get(community)
        if not rows or state is None:
            raise NotFound("no such feed")
        member = state.members.get(str(rows[0][0]))
        if member is None:
            raise NotFound("no such feed")
        return state

    async def community_feed(self, token: str, community: str) -> bytes:
        state = await self._feed_reader(token, community)
        return calendar(self.of_community(community), state.name, now_ms() - FEED_PAST_MS)

    async def series_feed(self, token: str, series: str) -> bytes:
        state = self.state(series)
        found = await self._feed_reader(token, state.community)
        return calendar([state], f"{found.name}: {state.rules.title}",
                        now_ms() - FEED_PAST_MS)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe(text: str) -> str:
    """A spreadsheet must not read a name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

