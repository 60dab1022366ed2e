"""Community actions: create and edit a community, rooms, joining (open, by request or
by invite), guest links, roles, removals, timeouts, resets and the audit log.

Each one is checked with :class:`~server.authority.Authority` first (a refusal is
audited and changes nothing), appends its events durably, then records the
privileged ones in the audit log. Members learn of every change from the
community stream; sockets that must end are closed through ``kick``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Literal

from . import api_types as t
from .authority import PRIVILEGED, Authority, Principal, now_ms
from .domain.community import CommunityState
from .domain.events import (
    AuditRecorded,
    CommunityCreated,
    CommunityEdited,
    EventBody,
    MemberAdmitted,
    MemberRemoved,
    MemberTimedOut,
    RoleChanged,
    RoomCreated,
    audit_stream,
    community_stream,
    room_stream,
)
from .domain.policy import Action, Decision, Role
from .errors import CloseCode, Conflict, Forbidden, InvalidCommand, NotFound
from .folds import Folds
from .identity import Identity, Kick, hash_token
from .store import CommandKey, EventStore

HOUR_MS = 3_600_000


class Communities:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 identity: Identity, kick: Kick) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.identity, self.kick = identity, kick

    async def _append(self, state: CommunityState, actor: str, body: EventBody) -> None:
        await self.store.append(community_stream(state.community), actor, [body])

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
                community=body.community, name=body.name.strip(), domain=body.domain.strip(),
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
        state = await self.authority.check(principal, Action.EDIT_COMMUNITY, community)
        await self._append(state, principal.member, CommunityEdited(
            name=body.name.strip(), domain=body.domain.strip(), purpose=body.purpose.strip(),
            description=body.description, join_policy=body.join_policy))
        await self._done(principal, Action.EDIT_COMMUNITY, community)
        return await self.page(principal, community)

    async def create_room(self, principal: Principal, community: str,
                          body: t.CreateRoom) -> t.CommunityPage:
        state = await self.authority.check(principal, Action.CREATE_ROOM, community)
        slug = re.sub(r"[^a-z0-9]+", "-", body.name.lower()).strip("-")[:40] or "room"
        room = f"{slug}-{secrets.token_hex(3)}"
        while self.folds.room_exists(room):  # streams are global: ids must not collide
            room = f"{slug}-{secrets.token_hex(3)}"
        created = RoomCreated(room=room, name=body.name.strip(), topic=body.topic.strip())
        await self._append(state, principal.member, created)
        await self.store.append(room_stream(room), principal.member, [created])
        await self._done(principal, Action.CREATE_ROOM, community, target=room,
                         detail=body.name)
        return await self.page(principal, community)

    # --- joining ---------------------------------------------------------------------

    async def join(self, principal: Principal, community: str,
                   body: t.JoinRequest) -> t.JoinOutcome:
        account = principal.require_account()
        state = self.folds.community(community)
        if account in state.members:
            return t.JoinOutcome(outcome="already_member", role=state.members[account].role)
        if state.join_policy == "open":
            await self._admit(state, principal, "open")
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

    async def _admit(self, state: CommunityState, principal: Principal, via: str) -> None:
        await self._append(state, principal.member, MemberAdmitted(
            member=principal.member, name=principal.name, role="member",
            via=via))  # type: ignore[arg-type]

    async def requests(self, principal: Principal, community: str) -> list[t.PendingRequest]:
        await self.authority.check(principal, Action.APPROVE_JOIN, community)
        rows = await self.store.fetch(
            "SELECT account, name, note, created FROM join_requests WHERE community = ?"
            " ORDER BY created", (community,))
        return [t.PendingRequest(account=r[0], name=r[1], note=r[2], created=r[3])
                for r in rows]

    async def decide_request(self, principal: Principal, community: str, account: str,
                             approve: bool) -> None:
        state = await self.authority.check(principal, Action.APPROVE_JOIN, community,
                                           target=None)
        rows = await self.store.fetch(
            "SELECT name FROM join_requests WHERE community = ? AND account = ?",
            (community, account))
        (deleted,) = await self.store.execute([(
            "DELETE FROM join_requests WHERE community = ? AND account = ?",
            (community, account))])
        if not deleted or not rows:
            raise NotFound("no such pending request")
        if approve and account not in state.members:
            await self._append(state, principal.member, MemberAdmitted(
                member=account, name=rows[0][0], role="member", via="approval"))
        await self._done(principal, Action.APPROVE_JOIN, community, target=account,
                         detail="approved" if approve else "declined")

    # --- invites and guest links ------------------------------------------------------

    async def create_invite(self, principal: Principal, community: str,
                            body: t.CreateInvite) -> t.InviteCreated:
        guest = body.kind == "guest"
        action = Action.CREATE_GUEST_LINK if guest else Action.INVITE_MEMBERS
        state = await self.authority.check(principal, action, community, room=body.room)
        if guest and (body.room is None or body.room not in state.rooms):
            raise InvalidCommand("a guest link needs one of the community's rooms")
        token, invite = secrets.token_urlsafe(24), "i-" + secrets.token_hex(6)
        expires = now_ms() + body.expires_in_hours * HOUR_MS
        room = body.room if guest else None
        await self.store.execute([(
            "INSERT INTO invites (id, token_hash, community, kind, room, created_by, created,"
            " expires, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (invite, hash_token(token), community, body.kind, room, principal.member,
             now_ms(), expires, body.max_uses))])
        await self._done(principal, action, community, target=invite,
                         detail=f"{body.kind} link, {body.max_uses} uses")
        return t.InviteCreated(id=invite, token=token, path=f"/{'guest' if guest else 'invite'}/"
                               f"{token}", kind=body.kind, room=room, expires=expires,
                               max_uses=body.max_uses)

    async def invites(self, principal: Principal, community: str) -> list[t.InviteInfo]:
        """Every link for conveners and owners; hosts see the guest links."""
        kinds = ("member", "guest")
        if not self.authority.may(principal, Action.INVITE_MEMBERS, community):
            await self.authority.check(principal, Action.CREATE_GUEST_LINK, community)
            kinds = ("guest", "guest")
        rows = await self.store.fetch(
            "SELECT id, kind, room, created_by, created, expires, max_uses, uses, revoked"
            " FROM invites WHERE community = ? AND kind IN (?, ?) ORDER BY created DESC",
            (community, *kinds))
        return [t.InviteInfo(id=r[0], kind=r[1], room=r[2], created_by=r[3], created=r[4],
                             expires=r[5], max_uses=r[6], uses=r[7], revoked=bool(r[8]))
                for r in rows]

    async def revoke_invite(self, principal: Principal, community: str, invite: str) -> None:
        rows = await self.store.fetch("SELECT kind FROM invites WHERE id = ? AND community = ?",
                                      (invite, community))
        action = (Action.CREATE_GUEST_LINK if rows and rows[0][0] == "guest"
                  else Action.INVITE_MEMBERS)
        await self.authority.check(principal, action, community)
        (changed,) = await self.store.execute([(
            "UPDATE invites SET revoked = 1 WHERE id = ? AND community = ?",
            (invite, community))])
        if not changed:
            raise NotFound("no such invite")
        await self._done(principal, action, community, target=invite, detail="revoked")

    async def _invite(self, token: str, kind: str | None = None,
                      ) -> tuple[str, str | None, int, Literal["member", "guest"]]:
        """(community, room, expires, kind) of a usable link (of ``kind``, if given)."""
        rows = await self.store.fetch(
            "SELECT community, room, expires, kind FROM invites WHERE token_hash = ?"
            " AND revoked = 0 AND uses < max_uses AND expires > ?",
            (hash_token(token), now_ms()))
        if (not rows or rows[0][0] not in self.folds.communities
                or kind not in (None, rows[0][3])):
            raise NotFound("this link is unknown, used up, revoked or expired")
        community, room, expires, found = rows[0]
        return community, room, expires, found

    async def _use(self, token: str) -> None:
        (used,) = await self.store.execute([(
            "UPDATE invites SET uses = uses + 1 WHERE token_hash = ? AND revoked = 0"
            " AND uses < max_uses AND expires > ?", (hash_token(token), now_ms()))])
        if not used:
            raise NotFound("this link is unknown, used up, revoked or expired")

    async def preview(self, token: str) -> t.InvitePreview:
        community, room, expires, kind = await self._invite(token)
        state = self.folds.community(community)
        room_info = state.rooms.get(room) if room else None
        return t.InvitePreview(community=community, community_name=state.name,
                               domain=state.domain, purpose=state.purpose, kind=kind,
                               room=room, room_name=room_info.name if room_info else None,
                               expires=expires)

    async def accept(self, principal: Principal, token: str) -> t.JoinOutcome:
        account = principal.require_account()
        community, _, _, _ = await self._invite(token, "member")
        state = self.folds.community(community)
        if account in state.members:
            return t.JoinOutcome(outcome="already_member", role=state.members[account].role)
        await self._use(token)
        await self._admit(state, principal, "invite")
        return t.JoinOutcome(outcome="joined", role="member")

    async def enter_as_guest(self, token: str, name: str, meta: Any) -> tuple[str, Principal]:
        community, room, expires, _ = await self._invite(token, "guest")
        assert room is not None
        await self._use(token)
        return await self.identity.guest_session(meta, community=community, room=room,
                                                 name=name.strip(), expires=expires)

    # --- people ----------------------------------------------------------------------

    async def set_role(self, principal: Principal, community: str, member: str,
                       role: str) -> None:
        new = Role.parse(role)
        state = await self.authority.check(principal, Action.SET_ROLE, community,
                                           target=member, new_role=new)
        old = state.members[member].role
        if old == role:
            return
        await self._append(state, principal.member, RoleChanged(
            member=member, role=role))  # type: ignore[arg-type]
        await self._done(principal, Action.SET_ROLE, community, target=member,
                         detail=f"{old} → {role}")
        await self.kick(code=CloseCode.ROLE_CHANGED, reason=f"your role is now {role}",
                        member=member, community=community)

    async def remove(self, principal: Principal, community: str, member: str,
                     reason: str) -> None:
        state = await self.authority.check(principal, Action.REMOVE_MEMBER, community,
                                           target=member)
        await self._append(state, principal.member, MemberRemoved(member=member,
                                                                  reason=reason.strip()))
        await self._done(principal, Action.REMOVE_MEMBER, community, target=member,
                         detail=reason)
        await self.kick(code=CloseCode.REMOVED,
                        reason=f"removed from {state.name}" + (f": {reason}" if reason else ""),
                        member=member, community=community)

    async def timeout(self, principal: Principal, community: str, member: str,
                      body: t.TimeoutMember) -> None:
        state = await self.authority.check(principal, Action.TIMEOUT_MEMBER, community,
                                           target=member)
        until = now_ms() + body.minutes * 60_000
        await self._append(state, principal.member, MemberTimedOut(
            member=member, until=until, reason=body.reason.strip()))
        await self._done(principal, Action.TIMEOUT_MEMBER, community, target=member,
                         detail=f"{body.minutes} min: {body.reason}" if body.minutes
                         else "lifted")

    async def leave(self, principal: Principal, community: str) -> None:
        state = await self.authority.check(principal, Action.LEAVE_COMMUNITY, community)
        if state.owners() == [principal.member]:
            raise Conflict("you are the only owner: make someone else owner first")
        await self._append(state, principal.member, MemberRemoved(member=principal.member,
                                                                  how="left"))
        await self.kick(code=CloseCode.REMOVED, reason=f"you left {state.name}",
                        member=principal.member, community=community)

    async def issue_reset(self, principal: Principal, community: str,
                          member: str) -> t.ResetLink:
        await self.authority.check(principal, Action.ISSUE_PASSWORD_RESET, community,
                                   target=member)
        link = await self.identity.issue_reset(member, principal.member)
        await self._done(principal, Action.ISSUE_PASSWORD_RESET, community, target=member)
        return link

    # --- audit log -------------------------------------------------------------------

    async def audit(self, principal: Principal, community: str, before: int | None,
                    limit: int) -> t.AuditPage:
        # Reading the log over HTTP is reading its stream: the same decision as resume's.
        state = (await self.authority.check_read(principal, audit_stream(community))).community
        events = await self.store.read_type_before(
            audit_stream(community), "audit_recorded", before, limit + 1)
        names = {**{r.room: r.name for r in state.rooms.values()}, **state.names}
        entries = []
        for event in events[:limit]:
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
