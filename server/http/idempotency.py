"""HTTP idempotency: an ``Idempotency-Key`` header means what a websocket command's
``ref`` means. The same member sending the same key with the same call (method, path,
body) gets the first answer again and the call is applied once; the same key with
another call is answered ``conflict`` and changes nothing.

Answers are kept per (member, key) with the call's digest in ``http_replies``. A
call is reserved there before it runs, so a second process receiving the same key
meanwhile answers ``conflict`` ("being applied") instead of applying it twice; in
this process a repeat waits for the first answer. Answers that invite a retry
(``rate_limited``, ``unavailable``, ``internal``: nothing was applied) are not kept.
A reservation left by a process that died mid-call is taken over after
:data:`ABANDONED_MS`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from ..authority import now_ms
from ..errors import Conflict, InvalidCommand
from ..store import EventStore

HEADER = "idempotency-key"
MAX_KEY = 128
ABANDONED_MS = 60_000
PENDING = 0


class Answer(NamedTuple):
    status: int
    body: bytes
    """The JSON body; empty for 204."""
    media_type: str = "application/json"
    filename: str | None = None
    """A download's name (a file reply, never kept for a key: those are GETs)."""


def key_of(raw: str | None) -> str | None:
    """The header's key, or None without one; ``invalid`` unless 1 to 128 visible ASCII."""
    if raw is None:
        return None
    if not 0 < len(raw) <= MAX_KEY or not raw.isascii() or not raw.isprintable():
        raise InvalidCommand(f"{HEADER} must be 1 to {MAX_KEY} visible ASCII characters")
    return raw


def digest_of(method: str, path: str, body: bytes) -> str:
    """What was asked, so a reused key with another call can be told apart."""
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), body)).hexdigest()


def _reused(key: str) -> Conflict:
    return Conflict(f"{HEADER} {key!r} was already used for a different call; nothing was "
                    "applied (use a new key for a new call)")


class HttpOnce:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._inflight: dict[tuple[str, str], tuple[asyncio.Future[Answer], str]] = {}

    async def run(self, member: str, key: str, digest: str,
                  answer: Callable[[], Awaitable[Answer]]) -> Answer:
        """The answer to the call keyed ``(member, key)``: the kept one, or ``answer()``'s,
        kept. If ``answer`` raises (a retry is welcome), nothing is kept."""
        running = self._inflight.get((member, key))
        if running is not None:
            if running[1] != digest:
                raise _reused(key)
            return await asyncio.shield(running[0])
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._inflight[(member, key)] = (future, digest)
        try:
            result = await self._run(member, key, digest, answer)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._inflight[(member, key)]

    async def _run(self, member: str, key: str, digest: str,
                   answer: Callable[[], Awaitable[Answer]]) -> Answer:
        now = now_ms()
        (reserved,) = await self.store.execute([(
            "INSERT INTO http_replies (member, key, digest, status, body, created)"
            " VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (member, key) DO NOTHING",
            (member, key, digest, PENDING, now))])
        if not reserved:
            kept = await self._kept(member, key, digest, now)
            if kept is not None:
                return kept
        try:
            result = await answer()
        except BaseException:
            await self._release(member, key)
            raise
        await self.store.execute([(
            "UPDATE http_replies SET status = ?, body = ? WHERE member = ? AND key = ?",
            (result.status, result.body, member, key))])
        return result

    async def _kept(self, member: str, key: str, digest: str, now: int) -> Answer | None:
        """The kept answer; None if an abandoned reservation was taken over."""
        rows = await self.store.fetch(
            "SELECT digest, status, body, created FROM http_replies WHERE member = ? AND key = ?",
            (member, key))
        if not rows:
            raise Conflict(f"{HEADER} {key!r} is being applied; retry")
        kept_digest, status, body, created = rows[0]
        if kept_digest != digest:
            raise _reused(key)
        if status != PENDING:
            return Answer(status, bytes(body or b""))
        (taken,) = await self.store.execute([(
            "UPDATE http_replies SET created = ? WHERE member = ? AND key = ? AND status = ?"
            " AND created = ? AND created < ?",
            (now, member, key, PENDING, created, now - ABANDONED_MS))])
        if not taken:
            raise Conflict(f"{HEADER} {key!r} is being applied; retry")
        return None

    async def _release(self, member: str, key: str) -> None:
        await self.store.execute([(
            "DELETE FROM http_replies WHERE member = ? AND key = ? AND status = ?",
            (member, key, PENDING))])
