"""Accounts and sign-in sessions: sign up, sign in and out, sessions, profile, export,
account deletion, password resets and guest sessions.

Tokens are random, shown once (in a cookie or a link) and stored as SHA-256
hashes. Sign-out, revocation and resets close the affected sockets through
``kick`` (in every process).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import api_types as t
from .authority import Principal, now_ms
from .domain import room as room_fold
from .domain.events import MemberRemoved, MemberRenamed, MessagePosted, community_stream
from .errors import AuthFailed, CloseCode, Conflict, InvalidCommand, NotFound, RateLimited
from .folds import Folds
from .passwords import Passwords
from .ratelimit import Attempts
from .settings import Settings
from .store import EventStore
from .store.base import decode_body

Kick = Callable[..., Awaitable[None]]
"""``kick(code=, reason=, session=|member=[, community=])``: close matching sockets."""

MINUTE_MS = 60_000
TOUCH_EVERY_MS = 5 * MINUTE_MS
SIGNIN_WINDOW_S = 15 * 60
SIGNUP_WINDOW_S = 60 * 60


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class ClientMeta:
    """Where a request came from: shown in the sessions list, used for rate limits."""

    address: str
    user_agent: str


class Identity:
    def __init__(
        self, store: EventStore, folds: Folds, passwords: Passwords, attempts: Attempts,
        settings: Settings, kick: Kick,
    ) -> None:
        self.store, self.folds, self.passwords = store, folds, passwords
        self.attempts, self.settings, self.kick = attempts, settings, kick

    # --- sessions --------------------------------------------------------------------

    async def principal(self, token: str | None, address: str = "") -> Principal | None:
        """The live session a cookie stands for (on a request or socket from
        ``address``); None when unknown or expired."""
        if not token or len(token) > 128:
            return None
        rows = await self.store.fetch(
            "SELECT s.id, s.account, s.guest_name, s.community, s.room, s.csrf, s.expires,"
            " s.last_seen, a.name FROM sessions s LEFT JOIN accounts a ON a.id = s.account"
            " WHERE s.token_hash = ?", (hash_token(token),))
        if not rows:
            return None
        session, account, guest_name, community, room, csrf, expires, seen, name = rows[0]
        now = now_ms()
        if expires <= now:
            return None
        if now - seen > TOUCH_EVERY_MS:
            await self.store.execute([("UPDATE sessions SET last_seen = ? WHERE id = ?",
                                       (now, session))])
        if account is None:
            return Principal(session=session, member=f"g-{session}", name=guest_name,
                             account=None, csrf=csrf, guest_community=community,
                             guest_room=room, expires=expires, address=address)
        return Principal(session=session, member=account, name=name, account=account,
                         csrf=csrf, expires=expires, address=address)

    async def _new_session(
        self, meta: ClientMeta, *, account: str | None, guest: tuple[str, str, str] | None = None,
        expires: int | None = None,
    ) -> tuple[str, Principal]:
        token, session, csrf = (secrets.token_urlsafe(32), secrets.token_hex(8),
                                secrets.token_urlsafe(24))
        now = now_ms()
        expires = expires or now + self.settings.session_days * 24 * 60 * MINUTE_MS
        name, community, room = guest or (None, None, None)
        await self.store.execute([(
            "INSERT INTO sessions (id, token_hash, account, guest_name, community, room, csrf,"
            " created, last_seen, expires, user_agent, address)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session, hash_token(token), account, name, community, room, csrf, now, now,
             expires, meta.user_agent[:200], meta.address[:64]))])
        principal = await self.principal(token, meta.address)
        assert principal is not None
        return token, principal

    async def sign_up(self, body: t.SignUp, meta: ClientMeta) -> tuple[str, Principal]:
        key = f"signup:addr:{meta.address}"
        limit = self.settings.signups_per_hour_per_address
        if await self.attempts.count(key, SIGNUP_WINDOW_S, time.time()) >= limit:
            raise RateLimited("too many sign-ups from this address; try again later",
                              retry_after_ms=SIGNUP_WINDOW_S * 1000)
        await self.attempts.add(key, SIGNUP_WINDOW_S, time.time())
        password_hash = await self.passwords.hash(body.password)
        account = "m-" + secrets.token_hex(8)
        (inserted,) = await self.store.execute([(
            "INSERT INTO accounts (id, login, password_hash, name, created)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
            (account, body.login.lower(), password_hash, body.name.strip() or body.login,
             now_ms()))])
        if not inserted:
            raise Conflict("that login is taken")
        return await self._new_session(meta, account=account)

    async def sign_in(self, body: t.SignIn, meta: ClientMeta) -> tuple[str, Principal]:
        login = body.login.lower()
        keys = [(f"signin:account:{login}", self.settings.signin_failures_per_account),
                (f"signin:addr:{meta.address}", self.settings.signin_failures_per_address)]
        for key, limit in keys:
            if await self.attempts.count(key, SIGNIN_WINDOW_S, time.time()) >= limit:
                raise RateLimited("too many failed sign-ins; wait 15 minutes",
                                  retry_after_ms=SIGNIN_WINDOW_S * 1000)
        rows = await self.store.fetch("SELECT id, password_hash FROM accounts WHERE login = ?",
                                      (login,))
        stored = rows[0][1] if rows else None
        if not await self.passwords.verify(stored, body.password):
            for key, _ in keys:
                await self.attempts.add(key, SIGNIN_WINDOW_S, time.time())
            raise AuthFailed("wrong login or password")
        await self.attempts.clear(keys[0][0])
        return await self._new_session(meta, account=rows[0][0])

    async def sign_out(self, principal: Principal) -> None:
        await self.store.execute([("DELETE FROM sessions WHERE id = ?", (principal.session,))])
        await self.kick(code=CloseCode.SESSION_REVOKED, reason="signed out",
                        session=principal.session)

    async def sessions(self, principal: Principal) -> list[t.SessionInfo]:
        rows = await self.store.fetch(
            "SELECT id, created, last_seen, expires, user_agent, address FROM sessions"
            " WHERE account = ? AND expires > ? ORDER BY last_seen DESC",
            (principal.require_account(), now_ms()))
        return [t.SessionInfo(id=r[0], current=r[0] == principal.session, created=r[1],
                              last_seen=r[2], expires=r[3], user_agent=r[4], address=r[5])
                for r in rows]

    async def revoke_session(self, principal: Principal, session: str) -> None:
        (deleted,) = await self.store.execute([(
            "DELETE FROM sessions WHERE id = ? AND account = ?",
            (session, principal.require_account()))])
        if not deleted:
            raise NotFound("no such session of yours")
        await self.kick(code=CloseCode.SESSION_REVOKED, reason="session revoked",
                        session=session)

    # --- profile ---------------------------------------------------------------------

    async def profile(self, account: str) -> t.Profile:
        rows = await self.store.fetch(
            "SELECT id, login, name, pronouns, timezone, practice, created FROM accounts"
            " WHERE id = ?", (account,))
        if not rows:
            raise NotFound("no such account")
        return t.Profile(id=rows[0][0], login=rows[0][1], name=rows[0][2], pronouns=rows[0][3],
                         timezone=rows[0][4], practice=rows[0][5], created=rows[0][6])

    def memberships(self, member: str) -> list[t.Membership]:
        return [t.Membership(community=c.community, name=c.name, role=c.members[member].role)
                for c in self.folds.communities.values() if member in c.members]

    async def update_profile(self, principal: Principal, body: t.ProfileUpdate) -> t.Profile:
        account = principal.require_account()
        if body.timezone is not None:
            try:
                ZoneInfo(body.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidCommand(f"unknown time zone {body.timezone!r}") from None
        changes: dict[str, Any] = {k: v.strip() for k, v in (
            ("name", body.name), ("pronouns", body.pronouns), ("timezone", body.timezone),
            ("practice", body.practice)) if v is not None}
        if changes.get("name") == "":
            raise InvalidCommand("a display name cannot be blank")
        if changes:
            columns = ", ".join(f"{column} = ?" for column in changes)
            await self.store.execute([(f"UPDATE accounts SET {columns} WHERE id = ?",
                                       (*changes.values(), account))])
        name = changes.get("name")
        if name is not None:
            for community in list(self.folds.communities.values()):
                info = community.members.get(account)
                if info is not None and info.name != name:
                    await self.store.append(community_stream(community.community), account,
                                            [MemberRenamed(member=account, name=name)])
        return await self.profile(account)

    async def export(self, principal: Principal) -> t.Export:
        account = principal.require_account()
        rows = await self.store.fetch(
            "SELECT stream, seq, ts, body FROM events WHERE actor = ? AND type = ?"
            " ORDER BY stream, seq", (account, "message_posted"))
        messages: list[t.ExportedMessage] = []
        by_stream: dict[str, dict[int, room_fold.Message]] = {}
        for stream, seq, ts, raw in rows:
            body = decode_body(bytes(raw) if raw is not None else None)
            if isinstance(body, MessagePosted):
                by_stream.setdefault(stream, {})[seq] = room_fold.Message(
                    id=seq, author=body.author, author_name=body.author_name, text=body.text,
                    ts=ts)
        for stream, found in by_stream.items():
            for event in await self.store.read_about(stream, list(found)):
                target = found.get(getattr(event.body, "message", -1))
                if target is not None:
                    room_fold.apply_to_message(target, event)
            messages += [t.ExportedMessage(room=stream.partition(":")[2], id=m.id, ts=m.ts,
                                           text=None if m.deleted else m.text)
                         for m in found.values()]
        return t.Export(profile=await self.profile(account),
                        memberships=self.memberships(account), messages=messages)

    async def delete_account(self, principal: Principal, password: str) -> None:
        account = principal.require_account()
        rows = await self.store.fetch("SELECT password_hash FROM accounts WHERE id = ?",
                                      (account,))
        if not rows or not await self.passwords.verify(rows[0][0], password):
            raise AuthFailed("wrong password")
        for community in self.folds.communities.values():
            if community.owners() == [account]:
                raise Conflict(f"you are the only owner of {community.name}: make someone "
                               "else owner first")
        for community in list(self.folds.communities.values()):
            if account in community.members:
                await self.store.append(community_stream(community.community), account,
                                        [MemberRemoved(member=account, how="account_deleted")])
        await self.store.execute([("DELETE FROM sessions WHERE account = ?", (account,)),
                                  ("DELETE FROM accounts WHERE id = ?", (account,))])
        await self.kick(code=CloseCode.AUTH_FAILED, reason="account deleted", member=account)

    # --- password resets (no mail server: an owner hands the link over) -------------

    async def issue_reset(self, account: str, issued_by: str) -> t.ResetLink:
        token = secrets.token_urlsafe(32)
        expires = now_ms() + self.settings.reset_link_hours * 60 * MINUTE_MS
        await self.store.execute([(
            "INSERT INTO password_resets (token_hash, account, created_by, created, expires)"
            " VALUES (?, ?, ?, ?, ?)", (hash_token(token), account, issued_by, now_ms(),
                                       expires))])
        return t.ResetLink(path=f"/reset/{token}", expires=expires)

    async def reset_password(self, token: str, password: str) -> None:
        token_hash = hash_token(token)
        (used,) = await self.store.execute([(
            "UPDATE password_resets SET used = 1 WHERE token_hash = ? AND used = 0"
            " AND expires > ?", (token_hash, now_ms()))])
        if not used:
            raise NotFound("this reset link is unknown, used or expired")
        rows = await self.store.fetch(
            "SELECT account FROM password_resets WHERE token_hash = ?", (token_hash,))
        account = rows[0][0]
        password_hash = await self.passwords.hash(password)
        await self.store.execute([
            ("UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account)),
            ("DELETE FROM sessions WHERE account = ?", (account,)),
        ])
        await self.kick(code=CloseCode.SESSION_REVOKED, reason="password was reset",
                        member=account)

    # --- guests ----------------------------------------------------------------------

    async def guest_session(
        self, meta: ClientMeta, *, community: str, room: str, name: str, expires: int,
    ) -> tuple[str, Principal]:
        return await self._new_session(meta, account=None, guest=(name, community, room),
                                       expires=expires)
