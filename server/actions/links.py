"""Invites and guest links: making them, listing and revoking them (a guest link's
guests leave with it), and coming in through one.

A link is a row in ``invites``: only its token's hash is stored, its uses are counted
atomically (``uses < max_uses`` in the same UPDATE), and joining through a member invite
is decided like any other community change (:meth:`Communities.change`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..authority import Principal, now_ms
from ..domain.policy import Action
from ..domain.session_events import SessionOpened
from ..errors import CloseCode, InvalidCommand, NotFound, StaleState
from ..http import api_types as t
from ..pipeline import AlreadyApplied
from .identity import hash_token
from .resets import HOUR_MS

if TYPE_CHECKING:
    from .communities import Communities


class Links:
    def __init__(self, communities: Communities) -> None:
        self.communities = communities
        self.store, self.folds = communities.store, communities.folds
        self.authority = communities.authority

    async def create(self, principal: Principal, community: str,
                            body: t.CreateInvite) -> t.InviteCreated:
        guest = body.kind == "guest"
        action = Action.CREATE_GUEST_LINK if guest else Action.INVITE_MEMBERS
        if body.session is not None:
            if not guest:
                raise InvalidCommand("only a guest link can be for a session")
            session_room = await self.session_room(community, body.session)
            if body.room not in (None, session_room):
                raise InvalidCommand(f"session {body.session} is in room {session_room}")
            body = msgspec.structs.replace(body, room=session_room)
        state = await self.authority.check(principal, action, community, room=body.room)
        if guest and (body.room is None or body.room not in state.rooms):
            raise InvalidCommand("a guest link needs one of the community's rooms")
        token, invite = secrets.token_urlsafe(24), "i-" + secrets.token_hex(6)
        expires = now_ms() + body.expires_in_hours * HOUR_MS
        room = body.room if guest else None
        await self.store.execute([(
            "INSERT INTO invites (id, token_hash, community, kind, room, created_by, created,"
            " expires, max_uses, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (invite, hash_token(token), community, body.kind, room, principal.member,
             now_ms(), expires, body.max_uses, body.session))])
        for_session = f" to session {body.session}" if body.session else ""
        await self.communities._done(principal, action, community, target=invite,
                         detail=f"{body.kind} link{for_session}, {body.max_uses} uses")
        return t.InviteCreated(id=invite, token=token, path=f"/{'guest' if guest else 'invite'}/"
                               f"{token}", kind=body.kind, room=room, session=body.session,
                               expires=expires, max_uses=body.max_uses)

    async def session_room(self, community: str, session: str) -> str:
        """The room of one of the community's live sessions (from the event that opened
        it); NotFound for any other name."""
        events = await self.store.read(f"session:{session}", 0, 1)
        body = events[0].body if events else None
        if not isinstance(body, SessionOpened) or (
                self.folds.community_of_room(body.room).community != community
                if self.folds.room_exists(body.room) else True):
            raise NotFound(f"no session {session!r} in this community")
        return body.room

    async def listed(self, principal: Principal, community: str) -> list[t.InviteInfo]:
        """Every link for conveners and owners; hosts see the guest links."""
        kinds = ("member", "guest")
        if not self.authority.may(principal, Action.INVITE_MEMBERS, community):
            await self.authority.check(principal, Action.CREATE_GUEST_LINK, community)
            kinds = ("guest", "guest")
        rows = await self.store.fetch(
            "SELECT id, kind, room, created_by, created, expires, max_uses, uses, revoked,"
            " session FROM invites WHERE community = ? AND kind IN (?, ?)"
            " ORDER BY created DESC", (community, *kinds))
        return [t.InviteInfo(id=r[0], kind=r[1], room=r[2], created_by=r[3], created=r[4],
                             expires=r[5], max_uses=r[6], uses=r[7], revoked=bool(r[8]),
                             session=r[9])
                for r in rows]

    async def revoke(self, principal: Principal, community: str, invite: str) -> None:
        """Revoke a link. A guest link's guests leave with it: their sessions end and
        their sockets close with 4008 (in every process)."""
        rows = await self.store.fetch("SELECT kind FROM invites WHERE id = ? AND community = ?",
                                      (invite, community))
        guest = bool(rows) and rows[0][0] == "guest"
        action = Action.CREATE_GUEST_LINK if guest else Action.INVITE_MEMBERS
        await self.authority.check(principal, action, community)
        (changed, ended) = await self.store.execute([
            ("UPDATE invites SET revoked = 1 WHERE id = ? AND community = ?",
             (invite, community)),
            ("DELETE FROM sessions WHERE invite = ? AND account IS NULL", (invite,)),
        ])
        if not changed:
            raise NotFound("no such invite")
        await self.communities._done(principal, action, community, target=invite,
                         detail=f"revoked; {ended} guest session(s) ended" if guest
                         else "revoked")
        if guest:
            await self.communities.kick(code=CloseCode.SESSION_REVOKED,
                                        reason="the guest link was revoked", invite=invite)

    async def _invite(self, token: str, kind: str | None = None,
                      ) -> tuple[str, str | None, int, Literal["member", "guest"], str,
                                 str | None]:
        """(community, room, expires, kind, id, session) of a usable link (of ``kind``, if
        given)."""
        rows = await self.store.fetch(
            "SELECT community, room, expires, kind, id, session FROM invites"
            " WHERE token_hash = ?"
            " AND revoked = 0 AND uses < max_uses AND expires > ?",
            (hash_token(token), now_ms()))
        if (not rows or rows[0][0] not in self.folds.communities
                or kind not in (None, rows[0][3])):
            raise NotFound("this link is unknown, used up, revoked or expired")
        community, room, expires, found, invite, session = rows[0]
        return community, room, expires, found, invite, session

    async def _use(self, token: str) -> None:
        (used,) = await self.store.execute([(
            "UPDATE invites SET uses = uses + 1 WHERE token_hash = ? AND revoked = 0"
            " AND uses < max_uses AND expires > ?", (hash_token(token), now_ms()))])
        if not used:
            raise NotFound("this link is unknown, used up, revoked or expired")

    async def _unuse(self, token: str) -> None:
        await self.store.execute([(
            "UPDATE invites SET uses = uses - 1 WHERE token_hash = ? AND uses > 0",
            (hash_token(token),))])

    async def preview(self, token: str) -> t.InvitePreview:
        community, room, expires, kind, _, session = await self._invite(token)
        state = self.folds.community(community)
        room_info = state.rooms.get(room) if room else None
        return t.InvitePreview(community=community, community_name=state.name,
                               domain=state.domain, purpose=state.purpose, kind=kind,
                               room=room, room_name=room_info.name if room_info else None,
                               session=session, expires=expires)

    async def accept(self, principal: Principal, token: str) -> t.JoinOutcome:
        principal.require_account()
        community, _, _, _, _, _ = await self._invite(token, "member")

        async def attempt() -> t.JoinOutcome:
            state = self.folds.community(community)
            already = await self.communities.admissible(principal, state)
            if already is not None:
                return already
            await self._use(token)
            try:
                await self.communities.admit(state, principal, "invite")
            except (StaleState, AlreadyApplied):
                # Decided again, or joined before under this call's key: count one use.
                await self._unuse(token)
                raise
            return t.JoinOutcome(outcome="joined", role="member")

        return await self.communities.change(community, attempt)

    async def enter_as_guest(self, token: str, name: str, meta: Any) -> tuple[str, Principal]:
        community, room, expires, _, invite, session = await self._invite(token, "guest")
        assert room is not None
        await self._use(token)
        return await self.communities.identity.guest_session(
            meta, community=community, room=room, name=name, expires=expires, invite=invite,
            session=session)
