"""Who met whom in pair-ups, as the ``pairings`` projection keeps it: a community's whole
history for its conveners and owners (``view_pairings``), and each member's own ("whom
I have met"). Names come from the community's fold (its members' last known names),
else the name someone attended under (guests), else their id."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import msgspec

from .authority import Authority, Principal
from .domain.community import CommunityState
from .domain.policy import Action
from .errors import InvalidCommand
from .folds import Folds
from .http.pairing_types import Met, MetIn, MyPairings, Pairing, PairingsPage
from .projections import Projector
from .store import EventStore
from .store.pairings import MeetingRow, PairTables

SETTLE_S = 2.0
_Position = tuple[int, str, int, str, str]
_cursor_decoder = msgspec.json.Decoder(_Position)


def cursor_of(row: MeetingRow) -> str:
    raw = msgspec.json.encode((row.ts, row.session, row.round, row.a, row.b))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def position_of(cursor: str) -> _Position:
    try:
        return _cursor_decoder.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, msgspec.DecodeError):
        raise InvalidCommand("before: not a cursor this server gave") from None


class PairingHistory:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 projector: Projector | None) -> None:
        self.tables, self.folds, self.authority = PairTables(store), folds, authority
        self.projector = projector

    async def _settled(self) -> None:
        """Let a reader see the meetings committed so far (bounded: a slow store answers
        from what is there)."""
        if self.projector is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_S):
                await self.projector.settle()

    async def _names(self, state: CommunityState, people: set[str]) -> dict[str, str]:
        unknown = sorted(p for p in people if p not in state.names)
        attended = await self.tables.attendee_names(state.community, unknown)
        return {p: state.names.get(p) or attended.get(p) or p for p in people}

    async def page(self, principal: Principal, community: str, *, member: str | None,
                   before: str | None, limit: int) -> PairingsPage:
        state = await self.authority.check(principal, Action.VIEW_PAIRINGS, community)
        await self._settled()
        rows = await self.tables.meetings_page(
            community, member=member, before=position_of(before) if before else None,
            limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        names = await self._names(state, {p for r in rows for p in (r.a, r.b)})
        titles = await self.tables.session_titles(sorted({r.session for r in rows}))
        return PairingsPage(
            next=cursor_of(rows[-1]) if more else None,
            pairings=[Pairing(session=r.session, room=titles.get(r.session, ("", ""))[0],
                              title=titles.get(r.session, ("", ""))[1], round=r.round,
                              a=r.a, a_name=names[r.a], b=r.b, b_name=names[r.b], ts=r.ts)
                      for r in rows])

    async def mine(self, principal: Principal, community: str) -> MyPairings:
        state = await self.authority.check(principal, Action.VIEW_COMMUNITY, community)
        await self._settled()
        me = principal.member
        rows = await self.tables.met_by(community, me)  # newest first
        titles = await self.tables.session_titles(sorted({r.session for r in rows}))
        met: dict[str, list[MeetingRow]] = {}
        for row in rows:
            met.setdefault(row.b if row.a == me else row.a, []).append(row)
        names = await self._names(state, set(met))
        return MyPairings(met=[Met(
            member=other, name=names[other], times=len(seen), last_ms=seen[0].ts,
            sessions=[MetIn(session=r.session, room=titles.get(r.session, ("", ""))[0],
                            title=titles.get(r.session, ("", ""))[1], round=r.round,
                            ts=r.ts) for r in seen])
            for other, seen in met.items()])
