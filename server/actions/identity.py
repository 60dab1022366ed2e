"""Accounts and sign-in sessions: sign up, sign in and out, sessions, profile, export,
account deletion, password resets and guest sessions.

Tokens are random, shown once (in a cookie or a link) and stored as SHA-256
hashes (password resets: :mod:`server.actions.resets`). Sign-out, revocation and resets
close the affected sockets through ``kick`` (in every process).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..authority import Principal, now_ms
from ..domain import room as room_fold
from ..domain.events import MemberRenamed, MessagePosted, community_stream
from ..domain.names import readable_name
from ..errors import AuthFailed, CloseCode, Conflict, InvalidCommand, NotFound, RateLimited
from ..folds import Folds
from ..http import api_types as t
from ..passwords import Passwords
from ..passwords import hash_token as hash_token  # re-exported: communities uses it
from ..ratelimit import Attempts, address_key
from ..settings import Settings
from ..store import EventStore
from ..store.base import decode_body
from .resets import Resets

Kick = Callable[..., Awaitable[None]]
"""``kick(code=, reason=, session=|member=[, community=])``: close matching sockets."""

MINUTE_MS = 60_000
TOUCH_EVERY_MS = 5 * MINUTE_MS
SIGNIN_WINDOW_S = 15 * 60
SIGNUP_WINDOW_S = 60 * 60


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
        self.resets = Resets(store, folds, passwords, kick, settings.reset_link_hours)
        self.end_memberships: Callable[[str], Awaitable[None]] | None = None
        """Leave every community (the last owner may not): ``Communities.forget``."""

    # --- sessions --------------------------------------------------------------------

    async def principal(self, token: str | None, address: str = "") -> Principal | None:
        """The live session a cookie stands for (on a request or socket from
        ``address``); None when unknown or expired."""
        if not token or len(token) > 128:
            return None
        rows = await self.store.fetch(
            "SELECT s.id, s.account, s.guest_name, s.community, s.room, s.csrf, s.expires,"
            " s.last_seen, a.name, s.invite, s.guest_session FROM sessions s"
            " LEFT JOIN accounts a ON a.id = s.account WHERE s.token_hash = ?",
            (hash_token(token),))
        if not rows:
            return None
        (session, account, guest_name, community, room, csrf, expires, seen, name,
         invite, guest_session) = rows[0]
        now = now_ms()
        if expires <= now:
            return None
        if now - seen > TOUCH_EVERY_MS:
            await self.store.execute([("UPDATE sessions SET last_seen = ? WHERE id = ?",
                                       (now, session))])
        if account is None:  # names stored before today's rules read with a placeholder
            return Principal(session=session, member=f"g-{session}",
                             name=readable_name(guest_name),
                             account=None, csrf=csrf, guest_community=community,
                             guest_room=room, guest_invite=invite,
                             guest_session=guest_session, expires=expires,
                             address=address)
        return Principal(session=session, member=account, name=readable_name(name),
                         account=account, csrf=csrf, expires=expires, address=address)

    async def _new_session(
        self, meta: ClientMeta, *, account: str | None,
        guest: tuple[str, str, str, str, str | None] | None = None,
        expires: int | None = None,
    ) -> tuple[str, Principal]:
        token, session, csrf = (secrets.token_urlsafe(32), secrets.token_hex(8),
                                secrets.token_urlsafe(24))
        now = now_ms()
        expires = expires or now + self.settings.session_days * 24 * 60 * MINUTE_MS
        name, community, room, invite, guest_session = guest or (None, None, None, None, None)
        # A guest's session is kept only if its link is unrevoked when the transaction
        # commits: a revocation either comes first (and this is undone at once) or
        # sees the session and ends it.
        (_, undone) = await self.store.execute([
            ("INSERT INTO sessions (id, token_hash, account, guest_name, community, room,"
             " csrf, created, last_seen, expires, user_agent, address, invite, guest_session)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (session, hash_token(token), account, name, community, room, csrf, now, now,
              expires, meta.user_agent[:200], meta.address[:64], invite, guest_session)),
            ("DELETE FROM sessions WHERE id = ? AND invite IN"
             " (SELECT id FROM invites WHERE revoked = 1)", (session,)),
        ])
        if undone:
            raise NotFound("this link is unknown, used up, revoked or expired")
        principal = await self.principal(token, meta.address)
        assert principal is not None
        return token, principal

    async def sign_up(self, body: t.SignUp, meta: ClientMeta) -> tuple[str, Principal]:
        if not await self.attempts.reserve(f"signup:addr:{address_key(meta.address)}",
                                           self.settings.signups_per_hour_per_address,
                                           SIGNUP_WINDOW_S, time.time()):
            raise RateLimited("too many sign-ups from this address; try again later",
                              retry_after_ms=SIGNUP_WINDOW_S * 1000)
        password_hash = await self.passwords.hash(body.password)
        account = "m-" + secrets.token_hex(8)
        (inserted,) = await self.store.execute([(
            "INSERT INTO accounts (id, login, password_hash, name, created)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
            (account, body.login.lower(), password_hash, body.name, now_ms()))])
        if not inserted:
            raise Conflict("that login is taken")
        return await self._new_session(meta, account=account)

    def signin_limits(self, login: str, address: str) -> list[tuple[str, int]]:
        """Failed sign-ins are counted per (login, address), the tight limit; per login,
        a higher ceiling against guessing from many addresses; and per address. So a
        stranger failing from elsewhere uses up their own allowance, not the owner's."""
        s, address = self.settings, address_key(address)
        return [(f"signin:pair:{login}|{address}", s.signin_failures_per_login_address),
                (f"signin:account:{login}", s.signin_failures_per_account),
                (f"signin:addr:{address}", s.signin_failures_per_address)]

    async def sign_in(self, body: t.SignIn, meta: ClientMeta) -> tuple[str, Principal]:
        login = body.login.lower()
        limits = self.signin_limits(login, meta.address)
        # Each attempt is counted as a failure *before* the password is hashed, so
        # concurrent guesses cannot all pass the same check; a success gives it back.
        reserved: list[str] = []
        for key, limit in limits:
            if not await self.attempts.reserve(key, limit, SIGNIN_WINDOW_S, time.time()):
                for taken in reserved:
                    await self.attempts.release(taken)
                raise RateLimited("too many failed sign-ins; wait 15 minutes",
                                  retry_after_ms=SIGNIN_WINDOW_S * 1000)
            reserved.append(key)
        rows = await self.store.fetch("SELECT id, password_hash FROM accounts WHERE login = ?",
                                      (login,))
        stored = rows[0][1] if rows else None
        if not await self.passwords.verify(stored, body.password):
            raise AuthFailed("wrong login or password")
        await self.attempts.clear(limits[0][0])
        for key, _ in limits[1:]:
            await self.attempts.release(key)
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
        return t.Profile(id=rows[0][0], login=rows[0][1], name=readable_name(rows[0][2]),
                         pronouns=rows[0][3],
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
            ("pronouns", body.pronouns), ("timezone", body.timezone),
            ("practice", body.practice)) if v is not None}
        if body.name is not None:  # already normalized and validated by its type
            changes["name"] = body.name
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
            body = decode_body(bytes(raw) if raw is not None else None, f"{stream} seq {seq}")
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
        assert self.end_memberships is not None, "the app wires Communities.forget here"
        await self.end_memberships(account)
        await self.store.execute([("DELETE FROM sessions WHERE account = ?", (account,)),
                                  ("DELETE FROM accounts WHERE id = ?", (account,))])
        await self.kick(code=CloseCode.AUTH_FAILED, reason="account deleted", member=account)

    # --- guests ----------------------------------------------------------------------

    async def guest_session(
        self, meta: ClientMeta, *, community: str, room: str, name: str, expires: int,
        invite: str, session: str | None = None,
    ) -> tuple[str, Principal]:
        return await self._new_session(meta, account=None, expires=expires,
                                       guest=(name, community, room, invite, session))
