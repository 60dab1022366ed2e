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

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import CommandError, Conflict, ErrorCode, StaleState
from .outage import as_unavailable

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
