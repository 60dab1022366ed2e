"""Community actions: create and edit a community, rooms, joining (open, by request or
by invite), guest links, roles, removals, timeouts, resets and the audit log.

Each one is checked with :class:`~server.authority.Authority` first (a refusal is
audited and changes nothing), appends its events durably, then records the
privileged ones in the audit log. Members learn of every change from the
community stream; sockets that must end are closed through ``kick``.

Every change to a community stream is decided and appended through
:meth:`Communities.change`, one at a time per community, and only if the stream
has not moved since the decision (see there). Removals, timeouts and lifting
them live in :mod:`server.actions.moderation`.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import msgspec

from ..audit_names import audit_names
from ..authority import PRIVILEGED, Authority, Principal, audit_entry, now_ms
from ..domain.community import (
    CommunityState,
    Via,
    decide_admit,
    decide_create_room,
    decide_edit,
    decide_leave,
    decide_set_role,
)
from ..domain.events import (
    AuditRecorded,
    CommunityCreated,
    EventBody,
    MemberRemoved,
    RoomCreated,
    audit_stream,
    community_stream,
    room_stream,
)
from ..domain.names import readable_name
from ..domain.policy import Action, Decision, Role
from ..errors import CloseCode, Conflict, Forbidden, NotFound
from ..folds import Folds
from ..http import api_types as t
from ..pipeline import Sync, append_keyed, decided
from ..store import AppliedCommand, CommandKey, EventStore
from .identity import Identity, Kick
from .links import Links
from .moderation import Moderation
from .resets import owner_may_reset

_RNG = random.SystemRandom()
"""Randomness for decisions (new room ids): passed in, so the decisions stay pure."""

T = TypeVar("T")
Parts = Sequence[tuple[str, list[EventBody], int | None]]


async def _no_sync(stream: str) -> None:
    return None


class Communities:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 identity: Identity, kick: Kick, sync: Sync = _no_sync) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.identity, self.kick, self.sync = identity, kick, sync
        self._locks: dict[str, asyncio.Lock] = {}
        self.moderation = Moderation(self)
        """Removals, timeouts and lifting them; built on :meth:`change`."""
        self.links = Links(self)
        """Invites and guest links, and joining through them."""

    async def change(self, community: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (read the fold, decide, :meth:`append`) as one step.

        Two owners leaving at once must not both be allowed. Two mechanisms make
        "decide on the fold, then append" atomic:

        - In this process, a lock per community: decisions on one community run one
          after the other, each on the fold the previous one left (the store folds a
          commit before its append returns).
        - Against every other writer (another process on PostgreSQL, or a write to
          the stream outside this lock such as a rename), :meth:`append` names the seq
          the decision was made at, and the store appends only if the stream's head is
          still that seq, checked inside the append's transaction while it holds the
          stream's head (PostgreSQL: the ``streams`` row, ``FOR UPDATE``; SQLite: the
          one writer's ``BEGIN IMMEDIATE``). If it moved, nothing is written, the fold
          is caught up and the decision is made again on the new state, which may now
          refuse it; after :data:`ATTEMPTS` the caller gets ``conflict``.
        """
        lock = self._locks.setdefault(community, asyncio.Lock())
        async with lock:
            return await decided(attempt, self.sync)

    async def append(self, state: CommunityState, actor: str, bodies: list[EventBody], *,
                     audit: AuditRecorded | None = None, more: Parts = ()) -> None:
        """Append to the community's stream if it is still at the seq ``state`` was
        folded to (StaleState otherwise: call this inside :meth:`change`), together with
        ``more`` parts and the action's ``audit`` entry: one transaction, so a crash
        cannot leave a privileged change without its audit entry, nor the reverse."""
        parts = [(community_stream(state.community), bodies, state.seq), *more]
        if audit is not None:
            parts.append((audit_stream(state.community), [audit], None))
        # An HTTP call with an Idempotency-Key: applied at most once.
        await append_keyed(self.store, parts, actor)

    @staticmethod
    def audited(action: Action, target: str | None = None, detail: str = "") -> AuditRecorded:
        """The audit entry of a privileged action done (see :meth:`append`)."""
        assert action in PRIVILEGED
        return audit_entry(action.value, target=target, detail=detail)

    async def _done(self, principal: Principal, action: Action, community: str,
                    target: str | None = None, detail: str = "") -> None:
        assert action in PRIVILEGED
        await self.authority.record(principal.member, action.value, community,
                                    target=target, detail=detail)

    # --- communities ---------------------------------------------------------------

    def directory(self) -> list[t.CommunityCard]:
        return [t.CommunityCard(community=c.community, name=c.name, domain=c.domain,
                                purpose=c.purpose, join_policy=c.join_policy,
                                member_count=len(c.members))
                for c in sorted(self.folds.communities.values(), key=lambda c: c.name)
                if c.seq > 0]

    async def page(self, principal: Principal | None, community: str) -> t.CommunityPage:
        state = self.folds.community(community)
        member = principal.member if principal else None
        pending = False
        if principal is not None and principal.account is not None:
            pending = bool(await self.store.fetch(
                "SELECT 1 FROM join_requests WHERE community = ? AND account = ?",
                (community, principal.account)))
        info = state.members.get(member) if member else None
        return t.CommunityPage(
            community=state.community, name=state.name, domain=state.domain,
            purpose=state.purpose, description_html=state.description_html,
            join_policy=state.join_policy, member_count=len(state.members),
            rooms=list(state.rooms.values()), your_role=info.role if info else None,
            request_pending=pending)

    async def create(self, principal: Principal, body: t.CreateCommunity) -> t.CommunityPage:
        account = principal.require_account()
        if body.community in self.folds.communities and self.folds.communities[
                body.community].seq > 0:
            raise Conflict(f"the id {body.community!r} is taken")
        result = await self.store.append(
            community_stream(body.community), account, [CommunityCreated(
                community=body.community, name=body.name, domain=body.domain.strip(),
                purpose=body.purpose.strip(), description=body.description, owner=account,
                owner_name=principal.name, join_policy=body.join_policy)],
            CommandKey("community", body.community))
        if result.duplicate or result.seq != 1:
            raise Conflict(f"the id {body.community!r} is taken")
        await self.authority.record(account, "create_community", body.community,
                                    target=body.community)
        return await self.page(principal, body.community)

    async def edit(self, principal: Principal, community: str,
                   body: t.EditCommunity) -> t.CommunityPage:
        async def attempt() -> None:
            state = await self.authority.check(principal, Action.EDIT_COMMUNITY, community)
            await self.append(state, principal.member, decide_edit(
                state, name=body.name, domain=body.domain, purpose=body.purpose,
                description=body.description, join_policy=body.join_policy),
                audit=self.audited(Action.EDIT_COMMUNITY))

        await self.change(community, attempt)
        return await self.page(principal, community)

    async def create_room(self, principal: Principal, community: str,
                          body: t.CreateRoom) -> t.RoomCreatedPage:
        async def attempt() -> RoomCreated:
            state = await self.authority.check(principal, Action.CREATE_ROOM, community)
            created = decide_create_room(state, body.name, body.topic, _RNG,
                                         self.folds.room_exists)
            room = created.room
            # The room's stream starts in the same transaction: it must be new (seq 0).
            await self.append(state, principal.member, [created],
                              more=[(room_stream(room), [created], 0)],
                              audit=self.audited(Action.CREATE_ROOM, room, body.name))
            return created

        room = (await self.change(community, attempt)).room
        page = await self.page(principal, community)
        return t.RoomCreatedPage(room=room, **msgspec.structs.asdict(page))

    async def created_room(self, principal: Principal, community: str,
                           applied: AppliedCommand) -> t.RoomCreatedPage:
        """The answer to a room creation committed before (an Idempotency-Key call whose
        process died before answering): the room it created, read from the stream."""
        (event,) = await self.store.read(applied.stream, after=applied.seq - 1, limit=1)
        assert isinstance(event.body, RoomCreated), event
        page = await self.page(principal, community)
        return t.RoomCreatedPage(room=event.body.room, **msgspec.structs.asdict(page))

    def joined(self, principal: Principal, community: str) -> t.JoinOutcome:
        """The answer to a join committed before (see :meth:`created_room`)."""
        info = self.folds.community(community).members.get(principal.member)
        return t.JoinOutcome(outcome="joined", role=info.role if info else "member")

    # --- joining ---------------------------------------------------------------------

    async def join(self, principal: Principal, community: str,
                   body: t.JoinRequest) -> t.JoinOutcome:
        account = principal.require_account()

        async def attempt() -> t.JoinOutcome:
            state = self.folds.community(community)
            already = await self.admissible(principal, state)
            if already is not None:
                return already
            if state.join_policy == "open":
                await self.admit(state, principal, "open")
                return t.JoinOutcome(outcome="joined", role="member")
            if state.join_policy == "invite":
                await self.authority.refused(
                    principal, "join", community,
                    Decision(False, "this community admits members by invitation only"))
            await self.store.execute([(
                "INSERT INTO join_requests (community, account, name, note, created)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community, account) DO NOTHING",
                (community, account, principal.name, body.note.strip(), now_ms()))])
            return t.JoinOutcome(outcome="requested")

        return await self.change(community, attempt)

    async def admissible(self, principal: Principal,
                         state: CommunityState) -> t.JoinOutcome | None:
        """Before admitting someone (open join, request, invite): "already a member", or
        None to go on. A removal is a ban: no way back in until a convener lifts it."""
        if principal.member in state.members:
            return t.JoinOutcome(outcome="already_member",
                                 role=state.members[principal.member].role)
        if principal.member in state.removed:
            await self.authority.refused(principal, "join", state.community, Decision(
                False, f"you were removed from {state.name}; a convener may lift it"))
        return None

    async def admit(self, state: CommunityState, principal: Principal, via: Via) -> None:
        await self.append(state, principal.member,
                          decide_admit(state, principal.member, principal.name, via, now_ms()))

    async def requests(self, principal: Principal, community: str) -> list[t.PendingRequest]:
        await self.authority.check(principal, Action.APPROVE_JOIN, community)
        rows = await self.store.fetch(
            "SELECT account, name, note, created FROM join_requests WHERE community = ?"
            " ORDER BY created", (community,))
        return [t.PendingRequest(account=r[0], name=r[1], note=r[2], created=r[3])
                for r in rows]

    async def decide_request(self, principal: Principal, community: str, account: str,
                             approve: bool) -> None:
        detail = "approved" if approve else "declined"

        async def attempt() -> bool:
            state = await self.authority.check(principal, Action.APPROVE_JOIN, community)
            rows = await self.store.fetch(
                "SELECT name FROM join_requests WHERE community = ? AND account = ?",
                (community, account))
            if not rows:
                raise NotFound("no such pending request")
            if approve and account in state.removed:
                raise Conflict(f"{rows[0][0]} was removed: lift the removal first")
            admitted = approve and account not in state.members
            if admitted:
                await self.append(state, principal.member, decide_admit(
                    state, account, readable_name(rows[0][0]), "approval", now_ms()),
                    audit=self.audited(Action.APPROVE_JOIN, account, detail))
            (deleted,) = await self.store.execute([(
                "DELETE FROM join_requests WHERE community = ? AND account = ?",
                (community, account))])
            if not deleted and not approve:  # someone else decided it meanwhile
                raise NotFound("no such pending request")
            return admitted

        if not await self.change(community, attempt):  # nothing appended: audit it alone
            await self._done(principal, Action.APPROVE_JOIN, community, target=account,
                             detail=detail)

    # --- people ----------------------------------------------------------------------

    async def set_role(self, principal: Principal, community: str, member: str,
                       role: str) -> None:
        new = Role.parse(role)

        async def attempt() -> str | None:
            state = await self.authority.check(principal, Action.SET_ROLE, community,
                                               target=member, new_role=new)
            old = state.members[member].role
            bodies = decide_set_role(state, member, new.label)  # type: ignore[arg-type]
            if not bodies:
                return None
            await self.append(state, principal.member, bodies,
                              audit=self.audited(Action.SET_ROLE, member, f"{old} → {role}"))
            return old

        if await self.change(community, attempt) is None:
            return
        await self.kick(code=CloseCode.ROLE_CHANGED, reason=f"your role is now {role}",
                        member=member, community=community)

    async def leave(self, principal: Principal, community: str) -> None:
        """Leave; the last owner may not, even when two owners leave at the same moment
        (decided one at a time: see :meth:`change`)."""
        async def attempt() -> CommunityState:
            state = await self.authority.check(principal, Action.LEAVE_COMMUNITY, community)
            await self.append(state, principal.member, decide_leave(state, principal.member))
            return state

        state = await self.change(community, attempt)
        await self.kick(code=CloseCode.REMOVED, reason=f"you left {state.name}",
                        member=principal.member, community=community)

    async def forget(self, account: str) -> None:
        """End every membership of an account being deleted. The last owner of a
        community may not go; each community decides it like :meth:`leave`, so an
        owner deleting their account while the other owner leaves leaves one owner."""
        for state in self.folds.communities.values():
            if state.owners() == [account]:
                raise Conflict(f"you are the only owner of {state.name}: make someone "
                               "else owner first")
        for community in [c.community for c in self.folds.communities.values()
                          if account in c.members]:
            await self.change(community, functools.partial(self._forget_in, community, account))

    async def _forget_in(self, community: str, account: str) -> None:
        state = self.folds.community(community)
        if account not in state.members:
            return
        if state.owners() == [account]:
            raise Conflict(f"you are the only owner of {state.name}: make someone else "
                           "owner first")
        await self.append(state, account, [MemberRemoved(member=account,
                                                         how="account_deleted")])

    async def issue_reset(self, principal: Principal, community: str,
                          member: str) -> t.ResetLink:
        """An owner's link, only for an account in this community and no other."""
        state = await self.authority.check(principal, Action.ISSUE_PASSWORD_RESET, community,
                                           target=member)
        why = owner_may_reset(self.folds, state, member)
        if why is not None:
            await self.authority.refused(principal, Action.ISSUE_PASSWORD_RESET, community,
                                         Decision(False, why), target=member)
        link = await self.identity.resets.issue_by_owner(state, member, principal.member)
        await self._done(principal, Action.ISSUE_PASSWORD_RESET, community, target=member)
        return link

    # --- audit log -------------------------------------------------------------------

    async def audit(self, principal: Principal, community: str, before: int | None,
                    limit: int) -> t.AuditPage:
        # Reading the log over HTTP is reading its stream: the same decision as resume's.
        state = (await self.authority.check_read(principal, audit_stream(community))).community
        events = await self.store.read_type_before(
            audit_stream(community), "audit_recorded", before, limit + 1)
        shown = events[:limit]
        names = await audit_names(self.store, state, [
            *(e.actor for e in shown), *(getattr(e.body, "target", None) for e in shown)])
        entries = []
        for event in shown:
            body = event.body
            if not isinstance(body, AuditRecorded):
                continue
            entries.append(t.AuditEntry(
                seq=event.seq, ts=event.ts, actor=event.actor,
                actor_name=names.get(event.actor or ""), action=body.action,
                outcome=body.outcome, target=body.target,
                target_name=names.get(body.target or ""), detail=body.detail))
        return t.AuditPage(entries=entries, has_more=len(events) > limit)


__all__ = ["Communities", "Forbidden"]
