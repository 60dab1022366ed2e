"""HTTP idempotency: an ``Idempotency-Key`` header means what a websocket command's
``ref`` means. The same member sending the same key with the same call (method, path,
body) gets the first answer again and the call is applied once; the same key with
another call is answered ``conflict`` and changes nothing.

Answers are kept per (member, key) with the call's digest in ``http_replies``. A
call is claimed there before it runs, naming the process that runs it (``owner``), so
a second process receiving the same key meanwhile answers ``conflict`` ("being
applied") instead of applying it twice; in this process a repeat waits for the first
answer. Answers that invite a retry (``rate_limited``, ``unavailable``, ``internal``:
nothing was applied) are not kept.

A claim whose owner is gone (its liveness lease lapsed, see
:class:`~server.cluster.lease.Liveness`; on SQLite, any previous boot) is taken over
by the next retry at once, and so is any claim older than :data:`ABANDONED_MS` (the
owner's liveness cannot be read while Redis is down). The call's own append carries
the store's command key ``(member, "http:" + key)``, so a call whose change committed
before its process died is not applied again: the retry answers from what was
committed (:class:`~server.pipeline.AlreadyApplied`).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from ..authority import now_ms
from ..cluster.lease import Liveness, LocalLeases
from ..errors import Conflict, InvalidCommand
from ..pipeline import AlreadyApplied, keyed_call
from ..store import AppliedCommand, CommandKey, EventStore

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


Replay = Callable[[AppliedCommand], Awaitable[Answer]]
"""The answer to a call whose change was committed before, under its key."""


def command_key(member: str, key: str) -> CommandKey:
    """The store's command key of an HTTP call's append (websocket refs are bare)."""
    return CommandKey(member, f"http:{key}")


def _being_applied(key: str) -> Conflict:
    return Conflict(f"{HEADER} {key!r} is being applied; retry")


class HttpOnce:
    def __init__(self, store: EventStore, liveness: Liveness | None = None) -> None:
        self.store = store
        self.liveness = liveness or Liveness(LocalLeases(), f"local-{uuid.uuid4().hex}")
        self._inflight: dict[tuple[str, str], tuple[asyncio.Future[Answer], str]] = {}

    async def run(self, member: str, key: str, digest: str,
                  answer: Callable[[], Awaitable[Answer]], replay: Replay) -> Answer:
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
            result = await self._run(member, key, digest, answer, replay)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._inflight[(member, key)]

    async def _run(self, member: str, key: str, digest: str,
                   answer: Callable[[], Awaitable[Answer]], replay: Replay) -> Answer:
        owner = self.liveness.process
        (claimed,) = await self.store.execute([(
            "INSERT INTO http_replies (member, key, digest, status, body, created, owner)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (member, key) DO NOTHING",
            (member, key, digest, PENDING, now_ms(), owner))])
        applied = None
        if not claimed:
            kept = await self._kept(member, key, digest)
            if kept is not None:
                return kept
            # Taken over from a dead owner: did its change commit before it died?
            applied = await self.store.applied_command(command_key(member, key))
        try:
            if applied is not None:
                result = await replay(applied)
            else:
                try:
                    with keyed_call(command_key(member, key), digest):
                        result = await answer()
                except AlreadyApplied as done:  # committed by an owner that died
                    result = await replay(done.applied)
        except BaseException:
            await self._release(member, key)
            raise
        await self.store.execute([(
            "UPDATE http_replies SET status = ?, body = ? WHERE member = ? AND key = ?"
            " AND owner = ?", (result.status, result.body, member, key, owner))])
        return result

    async def _kept(self, member: str, key: str, digest: str) -> Answer | None:
        """The kept answer; None if the claim of a dead owner was taken over."""
        rows = await self.store.fetch(
            "SELECT digest, status, body, created, owner FROM http_replies"
            " WHERE member = ? AND key = ?", (member, key))
        if not rows:
            raise _being_applied(key)  # released just now: its owner failed; retry
        kept_digest, status, body, created, owner = rows[0]
        if kept_digest != digest:
            raise _reused(key)
        if status != PENDING:
            return Answer(status, bytes(body or b""))
        now = now_ms()
        # This process's own claim, not running here (see run): left by a call whose
        # end could not be written; another's: running while its process lives.
        working = owner != self.liveness.process and await self.liveness.alive(owner)
        if working and created >= now - ABANDONED_MS:
            raise _being_applied(key)
        (taken,) = await self.store.execute([(
            "UPDATE http_replies SET owner = ?, created = ? WHERE member = ? AND key = ?"
            " AND status = ? AND owner = ? AND created = ?",
            (self.liveness.process, now, member, key, PENDING, owner, created))])
        if not taken:
            raise _being_applied(key)  # another retry took it over first
        return None

    async def _release(self, member: str, key: str) -> None:
        await self.store.execute([(
            "DELETE FROM http_replies WHERE member = ? AND key = ? AND status = ?"
            " AND owner = ?", (member, key, PENDING, self.liveness.process))])
