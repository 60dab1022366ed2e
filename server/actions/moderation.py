"""Moderation that sticks: removals (bans until lifted), timeouts (they run their time
whatever the person does), the list of removed people and lifting a removal; and the
same for guests, whom hosts may remove and time out.

A member's removal and timeout are events on the community stream, so the fold
(:mod:`server.domain.community`) keeps them across leaving, rejoining and restarts.
A guest has no account to ban: removing one ends their session (their sockets
close); timing one out is an event like a member's, keyed by the guest's id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..authority import Principal, now_ms
from ..domain.community import CommunityState, decide_lift, decide_remove, decide_timeout
from ..domain.policy import Action, Role
from ..errors import CloseCode, NotFound
from ..http import api_types as t

if TYPE_CHECKING:
    from .communities import Communities

GUEST_PREFIX = "g-"


class Moderation:
    def __init__(self, communities: Communities) -> None:
        self.communities = communities
        self.store, self.authority = communities.store, communities.authority

    async def _guest(self, community: str, member: str) -> tuple[str, str] | None:
        """(session, name) of a live guest of ``community`` with this member id."""
        if not member.startswith(GUEST_PREFIX):
            return None
        rows = await self.store.fetch(
            "SELECT id, guest_name FROM sessions WHERE id = ? AND account IS NULL"
            " AND community = ? AND expires > ?",
            (member.removeprefix(GUEST_PREFIX), community, now_ms()))
        return (rows[0][0], rows[0][1]) if rows else None

    async def remove(self, principal: Principal, community: str, member: str,
                     reason: str) -> None:
        reason = reason.strip()
        guest = await self._guest(community, member)
        if guest is not None:
            await self._remove_guest(principal, community, member, guest, reason)
            return

        async def attempt() -> CommunityState:
            state = await self.authority.check(principal, Action.REMOVE_MEMBER, community,
                                               target=member)
            await self.communities.append(
                state, principal.member, decide_remove(state, member, reason),
                audit=self.communities.audited(Action.REMOVE_MEMBER, member, reason))
            return state

        state = await self.communities.change(community, attempt)
        await self.communities.kick(
            code=CloseCode.REMOVED,
            reason=f"removed from {state.name}" + (f": {reason}" if reason else ""),
            member=member, community=community)

    async def _remove_guest(self, principal: Principal, community: str, member: str,
                            guest: tuple[str, str], reason: str) -> None:
        session, name = guest
        state = await self.authority.check(principal, Action.REMOVE_GUEST, community,
                                           target=member, target_role=Role.GUEST)
        (ended,) = await self.store.execute([(
            "DELETE FROM sessions WHERE id = ? AND account IS NULL", (session,))])
        if not ended:
            raise NotFound("no such guest")
        await self.communities._done(principal, Action.REMOVE_GUEST, community,
                                     target=member, detail=f"guest {name}: {reason}")
        await self.communities.kick(
            code=CloseCode.REMOVED,
            reason=f"removed from {state.name}" + (f": {reason}" if reason else ""),
            session=session)

    async def timeout(self, principal: Principal, community: str, member: str,
                      body: t.TimeoutMember) -> None:
        """Time out a member or a guest for ``minutes`` (0 lifts it)."""
        guest = await self._guest(community, member)
        action = Action.TIMEOUT_GUEST if guest else Action.TIMEOUT_MEMBER
        reason = body.reason.strip()

        async def attempt() -> None:
            state = await self.authority.check(
                principal, action, community, target=member,
                target_role=Role.GUEST if guest else None)
            await self.communities.append(state, principal.member, decide_timeout(
                state, member, body.minutes, reason, now_ms()),
                audit=self.communities.audited(action, member, detail))

        label = f"guest {guest[1]}: " if guest else ""
        detail = label + (f"{body.minutes} min: {reason}" if body.minutes else "lifted")
        await self.communities.change(community, attempt)

    async def removed(self, principal: Principal, community: str) -> list[t.RemovedMember]:
        state = await self.authority.check(principal, Action.LIFT_REMOVAL, community)
        return [t.RemovedMember(member=r.member, name=r.name, removed_at=r.at, removed_by=r.by,
                                removed_by_name=state.names.get(r.by or ""), reason=r.reason,
                                timed_out_until=state.timed_out_until(r.member))
                for r in sorted(state.removed.values(), key=lambda r: r.at, reverse=True)]

    async def lift(self, principal: Principal, community: str, member: str) -> None:
        """Let a removed person come back (they join again by the community's policy)."""
        async def attempt() -> None:
            state = await self.authority.check(principal, Action.LIFT_REMOVAL, community,
                                               target=member)
            await self.communities.append(
                state, principal.member, decide_lift(state, member),
                audit=self.communities.audited(Action.LIFT_REMOVAL, member,
                                               state.names.get(member, member)))

        await self.communities.change(community, attempt)
