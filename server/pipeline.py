"""The command pipeline's shared stages, the same for websocket commands and HTTP calls.

    decode → (apply once per key) → authorize (``allowed()``) → decide (pure, on a fold)
    → ``append_all`` naming the seqs decided on (+ the audit entry, + the command key)
    → on :class:`~server.errors.StaleState`: catch the fold up and decide again
    (at most :data:`ATTEMPTS` times, then ``conflict``) → fold, fan out → reply

Transports decode and reply; :func:`decided` runs the decide-and-append loop;
:class:`Once` applies a websocket command at most once per (member, ``ref``) and
answers a repeat with the first answer (HTTP's ``Idempotency-Key`` is
:mod:`server.http.idempotency`, the same contract); :func:`refusal` is the one mapping
from an exception to the typed error both transports answer with.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from .domain.events import EventBody
from .errors import CommandError, Conflict, ErrorCode, StaleState
from .outage import as_unavailable
from .store import AppendResult, AppliedCommand, CommandKey, EventStore

log = logging.getLogger("practica.pipeline")

ATTEMPTS = 5
"""How many times a change decided on a stale state is decided again before ``conflict``."""

T = TypeVar("T")
Sync = Callable[[str], Awaitable[None]]
"""``sync(stream)``: bring this process's fold of the stream up to the store's head."""


async def decided(attempt: Callable[[], Awaitable[T]], sync: Sync,
                  attempts: int = ATTEMPTS) -> T:
    """Run ``attempt`` (read the fold, authorize, decide, append naming the seqs it decided
    on) until it is not stale: each :class:`StaleState` catches the stale stream's fold
    up and decides again, on the new state (which may now refuse). After ``attempts``
    the answer is ``conflict``; nothing was written by any stale attempt."""
    for _ in range(attempts):
        try:
            return await attempt()
        except StaleState as stale:
            await sync(stale.stream)
    raise Conflict("the state kept changing meanwhile; try again")


@dataclass(slots=True)
class KeyedCall:
    """An HTTP call sent with an ``Idempotency-Key``: its first append carries the
    store's command key, so the call's change is made at most once even when the
    process running it dies after the commit and a retry runs it again."""

    key: CommandKey
    digest: str
    used: bool = False


_keyed: ContextVar[KeyedCall | None] = ContextVar("practica_keyed_call", default=None)


@contextlib.contextmanager
def keyed_call(key: CommandKey, digest: str) -> Iterator[None]:
    """Run the call in this block under ``key`` (see :func:`call_key`)."""
    token = _keyed.set(KeyedCall(key, digest))
    try:
        yield
    finally:
        _keyed.reset(token)


def call_key() -> KeyedCall | None:
    """The running call's key for its first append, or None (no key, or used already).
    The appender marks it ``used`` once an append returned (a stale one did not use it)."""
    keyed = _keyed.get()
    return keyed if keyed is not None and not keyed.used else None


class AlreadyApplied(Exception):
    """The call's change was committed before, under its key (by a process that died
    before answering): nothing was appended again; answer from what was committed."""

    def __init__(self, applied: AppliedCommand) -> None:
        super().__init__(f"applied before at {applied.stream} seq {applied.seq}")
        self.applied = applied


Parts = Sequence[tuple[str, list[EventBody], int | None]]
"""What a decision appends: ``(stream, events, expected seq or None)``, first the
command's own stream, then any others in its transaction (its audit entry)."""


async def append_keyed(store: EventStore, parts: Parts, actor: str | None, *,
                       also: list[tuple[str, tuple[Any, ...]]] | None = None,
                       ) -> list[AppendResult]:
    """``append_all`` carrying the running HTTP call's key (:func:`call_key`), if any, so
    the call's change is made at most once: a change committed before under the key
    (its process died before answering) raises :class:`AlreadyApplied`. ``also``: the
    store's statements run with the events (only when they are written)."""
    keyed = call_key()
    if keyed is None:
        return await store.append_all(list(parts), actor, also=also)
    results = await store.append_all(list(parts), actor, keyed.key, keyed.digest, also=also)
    keyed.used = True
    first = results[0]
    if first.conflict:
        raise Conflict(f"the key {keyed.key.ref!r} was already used for another command")
    if first.duplicate:
        raise AlreadyApplied(AppliedCommand(first.stream, first.seq, keyed.digest))
    return results


@contextlib.contextmanager
def keyed_step(step: str) -> Iterator[None]:
    """One of several changes a keyed call makes (each file of an import), under a key
    of its own made from the call's and ``step``: a retry of the call after its process
    died finds each step committed before (:class:`AlreadyApplied`) and makes the rest."""
    outer = _keyed.get()
    if outer is None:
        yield
        return
    mark = hashlib.sha256(step.encode()).hexdigest()[:16]
    with keyed_call(CommandKey(outer.key.member, f"{outer.key.ref}#{mark}"), outer.digest):
        yield


class Outcome(NamedTuple):
    """A command's answer: the stream it was applied to and the seq that carried it
    (None when it changed nothing)."""

    stream: str
    seq: int | None


NOTHING = 0
"""The seq kept for a command that changed nothing (a join of someone present)."""


class Once:
    """Apply a websocket command at most once per (member, ref); a repeat gets the same
    answer. The same ref with a different command (its digest: type and fields) is
    refused with ``conflict``: answering it with the first command's answer would hide
    that it was never applied.

    A command that appends records its key in its append's transaction
    (:meth:`appended`). A presence change (join, leave) is appended with the room's
    other changes of the tick, so its key is recorded right after (:meth:`applied`):
    if the process dies in between, a repeat is applied again, which for presence
    changes the same state (present, or not) and may answer another seq."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._inflight: dict[CommandKey, tuple[asyncio.Future[Outcome], str]] = {}

    async def appended(self, member: str, ref: str | None, digest: str,
                       decide: Callable[[], Awaitable[Parts]], sync: Sync) -> Outcome:
        """Decide and append (:func:`decided`), once per ``ref``."""
        async def attempt(key: CommandKey | None) -> Outcome:
            async def once() -> Outcome:
                parts = await decide()
                if not parts[0][1]:  # the command's own stream gets nothing: nothing changes
                    return Outcome(parts[0][0], None)
                (first, *_) = await self.store.append_all(list(parts), member, key, digest)
                if first.conflict:
                    raise reused(ref or "")
                return Outcome(first.stream, first.seq)
            return await decided(once, sync)

        return await self._keyed(member, ref, digest, attempt)

    async def applied(self, member: str, ref: str | None, digest: str,
                      apply: Callable[[], Awaitable[Outcome]], *,
                      local: Callable[[], Awaitable[None]] | None = None) -> Outcome:
        """Run ``apply`` (which appends by itself), once per ``ref``; its answer is kept.
        ``local`` is what the command does to the socket that sent it (subscribe,
        unsubscribe): run before it is applied and before a repeat is answered, never
        when the ref is refused as reused."""
        async def attempt(key: CommandKey | None) -> Outcome:
            if local is not None:
                await local()
            outcome = await apply()
            if key is not None:
                await self.store.record_command(
                    key, outcome.stream, NOTHING if outcome.seq is None else outcome.seq,
                    digest)
            return outcome

        return await self._keyed(member, ref, digest, attempt, local)

    async def _keyed(self, member: str, ref: str | None, digest: str,
                     first: Callable[[CommandKey | None], Awaitable[Outcome]],
                     again: Callable[[], Awaitable[None]] | None = None) -> Outcome:
        if ref is None:
            return await first(None)
        key = CommandKey(member, ref)
        running = self._inflight.get(key)
        if running is not None:  # the same command twice at once: the second waits
            if running[1] != digest:
                raise reused(ref)
            return await asyncio.shield(running[0])
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._inflight[key] = (future, digest)
        try:
            found = await self.store.applied_command(key)
            if found is not None:
                if found.digest and digest and found.digest != digest:
                    raise reused(ref)
                if again is not None:
                    await again()
                outcome = Outcome(found.stream, found.seq or None)
            else:
                outcome = await first(key)
            future.set_result(outcome)
            return outcome
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._inflight[key]


def reused(ref: str) -> Conflict:
    """The refusal of a ref already used for a different command."""
    return Conflict(f"ref {ref!r} was already used for a different command; nothing was "
                    "applied (use a new ref for a new command)")


def refusal(exc: BaseException, where: str = "command") -> CommandError:
    """The typed error a failed command or call is answered with, on either transport.

    A refusal is itself; a store that could not make the change durable is
    ``unavailable`` (retry); a stale decision that escaped the loop is ``conflict``;
    anything else is a bug, logged, and ``internal``. In every case nothing was applied."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, StaleState):
        return Conflict(f"not applied: {exc}; try again")
    unavailable = as_unavailable(exc)  # an outage (store, disk, Redis): retry later
    if unavailable is not None:
        return unavailable
    log.error("%s failed", where, exc_info=exc)
    return CommandError("server error; nothing was applied", code=ErrorCode.INTERNAL)
