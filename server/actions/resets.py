"""Password resets (there is no mail server: someone hands the link over).

Who may issue one: a community's owner, only for an account that belongs to that
community and to no other (else an owner of a community anyone can found could take
over, say, another community's convener); every other reset goes through the server
operator (``practica reset-password LOGIN``).

When a link dies: when it is used, when it expires, when a newer link is issued for
the same account, and, for an owner's link, when the account's membership of the
issuing community ends (even if it begins again) or the account joins another
community. Tokens are shown once; only their SHA-256 hash is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from ..authority import now_ms
from ..domain.community import CommunityState
from ..domain.events import MemberRemoved, community_stream
from ..errors import CloseCode, Forbidden, NotFound
from ..folds import Folds
from ..http import api_types as t
from ..passwords import Passwords, hash_token
from ..store import EventStore

HOUR_MS = 3_600_000
OPERATOR = "operator"
"""``created_by`` of a link the server operator issued from the command line."""


def in_other_communities(folds: Folds, account: str, community: str) -> int:
    """How many communities other than ``community`` ``account`` is in (not which: an
    owner has no business learning where else their members go)."""
    return sum(1 for c in folds.communities.values()
               if account in c.members and c.community != community)


def owner_may_reset(folds: Folds, state: CommunityState, account: str) -> str | None:
    """Why an owner of ``state`` may not issue a reset link for ``account``; None if they
    may (the target belongs to ``state`` and to no other community)."""
    if account not in state.members:
        return f"not a member of {state.name}"
    if in_other_communities(folds, account, state.community):
        return ("they belong to other communities too: only the server operator can "
                "reset their password (practica reset-password)")
    return None


async def issue_link(
    store: EventStore, account: str, *, issued_by: str, hours: int,
    community: str | None = None, community_seq: int = 0,
) -> t.ResetLink:
    """Store a new link for ``account``, killing every earlier one."""
    token = secrets.token_urlsafe(32)
    created = now_ms()
    expires = created + hours * HOUR_MS
    await store.execute([
        ("UPDATE password_resets SET used = 1 WHERE account = ? AND used = 0", (account,)),
        ("INSERT INTO password_resets (token_hash, account, created_by, created, expires,"
         " community, community_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
         (hash_token(token), account, issued_by, created, expires, community, community_seq)),
    ])
    return t.ResetLink(path=f"/reset/{token}", expires=expires)


class Resets:
    def __init__(self, store: EventStore, folds: Folds, passwords: Passwords,
                 kick: Callable[..., Awaitable[None]], reset_link_hours: int) -> None:
        self.store, self.folds, self.passwords = store, folds, passwords
        self.kick = kick
        self.hours = reset_link_hours

    async def issue_by_owner(self, state: CommunityState, account: str,
                             owner: str) -> t.ResetLink:
        """The caller has checked that ``owner`` may issue resets in ``state`` and that
        :func:`owner_may_reset` allows this one."""
        return await issue_link(self.store, account, issued_by=owner, hours=self.hours,
                                community=state.community, community_seq=state.seq)

    async def redeem(self, token: str, password: str) -> None:
        if len(token) > 128:
            raise NotFound("this reset link is unknown, used or expired")
        token_hash = hash_token(token)
        rows = await self.store.fetch(
            "SELECT account, community, community_seq, created FROM password_resets"
            " WHERE token_hash = ? AND used = 0 AND expires > ?", (token_hash, now_ms()))
        if not rows:
            raise NotFound("this reset link is unknown, used or expired (or a newer one "
                           "was issued)")
        account, community, community_seq, created = rows[0]
        why = await self._dead_because(account, community, community_seq)
        # Used up either way: a link that died stays dead whatever happens later.
        (taken,) = await self.store.execute([(
            "UPDATE password_resets SET used = 1 WHERE token_hash = ? AND used = 0"
            " AND NOT EXISTS (SELECT 1 FROM password_resets newer WHERE newer.account = ?"
            " AND newer.created > ?)", (token_hash, account, created))])
        if not taken:
            raise NotFound("this reset link is used or replaced by a newer one")
        if why is not None:
            raise Forbidden(f"this reset link no longer works: {why}")
        password_hash = await self.passwords.hash(password)
        await self.store.execute([
            ("UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account)),
            ("DELETE FROM sessions WHERE account = ?", (account,)),
        ])
        await self.kick(code=CloseCode.SESSION_REVOKED, reason="password was reset",
                        member=account)

    async def _dead_because(self, account: str, community: str | None,
                            since: int) -> str | None:
        """Why an owner's link no longer works; None if it does (operator links always)."""
        if community is None:
            return None
        state = self.folds.communities.get(community)
        if state is None or account not in state.members:
            return f"the account is no longer a member of {community}"
        after = since
        while True:
            events = await self.store.read(community_stream(community), after=after)
            for event in events:
                if isinstance(event.body, MemberRemoved) and event.body.member == account:
                    return f"the account's membership of {state.name} ended"
            if len(events) < 1000:
                break
            after = events[-1].seq
        if in_other_communities(self.folds, account, community):
            return ("the account now belongs to other communities too; ask the server "
                    "operator (practica reset-password)")
        return None
