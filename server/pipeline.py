"""The command pipeline's shared stages, the same for websocket commands and HTTP calls.

    decode → authorize (``allowed()``) → decide (pure, on a fold) →
    ``append_all`` naming the seqs decided on (+ the audit entry) →
    on :class:`~server.errors.StaleState`: catch the fold up and decide again
    (at most :data:`ATTEMPTS` times, then ``conflict``) → reply

Transports decode and reply; :func:`decided` runs the decide-and-append loop;
:func:`refusal` is the one mapping from an exception to the typed error both
transports answer with.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from .errors import CommandError, Conflict, ErrorCode, StaleState
from .outage import as_unavailable
from .store import AppliedCommand, CommandKey

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
