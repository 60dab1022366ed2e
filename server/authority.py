"""Where :func:`~server.domain.policy.allowed` meets the live state: builds the actor
from the community's fold at the moment of each command, and writes the audit log
(every privileged action done, every refusal of someone in the community), and decides
who may read which stream (:mod:`server.streams`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple, NoReturn

from . import streams
from .domain.community import CommunityState
from .domain.events import AuditRecorded, audit_stream
from .domain.policy import GRANTS, Action, Actor, Decision, Resource, Role, allowed
from .errors import AuthFailed, Forbidden, NotFound, RateLimited
from .folds import Folds
from .ratelimit import Attempts, LocalAttempts
from .store import EventStore
from .streams import StreamRef

PRIVILEGED = frozenset(GRANTS[Role.OWNER] - GRANTS[Role.MEMBER]
                       - {Action.VIEW_AUDIT, Action.VIEW_PAIRINGS})
"""Host, convener and owner actions: each one done is written to the audit log (reading
the audit log or the pairing history is not an action on anything)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is signed in on a request or a socket: an account, or a guest of one room."""

    session: str
    member: str
    """The account id, or ``g-<session>`` for a guest."""
    name: str
    account: str | None
    csrf: str
    guest_community: str | None = None
    guest_room: str | None = None
    guest_invite: str | None = None
    """The guest link a guest came in through (revoking it ends the session)."""
    guest_session: str | None = None
    """The one live session a guest's link admits them to (None: the whole room)."""
    expires: int = 2**62
    """Milliseconds since the epoch; a socket still open then is closed (4003)."""
    address: str = ""
    """The client address of the request or socket (refusals of outsiders are limited
    per address)."""

    @property
    def is_guest(self) -> bool:
        return self.account is None

    def require_account(self) -> str:
        """The account id; AuthFailed for a guest."""
        if self.account is None:
            raise AuthFailed("sign in with an account for this")
        return self.account


def now_ms() -> int:
    return int(time.time() * 1000)


REFUSAL_WINDOW_S = 60


class Readable(NamedTuple):
    """A stream that exists, the community it belongs to, and whether one may read it."""

    ref: StreamRef
    community: CommunityState
    decision: Decision


class Authority:
    def __init__(self, store: EventStore, folds: Folds, *,
                 refusals_per_minute: int = 30, outsider_refusals_per_minute: int = 30) -> None:
        self.store, self.folds = store, folds
        self.refusals_per_minute = refusals_per_minute
        self.outsider_refusals_per_minute = outsider_refusals_per_minute
        self.attempts: Attempts = LocalAttempts()
        """Shared (Redis) when scaled out; set by the app."""

    def actor(self, principal: Principal, community: CommunityState) -> Actor:
        if principal.is_guest:
            role = Role.GUEST if principal.guest_community == community.community else None
            return Actor(id=principal.member, role=role, guest_room=principal.guest_room,
                         guest_session=principal.guest_session,
                         muted_until_ms=community.timed_out_until(principal.member),
                         now_ms=now_ms())
        info = community.members.get(principal.member)
        if info is None:
            return Actor(id=principal.member, role=None)
        return Actor(id=principal.member, role=Role.parse(info.role),
                     muted_until_ms=community.timed_out_until(principal.member),
                     now_ms=now_ms())

    async def check(
        self, principal: Principal, action: Action, community: str, *,
        room: str | None = None, target: str | None = None, new_role: Role | None = None,
        target_role: Role | None = None, session: str | None = None,
    ) -> CommunityState:
        """Allow the action or raise Forbidden (audited); returns the community's state.

        ``target_role`` defaults to the target's role in the community's fold (a guest,
        who is not in it, is named by the caller, who found their session)."""
        state = self.folds.community(community)
        if target_role is None and target is not None:
            target_role = state.role_of(target)
        decision = allowed(self.actor(principal, state), action, Resource(
            community=community, room=room, target_role=target_role, new_role=new_role,
            session=session))
        if not decision:
            await self.refused(principal, action, community, decision,
                               target=target or room)
        return state

    def may(self, principal: Principal, action: Action, community: str) -> bool:
        """A quiet check (nothing audited): to choose what to show, not to act."""
        state = self.folds.community(community)
        return bool(allowed(self.actor(principal, state), action,
                            Resource(community=community)))

    # --- reading streams ---------------------------------------------------------

    def readable(self, principal: Principal, stream: str) -> Readable:
        """May ``principal`` read ``stream`` now? Quiet (nothing audited): the one
        decision behind join, resume, history, catch-up and live delivery.
        NotFound when the name is no stream, or its community or room does not exist."""
        ref = streams.parse(stream)
        if ref is None:
            raise NotFound(f"no stream {stream!r}")
        state = self.folds.home(ref)
        room = self.folds.session(ref.ident).room if ref.kind.scope == "session" else None
        decision = streams.may_read(self.actor(principal, state), ref, state.community, room)
        return Readable(ref, state, decision)

    async def check_read(self, principal: Principal, stream: str) -> Readable:
        """As :meth:`readable`, raising Forbidden (audited like any refusal) when not."""
        found = self.readable(principal, stream)
        if not found.decision:
            await self.refused(principal, found.ref.kind.read, found.community.community,
                               found.decision, target=stream)
        return found

    # --- refusals and the audit log ------------------------------------------------

    async def refused(
        self, principal: Principal, action: Action | str, community: str, decision: Decision,
        *, target: str | None = None,
    ) -> NoReturn:
        """Raise Forbidden, auditing the refusal if ``principal`` is in the community (or
        was removed from it: conveners want to see a banned person trying to come back).

        Someone refused over and over is told to slow down instead: a person in the
        community per person (so refusals cannot flood its audit log), anyone else per
        client address (they are not audited at all: a stream of new accounts must not
        fill the log of a community they do not belong to)."""
        state = self.folds.communities.get(community)
        insider = state is not None and (self.actor(principal, state).role is not None
                                         or principal.member in state.removed)
        if insider:
            key, limit = f"refused:{principal.member}", self.refusals_per_minute
        else:
            key = f"refused:addr:{principal.address or '?'}"
            limit = self.outsider_refusals_per_minute
        now = time.time()
        if await self.attempts.count(key, REFUSAL_WINDOW_S, now) >= limit:
            raise RateLimited(f"refused too often: {decision.reason}",
                              retry_after_ms=REFUSAL_WINDOW_S * 1000)
        await self.attempts.add(key, REFUSAL_WINDOW_S, now)
        if insider:
            await self.record(principal.member, str(action), community, "refused",
                              target=target, detail=decision.reason)
        raise Forbidden(decision.reason)

    async def record(
        self, actor: str | None, action: str, community: str, outcome: str = "done", *,
        target: str | None = None, detail: str = "",
    ) -> None:
        """Append one audit entry on its own. A privileged action that appends events
        writes its entry in the same transaction instead (:func:`audit_entry`)."""
        await self.store.append(audit_stream(community), actor, [
            audit_entry(action, outcome, target=target, detail=detail)])


def audit_entry(action: str, outcome: str = "done", *, target: str | None = None,
                detail: str = "") -> AuditRecorded:
    """The audit log's entry for an action, to append with the action's own events."""
    return AuditRecorded(action=action, outcome=outcome, target=target,  # type: ignore[arg-type]
                         detail=detail[:500])
